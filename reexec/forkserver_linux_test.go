package reexec_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

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
