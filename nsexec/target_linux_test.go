//go:build cgo

package nsexec_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsexec"
)

// targetProbe prints what a Target step decides: the working directory
// (which a join of a mnt namespace resets), the host name, the namespaces,
// and the PID (another than the Process's behind a relay, which a PID
// namespace joined forks).
var targetProbe = []string{"sh", "-c", "pwd; hostname; readlink /proc/self/ns/cgroup /proc/self/ns/ipc " +
	"/proc/self/ns/mnt /proc/self/ns/net /proc/self/ns/pid /proc/self/ns/time /proc/self/ns/user " +
	"/proc/self/ns/uts; echo $$"}

// targetBothSteps runs targetProbe with Target{pid, types}, and Dir dir,
// twice: by the exec step's lighter Target step, with the pidfd Start
// opens, and by early's, with a pidfd the caller passes. It fails the test
// where the two differ in output, relay, route or error, and returns the
// output, with "relay" for the PID line where the program ran behind one,
// and the error.
func targetBothSteps(t *testing.T, pid int, types []string, dir string) (string, error) {
	t.Helper()
	run := func(pidfd *os.File) (string, string, error) {
		c := nsexec.Command(targetProbe[0], targetProbe[1:]...)
		c.Target = &nsexec.Target{PID: pid, Pidfd: pidfd, Types: types}
		c.Dir = dir
		out, err := c.Output()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err == nil {
			if n := len(lines) - 1; lines[n] == strconv.Itoa(c.Process.Pid) {
				lines = lines[:n]
			} else {
				lines[n] = "relay"
			}
		}
		return strings.Join(lines, "\n"), nsexec.Route(c), err
	}
	lighter, lr, lerr := run(nil)
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	pidfd := os.NewFile(uintptr(fd), "pidfd")
	defer pidfd.Close()
	early, er, eerr := run(pidfd)
	if lighter != early || fmt.Sprint(lerr) != fmt.Sprint(eerr) || lerr == nil && lr != er {
		t.Fatalf("Target{%d, %q}: lighter step: %q, %v (%s); early's: %q, %v (%s)", pid, types, lighter, lerr, lr,
			early, eerr, er)
	}
	return lighter, lerr
}

func TestTargetLighterStep(t *testing.T) { bothWays(t, testTargetLighterStep) }

// When Start opens the pidfd itself, the exec step takes a lighter Target
// step than early's (target_linux.c); it decides as early's does, row by
// row: differing namespaces joined, the caller's own left as they are (a
// mnt namespace would reset the working directory, a PID namespace fork
// a relay, a user namespace fail), Dir taken after the joins, a zombie
// and a kernel thread refused with ESRCH.
func testTargetLighterStep(t *testing.T) {
	testutil.RequireRoot(t)
	holder := testutil.Holder(t, []string{"--net", "--uts", "--ipc", "--mount"}, "hostname lighter")
	for _, types := range [][]string{nil, {"net", "uts"}, {"mnt", "net", "user", "pid"}} {
		out, err := targetBothSteps(t, holder, types, "")
		if err != nil || !strings.Contains(out, nsLink(t, strconv.Itoa(holder), "net")) {
			t.Fatalf("holder %q: %q, %v", types, out, err)
		}
	}
	// Then the working directory, in the mount namespace joined, and
	// the fork into a PID namespace after it.
	out, err := targetBothSteps(t, holder, []string{"mnt", "uts"}, "/mnt")
	if err != nil || !strings.HasPrefix(out, "/mnt\nlighter\n") {
		t.Fatalf("holder, Dir /mnt: %q, %v", out, err)
	}
	pidHolder := testutil.Holder(t, []string{"--pid", "--mount-proc"}, "")
	out, err = targetBothSteps(t, pidHolder, []string{"pid"}, "/tmp")
	if err != nil || !strings.HasPrefix(out, "/tmp\n") || !strings.HasSuffix(out, "\nrelay") ||
		!strings.Contains(out, nsLink(t, strconv.Itoa(pidHolder), "pid")) {
		t.Fatalf("PID namespace, Dir /tmp: %q, %v", out, err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// A process in the calling thread's own namespaces, started from it
	// and targeted from it: the process's main thread, which /proc/PID
	// shows, may be in others (a test that locked it there: the runtime
	// never ends the main thread).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	own := exec.Command("sleep", "1000")
	if err := own.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { own.Process.Kill(); own.Wait() }()
	for _, types := range [][]string{nil, {"mnt", "user", "pid", "net"}} {
		out, err := targetBothSteps(t, own.Process.Pid, types, "")
		if err != nil || !strings.HasPrefix(out, wd+"\n") || strings.HasSuffix(out, "\nrelay") {
			t.Fatalf("own namespaces %q: %q, %v; want the working directory %s kept, no relay", types, out, err, wd)
		}
	}
	zombie := exec.Command("true")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	defer zombie.Wait()
	testutil.WaitState(func(s []byte) bool { return s[0] == 'Z' }, zombie.Process.Pid)
	for _, types := range [][]string{nil, {"net"}, {"mnt"}} {
		if _, err := targetBothSteps(t, zombie.Process.Pid, types, ""); !errors.Is(err, unix.ESRCH) {
			t.Fatalf("zombie %q: got %v, want ESRCH", types, err)
		}
	}
	if comm, err := os.ReadFile("/proc/2/comm"); err != nil || string(comm) != "kthreadd\n" {
		testutil.Unavailable(t, "PID 2 is not kthreadd here (%q, %v): not the initial PID namespace", comm, err)
	}
	for _, types := range [][]string{nil, {"net"}} {
		if _, err := targetBothSteps(t, 2, types, ""); !errors.Is(err, unix.ESRCH) {
			t.Fatalf("kernel thread %q: got %v, want ESRCH", types, err)
		}
	}
}

// envUnprivileged makes the test binary run testTargetUnprivileged.
const envUnprivileged = "NSEXEC_TEST_UNPRIVILEGED"

// Without the privilege over its own namespaces, as nobody with a target
// in a user namespace of its own making, the lighter step's one setns(2)
// of every type asked for fails (EPERM: the caller's net namespace, which
// the target shares): early's step then joins what differs, as it does
// when the caller passes the pidfd.
func TestTargetUnprivileged(t *testing.T) {
	if os.Getenv(envUnprivileged) != "" {
		bothWays(t, testTargetUnprivileged)
		return
	}
	testutil.RequireRoot(t)
	cmd := testutil.AsNobody(t, "-test.run=^TestTargetUnprivileged$", "-test.v")
	cmd.Env = append(cmd.Env, envUnprivileged+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "joined:") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

func testTargetUnprivileged(t *testing.T) {
	unshare := testutil.RequireTool(t, "unshare")
	h := exec.Command(unshare, "--user", "--map-root-user", "--uts", "sh", "-c", "hostname unprivileged; echo ready; exec sleep 1000")
	r, err := h.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { h.Process.Kill(); h.Wait() }()
	if _, err := r.Read(make([]byte, 6)); err != nil {
		testutil.Unavailable(t, "a user namespace as nobody: %v", err)
	}
	pid := strconv.Itoa(h.Process.Pid)
	out, err := targetBothSteps(t, h.Process.Pid, nil, "")
	if err != nil || !strings.Contains(out, "\nunprivileged\n") || !strings.Contains(out, nsLink(t, pid, "user")) ||
		!strings.Contains(out, nsLink(t, "self", "net")) {
		t.Fatalf("got %q, %v; want the target's user and uts namespaces, the caller's net", out, err)
	}
	t.Log("joined:", out)
}
