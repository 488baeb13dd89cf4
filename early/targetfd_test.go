//go:build linux

package early_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
)

// pidfdFile returns a pidfd of pid as a file, closed when the test ends.
func pidfdFile(t *testing.T, pid int) *os.File {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	t.Cleanup(func() { f.Close() })
	return f
}

// runWithFD runs the probe built as f with env, args and file as its fd 3.
func runWithFD(t *testing.T, f flavour, env []string, file *os.File, args ...string) *report {
	t.Helper()
	cmd := probeCmd(probe(t, f), env, args...)
	cmd.ExtraFiles = []*os.File{file}
	return run(t, cmd)
}

// TestTargetFD checks that gons_target_fd, a pidfd the caller opened, is
// used to join the target and closed; checkJoined fails on an fd left open.
func TestTargetFD(t *testing.T) {
	h := startHolder(t)
	self := selfNS(t)
	env := []string{"gons_target=" + strconv.Itoa(h.pid), "gons_target_fd=3"}
	for _, f := range []flavour{dynamic, staticGlibc, staticMusl, fallback} {
		t.Run(f.name, func(t *testing.T) {
			r := runWithFD(t, f, env, pidfdFile(t, h.pid), "-exists", h.marker)
			checkJoined(t, r, h, self, allTypes...)
		})
	}
}

