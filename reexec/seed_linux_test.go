package reexec_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gonsproject/gons/reexec"
)

// Actions written for thediveo/gons: they read their parameter from
// standard input and may not return after printing their result.
func init() {
	reexec.Register("stdinparam", func() {
		var p struct{ N int }
		if err := json.NewDecoder(os.Stdin).Decode(&p); err != nil {
			fmt.Fprintln(os.Stderr, "decoding stdin:", err)
			os.Exit(1)
		}
		var again struct{ N int }
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

func TestSeedStdinParam(t *testing.T) {
	var got int
	if err := reexec.RunReexecAction("stdinparam", reexec.Param(struct{ N int }{21}), reexec.Result(&got)); err != nil {
		t.Fatal(err)
	}
	if got != 42 {
		t.Fatalf("got %d, want 42", got)
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
