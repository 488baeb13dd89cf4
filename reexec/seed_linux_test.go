package reexec_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gonsproject/gons/reexec"
)

// Actions written for thediveo/gons: they read their parameter from
// standard input and may not return after printing their result.
func init() {
	reexec.Register("stdinparam", func() {
		var p stdinParam
		if err := json.NewDecoder(os.Stdin).Decode(&p); err != nil {
			fmt.Fprintln(os.Stderr, "decoding stdin:", err)
			os.Exit(1)
		}
		var again stdinParam
		if err := reexec.DecodeParam(&again); err != nil || again != p {
			fmt.Fprintln(os.Stderr, "DecodeParam disagrees:", again, err)
			os.Exit(1)
		}
		fmt.Println(2 * p.N)
	})
	reexec.Register("printhang", func() {
		fmt.Println(`{"done": true}`)
		time.Sleep(time.Hour)
	})
}

// stdinParam is the parameter of the stdinparam action.
type stdinParam struct {
	N   int
	Pad string
}

// TestSeedStdinParam checks that a plain action reads its parameter from
// standard input, whether it fits a pipe or not.
func TestSeedStdinParam(t *testing.T) { forEachPath(t, seedStdinParam) }

func seedStdinParam(t *testing.T) {
	for _, pad := range []int{0, 4000, 4096, 256 << 10} {
		var got int
		p := stdinParam{N: 21 + pad, Pad: strings.Repeat("p", pad)}
		if err := reexec.RunReexecAction("stdinparam", reexec.Param(p), reexec.Result(&got)); err != nil {
			t.Fatalf("%d bytes of padding: %v", pad, err)
		}
		if got != 2*p.N {
			t.Fatalf("%d bytes of padding: got %d, want %d", pad, got, 2*p.N)
		}
	}
}

func TestSeedExitAfterResult(t *testing.T) {
	var got int
	if err := reexec.RunReexecAction("plainexit0", reexec.Result(&got)); err != nil {
		t.Fatal(err)
	}
	if got != 42 {
		t.Fatalf("got %d, want 42", got)
	}
}

// TestSeedHangAfterResult runs a plain action that prints its result and
// sleeps: it is killed after ResultGrace and its result returned.
func TestSeedHangAfterResult(t *testing.T) {
	noLeaks(t)
	var got struct {
		Done bool `json:"done"`
	}
	if err := reexec.RunReexecAction("printhang", reexec.Result(&got)); err != nil {
		t.Fatal(err)
	}
	if !got.Done {
		t.Fatalf("got %+v, want the printed result", got)
	}
}
