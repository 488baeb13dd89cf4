//go:build cgo

package nsexec_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsexec"
	"github.com/gonsproject/gons/status"
)

func TestReusedPID(t *testing.T) { bothWays(t, testReusedPID) }

// A pidfd names one process for good: when its PID belongs to another
// process by the time the child joins, the child refuses (ESRCH, or, as
// early would refuse a PID:INODE check, ErrReusedPID). It runs in a fresh
// PID namespace, where ns_last_pid chooses the next PID.
func testReusedPID(t *testing.T) {
	testutil.RequireRoot(t)
	if os.Getenv("NSEXEC_TEST_IN_PIDNS") == "" {
		way := route
		cmd := exec.Command(testutil.RequireTool(t, "unshare"), "--pid", "--fork", "--mount-proc", os.Args[0],
			"-test.run=^TestReusedPID$/^"+way+"$", "-test.v")
		cmd.Env = append(os.Environ(), "NSEXEC_TEST_IN_PIDNS=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "refused:") {
			t.Fatalf("in a fresh PID namespace: %v\n%s", err, out)
		}
		return
	}
	target := exec.Command("sleep", "1000")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	pid := target.Process.Pid
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	pidfd := os.NewFile(uintptr(fd), "pidfd")
	defer pidfd.Close()
	target.Process.Kill()
	target.Wait()
	testutil.ReusePID(t, pid)
	c := nsexec.Command("echo", "the reused PID was joined")
	c.Target = &nsexec.Target{PID: pid, Pidfd: pidfd}
	out, err := c.Output()
	if !errors.Is(err, unix.ESRCH) && !errors.Is(err, status.ErrReusedPID) || len(out) != 0 {
		t.Fatalf("got %v, output %q; want Start's refusal", err, out)
	}
	t.Log("refused:", err)
}

func TestHostBinary(t *testing.T) { bothWays(t, testHostBinary) }

// By default the program is the container's: a path only the caller sees
// is not found there. HostBinary runs the caller's file.
func testHostBinary(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	b, err := os.ReadFile("/bin/echo")
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "host-echo")
	if err := os.WriteFile(prog, b, 0o755); err != nil {
		t.Fatal(err)
	}
	pid := testutil.Holder(t, []string{"--mount"}, "mount -t tmpfs none "+filepath.Dir(dir))
	c := nsexec.Command(prog, "x")
	c.Target = &nsexec.Target{PID: pid, Types: []string{"mnt"}}
	startErr(t, c, "exec", unix.ENOENT)
	c = nsexec.Command(prog, "from the host")
	c.Target = &nsexec.Target{PID: pid, Types: []string{"mnt"}}
	c.HostBinary = true
	if got := output(t, c); got != "from the host" {
		t.Fatalf("got %q", got)
	}
	// Looked up in the caller's PATH.
	c = nsexec.Command("echo", "found")
	c.Target = &nsexec.Target{PID: pid, Types: []string{"mnt"}}
	c.HostBinary = true
	if got := output(t, c); got != "found" {
		t.Fatalf("got %q", got)
	}
}

func TestTargetExitsDuringCall(t *testing.T) { bothWays(t, testTargetExitsDuringCall) }

// A target that exits while the call joins it: the program runs in all of
// its namespaces (joined at once through the pidfd) or Start fails with
// ESRCH, never in some of them, never another error.
func testTargetExitsDuringCall(t *testing.T) {
	testutil.RequireRoot(t)
	unshare := testutil.RequireTool(t, "unshare")
	outcomes := map[string]int{}
	for i := range 20 {
		target := exec.Command(unshare, "--net", "--uts", "--fork", "sleep", "0.0"+strconv.Itoa(i%5))
		if err := target.Start(); err != nil {
			t.Fatal(err)
		}
		child := 0
		for range 1000 {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(target.Process.Pid) + "/task/" + strconv.Itoa(target.Process.Pid) + "/children")
			if child, _ = strconv.Atoi(strings.TrimSpace(string(b))); child != 0 {
				break
			}
		}
		if child == 0 {
			target.Wait()
			continue
		}
		c := nsexec.Command("readlink", "/proc/self/ns/net", "/proc/self/ns/uts")
		c.Target = &nsexec.Target{PID: child, Types: []string{"net", "uts"}}
		out, err := c.Output()
		target.Wait()
		net, _ := os.Readlink("/proc/self/ns/net")
		uts, _ := os.Readlink("/proc/self/ns/uts")
		switch lines := strings.Split(strings.TrimSpace(string(out)), "\n"); {
		case err == nil && len(lines) == 2 && lines[0] != net && lines[1] != uts:
			outcomes["joined"]++
		case err == nil && len(lines) == 2 && lines[0] == net && lines[1] == uts:
			outcomes["none to join: unshare had not made them yet"]++
		case errors.Is(err, unix.ESRCH):
			outcomes["ESRCH"]++
		default:
			t.Fatalf("target %d: %q, %v", child, out, err)
		}
	}
	t.Log(outcomes)
}
