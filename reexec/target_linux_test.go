package reexec_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// TestTargetReusedPID makes the PID that Target named belong to another
// process between the call and the child's start: the child must refuse
// to join it. It runs in a fresh PID namespace, where it can choose the
// next PID through /proc/sys/kernel/ns_last_pid.
func TestTargetReusedPID(t *testing.T) {
	requireSwitching(t)
	if os.Getenv("GONS_TEST_IN_PIDNS") == "" {
		unshare := testutil.RequireTool(t, "unshare")
		cmd := exec.Command(unshare, "--pid", "--fork", "--mount-proc", os.Args[0],
			"-test.run=^TestTargetReusedPID$", "-test.v")
		cmd.Env = append(os.Environ(), "GONS_TEST_IN_PIDNS=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("in a fresh PID namespace: %v\n%s", err, out)
		}
		t.Logf("in a fresh PID namespace:\n%s", out)
		return
	}
	if !pidfs(t) {
		testutil.Unavailable(t, "pidfds of this kernel have no inode of their own (pidfs, Linux 6.9)")
	}
	target := exec.Command("sleep", "1000")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	pid := target.Process.Pid
	cmd := reexec.Command(context.Background(), "cat-args", []string{"the reused PID was joined"}, reexec.Target(pid))

	target.Process.Kill()
	target.Wait()
	testutil.ReusePID(t, pid)

	out, err := cmd.CombinedOutput()
	// The child holds a pidfd of the process that is gone (ESRCH); a
	// gons_target=PID:INODE check, as early takes it from a caller that
	// passes no pidfd, would refuse it too (ErrReusedPID).
	var e *reexec.Error
	var se *status.Error
	if !errors.As(err, &e) || e.Op != "switch" || !errors.As(err, &se) || se.Op != "target" ||
		!errors.Is(err, status.ErrReusedPID) && !errors.Is(err, unix.ESRCH) || len(out) != 0 {
		t.Fatalf("got %v (output %q), want the child's refusal to join the reused PID", err, out)
	}
	t.Log("refused:", err)
}

// pidfs reports whether pidfds are files of pidfs, whose inodes tell
// processes apart.
func pidfs(t *testing.T) bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var fs unix.Statfs_t
	return unix.Fstatfs(fd, &fs) == nil && fs.Type == 0x50494446
}
