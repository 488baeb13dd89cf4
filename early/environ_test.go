//go:build linux

package early_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEnvironWiped checks that no gons_* value is left where the kernel
// shows the environment the process started with, /proc/PID/environ, and
// that a C child, which gets the C library's environ, sees neither gons_*
// variables nor the empty entries that keep Go's view of the environment
// in place.
func TestEnvironWiped(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"gons_wd=" + dir, "gons_net=", "GONS_TEST_KEPT=1"}
			r := runProbe(t, f, env, "-system", filepath.Join(t.TempDir(), "environ"))
			if r.Err != nil || r.Cwd != dir {
				t.Fatalf("Err() = %+v, working directory %q; want nil, %q", r.Err, r.Cwd, dir)
			}
			checkClean(t, r)
			// What /proc/PID/environ shows: the names, their values overwritten by NULs.
			if !slices.Contains(r.ProcEnv, "GONS_TEST_KEPT=1") || !slices.Contains(r.ProcEnv, "gons_wd=") {
				t.Errorf("/proc/self/environ: %q, want GONS_TEST_KEPT=1 and gons_wd= among its entries", r.ProcEnv)
			}
			if !slices.Contains(r.SystemEnv, "GONS_TEST_KEPT=1") {
				t.Errorf("system(3)'s shell got %q, without GONS_TEST_KEPT=1", r.SystemEnv)
			}
			for _, kv := range r.SystemEnv {
				if kv == "" || strings.HasPrefix(kv, "gons_") {
					t.Errorf("system(3)'s shell got the entry %q", kv)
				}
			}
		})
	}
}

// TestEnvironWipedPid checks /proc/PID/environ of the program that runs in
// the target PID namespace and of the relay outside it.
func TestEnvironWipedPid(t *testing.T) {
	h := startHolder(t)
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			r := runProbe(t, f, h.env("pid"))
			if r.Err != nil || r.ProcEnv == nil {
				t.Fatalf("Err() = %+v, /proc/self/environ %q", r.Err, r.ProcEnv)
			}
			checkWiped(t, "/proc/self/environ", r.ProcEnv)
		})
	}
	relay := startWaiting(t, h).Process.Pid
	b, err := os.ReadFile("/proc/" + strconv.Itoa(relay) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	checkWiped(t, "the relay's environ", splitEnviron(b))
}

// splitEnviron splits the contents of an environ file into its entries.
func splitEnviron(b []byte) []string {
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// TestReexecFD checks that GONS_REEXEC_FD's value is handed over to
// package reexec through the record and removed like gons_* variables, and
// that a malformed value is refused by name.
func TestReexecFD(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			r := runProbe(t, f, []string{"GONS_REEXEC_FD=7", "gons_net="})
			if r.Err != nil || r.ReexecFD != 7 {
				t.Errorf("Err() = %+v, fd handed over %d; want nil, 7", r.Err, r.ReexecFD)
			}
			checkClean(t, r)
			r = runProbe(t, f, []string{"GONS_REEXEC_FD=seven"})
			if r.Err == nil || r.Err.Op != "parse" || !strings.Contains(r.Err.Msg, `GONS_REEXEC_FD: "seven" is not a file descriptor`) || r.ReexecFD != -1 {
				t.Errorf("Err() = %+v, fd handed over %d; want a parse error that names GONS_REEXEC_FD, -1", r.Err, r.ReexecFD)
			}
			checkClean(t, r)
		})
	}
}
