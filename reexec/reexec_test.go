package reexec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/reexec/cover"
)

// TestMain runs actions in re-executed children and keeps their coverage.
func TestMain(m *testing.M) {
	if os.Getenv("GONS_TEST_EXIT") != "" {
		os.Exit(0) // BenchmarkExecBaseline
	}
	if os.Getenv("GONS_TEST_NO_CHECK") != "" {
		// TestNotChecked: a program that forgot CheckAction.
		fmt.Println(reexec.RunReexecAction("silent"))
		os.Exit(0)
	}
	cover.Run(m)
}

type payload struct {
	Text  string `json:"text"`
	Bytes []byte `json:"bytes,omitempty"`
	N     int    `json:"n"`
}

func init() {
	reexec.Register("double", func() {
		var n int
		if err := reexec.DecodeParam(&n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(2 * n)
	})
	reexec.Register("noparam", func() {
		var n int
		fmt.Println(errors.Is(reexec.DecodeParam(&n), reexec.ErrNoParam))
	})
}

var (
	// echo returns its parameter, after writing noise to standard output.
	echo = reexec.RegisterFunc("echo", func(p payload) (payload, error) {
		fmt.Println("noise on stdout that must not reach the result")
		p.N++
		return p, nil
	})
	// environ returns the child's environment.
	environ = reexec.RegisterFunc("environ", func(struct{}) ([]string, error) {
		return os.Environ(), nil
	})
	// say writes its parameter to standard output and standard error.
	say = reexec.RegisterFunc("say", func(s string) (struct{}, error) {
		fmt.Fprint(os.Stdout, "out:"+s)
		fmt.Fprint(os.Stderr, "err:"+s)
		return struct{}{}, nil
	})
)

// TestAnswer runs the example of thediveo/gons's README, whose API reexec
// keeps: a plain action that prints its result.
func TestAnswer(t *testing.T) {
	var answer int
	if err := reexec.RunReexecAction("answertoeverything", reexec.Result(&answer)); err != nil {
		t.Fatal(err)
	}
	if answer != 42 {
		t.Fatalf("answer = %d, want 42", answer)
	}
}

func TestPlainParam(t *testing.T) {
	var got int
	if err := reexec.RunReexecAction("double", reexec.Param(21), reexec.Result(&got)); err != nil {
		t.Fatal(err)
	}
	if got != 42 {
		t.Fatalf("got %d, want 42", got)
	}
	var none bool
	if err := reexec.RunReexecAction("noparam", reexec.Result(&none)); err != nil {
		t.Fatal(err)
	}
	if !none {
		t.Fatal("DecodeParam without a Param did not return ErrNoParam")
	}
}

func TestDecodeParamOutsideAction(t *testing.T) {
	var v int
	if err := reexec.DecodeParam(&v); err == nil {
		t.Fatal("DecodeParam outside an action succeeded")
	}
}

func TestFuncRoundTrip(t *testing.T) {
	if echo.Name() != "echo" {
		t.Fatalf("Name() = %q", echo.Name())
	}
	got, err := echo.Run(context.Background(), payload{Text: "hello", N: 41})
	if err != nil {
		t.Fatal(err)
	}
	if want := (payload{Text: "hello", N: 42}); got.Text != want.Text || got.N != want.N {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	// The same action by name, through the untyped API.
	var res payload
	if err := reexec.RunReexecAction("echo", reexec.Param(payload{N: 1}), reexec.Result(&res)); err != nil {
		t.Fatal(err)
	}
	if res.N != 2 {
		t.Fatalf("by name: got %+v", res)
	}
}

func TestFuncRefusesParamAndResult(t *testing.T) {
	var r payload
	_, err := echo.Run(context.Background(), payload{}, reexec.Result(&r))
	var e *reexec.Error
	if !errors.As(err, &e) || e.Op != "option" || e.Action != "echo" {
		t.Fatalf("got %v, want an option error of echo", err)
	}
}

// TestLarge passes a 64 MiB parameter and gets a 64 MiB result back.
func TestLarge(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
	got, err := echo.Run(context.Background(), payload{Bytes: big})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes, big) {
		t.Fatalf("got %d bytes back, want %d equal ones", len(got.Bytes), len(big))
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("gons_net", "/proc/1/ns/net")
	t.Setenv("gons_order", "net")
	t.Setenv("GONS_TEST_INHERITED", "yes")
	env, err := environ.Run(context.Background(), struct{}{},
		reexec.Environment([]string{"GONS_TEST_ADDED=1", "GONS_TEST_INHERITED=overridden"}))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "gons_") || strings.HasPrefix(k, "GONS_REEXEC_") {
			t.Errorf("child inherited %s", kv)
		}
		vars[k] = v
	}
	if vars["GONS_TEST_ADDED"] != "1" || vars["GONS_TEST_INHERITED"] != "overridden" {
		t.Errorf("child environment lacks the added variables: %q", env)
	}
}

func TestEnvironmentRefusesReserved(t *testing.T) {
	for _, kv := range []string{"gons_net=/proc/1/ns/net", "GONS_REEXEC_FD=3"} {
		_, err := environ.Run(context.Background(), struct{}{}, reexec.Environment([]string{kv}))
		var e *reexec.Error
		if !errors.As(err, &e) || e.Op != "option" || !strings.Contains(err.Error(), kv) {
			t.Errorf("Environment(%q): got %v, want an option error naming it", kv, err)
		}
	}
}

func TestStdoutStderr(t *testing.T) {
	var out, errb bytes.Buffer
	if _, err := say.Run(context.Background(), "hi", reexec.Stdout(&out), reexec.Stderr(&errb)); err != nil {
		t.Fatal(err)
	}
	if out.String() != "out:hi" || errb.String() != "err:hi" {
		t.Fatalf("stdout %q, stderr %q", out.String(), errb.String())
	}
}

func TestRegisterPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"empty name": func() { reexec.Register("", func() {}) },
		"duplicate":  func() { reexec.Register("echo", func() {}) },
		"nil":        func() { reexec.Register("nil-action", nil) },
		"typed dup":  func() { reexec.RegisterFunc("answertoeverything", func(int) (int, error) { return 0, nil }) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

// grandchildFDs returns what the descriptors of a shell that the action
// starts point to.
var grandchildFDs = reexec.RegisterFunc("grandchildfds", func(struct{}) (string, error) {
	out, err := exec.Command("sh", "-c", `ls -l /proc/$$/fd/`).Output()
	return string(out), err
})

func TestSocketDoesNotLeak(t *testing.T) {
	testutil.RequireTool(t, "sh")
	fds, err := grandchildFDs.Run(context.Background(), struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fds, "socket:") {
		t.Fatalf("a process the action started inherited a socket:\n%s", fds)
	}
}

// nested runs echo from inside an action.
var nested = reexec.RegisterFunc("nested", func(n int) (int, error) {
	p, err := echo.Run(context.Background(), payload{N: n})
	return p.N, err
})

func TestNested(t *testing.T) {
	n, err := nested.Run(context.Background(), 1)
	if err != nil || n != 2 {
		t.Fatalf("got %d, %v; want 2", n, err)
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := failErrno.Run(context.Background(), struct{}{})
	want := `reexec "failerrno": action: opening the thing: no such file or directory; stderr: "marker:failerrno"`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}