// TestTargetFDRefused checks that a gons_target_fd that is not a pidfd of
// the target is refused with an error that names it, and closed on that
// path and on every other failure.
func TestTargetFDRefused(t *testing.T) {
	h := startHolder(t)
	self := selfNS(t)
	pid := strconv.Itoa(h.pid)
	target := []string{"gons_target=" + pid, "gons_target_fd=3"}
	other := exec.Command("sleep", "infinity")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	exited := exec.Command("true")
	if err := exited.Start(); err != nil {
		t.Fatal(err)
	}
	exitedFD := pidfdFile(t, exited.Process.Pid)
	exited.Wait()
	regular, err := os.Create(filepath.Join(t.TempDir(), "regular"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	notPidfd := "gons_target_fd: 3 is not a pidfd of process " + pid

	tests := []struct {
		name    string
		flavour flavour
		env     []string
		file    *os.File
		want    probeError
	}{
		{"another process", dynamic, target, pidfdFile(t, other.Process.Pid),
			probeError{Op: "target", Errno: int(unix.EINVAL), Msg: notPidfd}},
		{"a regular file", dynamic, target, regular,
			probeError{Op: "target", Errno: int(unix.EBADF), Msg: notPidfd}},
		// Where the kernel cannot tell which process a pidfd refers to, a
		// pidfd of a live process passes; a regular file does not.
		{"a regular file, no pidfs", fallback, target, regular,
			probeError{Op: "target", Errno: int(unix.EBADF), Msg: notPidfd}},
		{"an exited process", dynamic, []string{"gons_target=" + strconv.Itoa(exited.Process.Pid), "gons_target_fd=3"}, exitedFD,
			probeError{Op: "target", Errno: int(unix.ESRCH), Msg: "no such process"}},
		{"without gons_target", dynamic, []string{"gons_target_fd=3"}, pidfdFile(t, h.pid),
			probeError{Op: "parse", Msg: "gons_target_fd is set without gons_target"}},
		{"after a parse failure", dynamic, []string{"gons_nett=x", "gons_target=" + pid, "gons_target_fd=3"}, pidfdFile(t, h.pid),
			probeError{Op: "parse", Msg: `unknown variable "gons_nett"`}},
		{"std stream", dynamic, []string{"gons_target=" + pid, "gons_target_fd=2"}, pidfdFile(t, h.pid),
			probeError{Op: "parse", Msg: `gons_target_fd: "2" is not a descriptor from 3 up`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runWithFD(t, tt.flavour, tt.env, tt.file)
			if tt.name == "std stream" {
				// Refused, not closed: fd 3 is the caller's own, which the probe lists.
				r.FDs = nil
			}
			checkFailed(t, r, tt.want, nil, h, self)
		})
	}
}

// TestTargetNoPidfs checks, in the build that takes the way of kernels
// before pidfs (Linux 6.9), where every pidfd has the same inode, that
// PID:INODE is refused with an error that says why, and that Target()
// reports inode 0.
func TestTargetNoPidfs(t *testing.T) {
	h := startHolder(t)
	self := selfNS(t)
	pid := strconv.Itoa(h.pid)
	inode := strconv.FormatUint(pidfdInode(t, h.pid), 10)
	r := runProbe(t, fallback, []string{"gons_target=" + pid + ":" + inode})
	checkFailed(t, r, probeError{Op: "target", Errno: int(unix.EOPNOTSUPP),
		Msg: "gons_target " + pid + ":" + inode + ": no inode names a process before pidfs (Linux 6.9)"}, nil, h, self)
	r = runProbe(t, fallback, []string{"gons_target=" + pid, "gons_target_ns=uts"})
	if r.Err != nil || r.TargetPID != h.pid || r.TargetInode != 0 {
		t.Errorf("Err() = %+v, Target() = %d, %d; want nil, %d, 0", r.Err, r.TargetPID, r.TargetInode, h.pid)
	}
}

// startIn starts cmd, which must end up running sleep in namespaces other
// than the test's of the types that differ, and returns its PID once it is
// there.
func startIn(t *testing.T, cmd *exec.Cmd, differ ...string) int {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := strconv.Itoa(cmd.Process.Pid)
	self := selfNS(t)
	for range 500 {
		ns := nsLinks(t, pid)
		comm, _ := os.ReadFile("/proc/" + pid + "/comm")
		if string(comm) == "sleep\n" && !slices.ContainsFunc(differ, func(typ string) bool { return ns[typ] == self[typ] }) {
			return cmd.Process.Pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%v did not get namespaces of its own of the types %v", cmd.Args, differ)
	return 0
}

// TestTargetDiffers checks that gons_target joins the namespaces that
// differ from the caller's and only those, so that Joined() says what
// changed, and that a caller without privileges that shares every
// namespace with the target is not refused for joining what it is in.
func TestTargetDiffers(t *testing.T) {
	testutil.RequireRoot(t)
	unshare := testutil.RequireTool(t, "unshare")
	net := exec.Command("sleep", "infinity")
	net.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNET}
	netOnly := strconv.Itoa(startIn(t, net, "net"))
	same := strconv.Itoa(startIn(t, nobody(exec.Command("sleep", "infinity"))))
	owned := strconv.Itoa(startIn(t, nobody(exec.Command(unshare, "--user", "--map-root-user", "--net", "sleep", "infinity")), "user", "net"))
	for _, f := range []flavour{dynamic, staticMusl, fallback} {
		for _, tt := range []struct {
			name   string
			target string
			nobody bool
			joined []string
		}{
			{"net only", netOnly, false, []string{"net"}},
			{"nothing, unprivileged", same, true, nil},
			{"a user namespace it owns, unprivileged", owned, true, []string{"user", "net"}},
		} {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				cmd := probeCmd(probe(t, f), []string{"gons_target=" + tt.target})
				if tt.nobody {
					nobody(cmd)
				}
				r := run(t, cmd)
				if r.Err != nil || !slices.Equal(r.Joined, tt.joined) {
					t.Errorf("Err() = %+v, Joined() = %v; want nil, %v", r.Err, r.Joined, tt.joined)
				}
				if want := nsLinks(t, tt.target); r.NS["net"] != want["net"] || r.NS["user"] != want["user"] {
					t.Errorf("net and user namespaces %s, %s; want the target's, %s, %s", r.NS["net"], r.NS["user"], want["net"], want["user"])
				}
				checkClean(t, r)
			})
		}
	}
}

// TestTargetSetnsRefused checks that a refused setns(2) of the target's
// pidfd names the process and the types: an unprivileged caller may look
// at the namespaces of a process of its own user, but not join them.
func TestTargetSetnsRefused(t *testing.T) {
	testutil.RequireRoot(t)
	unshare := testutil.RequireTool(t, "unshare")
	testutil.RequireTool(t, "setpriv")
	pid := strconv.Itoa(startIn(t, exec.Command(unshare, "--net", "--uts", "setpriv", "--reuid=65534", "--regid=65534",
		"--clear-groups", "sleep", "infinity"), "net", "uts"))
	for _, f := range []flavour{dynamic, staticMusl} {
		r := run(t, nobody(probeCmd(probe(t, f), []string{"gons_target=" + pid})))
		want := "gons: setns: process " + pid + ", net,uts: operation not permitted (needs CAP_SYS_ADMIN over the owning user namespace)"
		if r.Err == nil || r.Err.Msg != want || r.Err.Errno != int(unix.EPERM) || len(r.Joined) != 0 {
			t.Errorf("%s: Err() = %+v, Joined() = %v; want %q, nothing joined", f.name, r.Err, r.Joined, want)
		}
		checkClean(t, r)
	}
}
