package reexec_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
	_ "github.com/gonsproject/gons/reexec/forkserver" // the test binary has a fork server
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// forEachPath runs f as a subtest once through the fork server and once
// by exec. The fork subtest fails unless the server started a child, and
// unless the server then holds nothing but its socket and has no child.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			usePath(t, p.fork)
			before := spawn.Spawned()
			f(t)
			if !p.fork || t.Failed() {
				return
			}
			if spawn.Spawned() == before {
				t.Error("the fork server started no child")
			}
			server := strconv.Itoa(spawn.PID())
			if fds, err := filepath.Glob("/proc/" + server + "/fd/*"); err != nil || len(fds) != 1 {
				t.Errorf("the fork server holds descriptors %v (%v), want its socket alone", fds, err)
			}
			kids, _ := filepath.Glob("/proc/" + server + "/task/*/children")
			for _, k := range kids {
				if b, _ := os.ReadFile(k); len(strings.TrimSpace(string(b))) != 0 {
					t.Errorf("the fork server has children %s: they must be the program's", b)
				}
			}
		})
	}
}

// usePath makes the test's calls go through the fork server (fork true)
// or exec.
func usePath(t *testing.T, fork bool) {
	t.Helper()
	if !fork {
		reexec.ExecOnly(t)
	} else if spawn.PID() == 0 {
		testutil.Unavailable(t, "the test binary has no fork server")
	}
}

// notServer drops the fork server's PID from pids: a child of the test
// binary for its whole life.
func notServer(pids []string) []string {
	return slices.DeleteFunc(pids, func(p string) bool { return p == strconv.Itoa(spawn.PID()) })
}

// TestPIDRelaySignal sends SIGTERM to the relay of a child in a PID
// namespace: the relay passes it on, and the run ends with the action
// killed by it, forked or exec'd.
func TestPIDRelaySignal(t *testing.T) {
	requireSwitching(t)
	pid := holder(t, "true")
	forEachPath(t, func(t *testing.T) {
		before := children(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ready := make(chan struct{})
		stderr := &cancelOn{word: "ready", cancel: func() { close(ready) }}
		done := make(chan error, 1)
		go func() {
			_, err := pidSleeper.Run(ctx, struct{}{}, reexec.Stderr(stderr), reexec.Namespaces([]reexec.Namespace{
				{Type: "pid", Path: fmt.Sprintf("/proc/%d/ns/pid", pid)},
			}))
			done <- err
		}()
		<-ready
		relay := slices.DeleteFunc(children(t), func(p string) bool { return slices.Contains(before, p) })
		if len(relay) != 1 {
			t.Fatalf("children %v, want the relay alone", relay)
		}
		n, _ := strconv.Atoi(relay[0])
		if err := syscall.Kill(n, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err := <-done
		if ctx.Err() != nil || err == nil || !strings.Contains(err.Error(), "signal: terminated") {
			t.Fatalf("got %v (context: %v), want the action killed by SIGTERM", err, ctx.Err())
		}
	})
}

// TestEnvironmentInherited checks that the child has the parent's
// environment at the call, whether it is the one the program started with
// or one the program changed since.
func TestEnvironmentInherited(t *testing.T) { forEachPath(t, environmentInherited) }

func environmentInherited(t *testing.T) {
	inherited := func() []string {
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "gons_") && !strings.HasPrefix(kv, "GONS_REEXEC_") &&
				!strings.HasPrefix(kv, "GOCOVERDIR=") {
				env = append(env, kv)
			}
		}
		slices.Sort(env)
		return env
	}
	check := func(what string) {
		t.Helper()
		got, err := environ.Run(context.Background(), struct{}{})
		if err != nil {
			t.Fatal(err)
		}
		got = slices.DeleteFunc(got, func(kv string) bool { return strings.HasPrefix(kv, "GOCOVERDIR=") })
		slices.Sort(got)
		if want := inherited(); !slices.Equal(got, want) {
			t.Errorf("%s: the child's environment\n%q\nis not the parent's\n%q", what, got, want)
		}
	}
	check("as the program started")
	k, v, _ := strings.Cut(inherited()[0], "=")
	t.Setenv(k, v) // restored at the end
	os.Unsetenv(k)
	check("without " + k)
	t.Setenv("GONS_TEST_SET_SINCE", "1")
	check("with a variable set since")
}

// TestStdoutStderrSameWriter gives one writer as both Stdout and
// Stderr: both streams arrive, written one at a time (the race detector
// checks that).
func TestStdoutStderrSameWriter(t *testing.T) { forEachPath(t, stdoutStderrSameWriter) }

func stdoutStderrSameWriter(t *testing.T) {
	for range 3 {
		var b bytes.Buffer
		if _, err := say.Run(context.Background(), "hi", reexec.Stdout(&b), reexec.Stderr(&b)); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != "out:hierr:hi" && got != "err:hiout:hi" {
			t.Fatalf("got %q, want out:hi and err:hi", got)
		}
	}
}
