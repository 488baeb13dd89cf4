package reexec_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// TestRootRelativeDir checks that a relative Dir is resolved under Root,
// never against the caller's directory outside it: from a directory that
// holds "outside", Dir("outside") fails and Dir("sub") reaches the root's
// sub; on both start paths.
func TestRootRelativeDir(t *testing.T) { forEachPath(t, rootRelativeDir) }

func rootRelativeDir(t *testing.T) {
	requireSwitching(t)
	root, caller := t.TempDir(), t.TempDir()
	for _, d := range []string{filepath.Join(root, "sub"), filepath.Join(caller, "outside")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "inroot"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(caller)
	got, err := settledFunc.Run(context.Background(), struct{}{}, reexec.Root(root), reexec.Dir("sub"))
	if err != nil || got.Wd != "/sub" || !got.InRoot {
		t.Errorf("Dir(\"sub\"): got %+v, %v; want /sub in the root", got, err)
	}
	got, err = settledFunc.Run(context.Background(), struct{}{}, reexec.Root(root), reexec.Dir("outside"))
	var se *status.Error
	if !errors.As(err, &se) || se.Op != "chdir" || se.Path != "outside" || !errors.Is(err, unix.ENOENT) {
		t.Errorf("Dir(\"outside\"): got %+v, %v; want a chdir \"outside\" ENOENT", got, err)
	}
}

// zombie returns the PID of a process that exited and that its parent,
// which lives until the test ends, does not reap.
func zombie(t *testing.T) int {
	t.Helper()
	parent := exec.Command("sh", "-c", "true & exec sleep infinity")
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { parent.Process.Kill(); parent.Wait() })
	ppid := strconv.Itoa(parent.Process.Pid)
	for range 500 {
		b, _ := os.ReadFile("/proc/" + ppid + "/task/" + ppid + "/children")
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if _, rest, _ := strings.Cut(string(stat), ") "); strings.HasPrefix(rest, "Z") {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no zombie")
	return 0
}

// TestTargetZombie checks that Target refuses a process that exited but is
// not reaped, which has no namespaces left, as gone (ESRCH), rather than
// run the action in the caller's namespaces; on both start paths.
func TestTargetZombie(t *testing.T) { forEachPath(t, targetZombie) }

func targetZombie(t *testing.T) {
	requireSwitching(t)
	pid := zombie(t)
	for _, types := range [][]string{nil, {"net", "uts"}} {
		_, err := settledFunc.Run(context.Background(), struct{}{}, reexec.Target(pid, types...))
		var e *reexec.Error
		if !errors.As(err, &e) || !errors.Is(err, unix.ESRCH) {
			t.Errorf("Target(%d, %v): got %v, want an error that wraps ESRCH", pid, types, err)
		}
	}
}
