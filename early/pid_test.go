//go:build linux

package early_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/icmd"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestPid checks that with gons_pid the program and its children run in
// the target PID namespace.
func TestPid(t *testing.T) {
	h := startHolder(t)
	for _, f := range append(flavours, fallback) {
		t.Run(f.name, func(t *testing.T) {
			r := runProbe(t, f, h.env("pid"), "-child")
			if r.Err != nil {
				t.Fatalf("Err() = %+v", r.Err)
			}
			if r.NS["pid"] != h.ns["pid"] || r.Child.NS["pid"] != h.ns["pid"] {
				t.Errorf("pid namespace of program %s, of its child %s, want %s", r.NS["pid"], r.Child.NS["pid"], h.ns["pid"])
			}
			// The holder's first process is 1 there; the program comes later.
			if r.Pid <= 1 || r.Child.Pid <= r.Pid {
				t.Errorf("PIDs in the namespace: program %d, child %d", r.Pid, r.Child.Pid)
			}
			if len(r.Child.Env) != 0 || len(r.Child.FDs) != 0 {
				t.Errorf("the child sees gons_* variables %v, fds %v", r.Child.Env, r.Child.FDs)
			}
		})
	}
}

// startWaiting starts the probe with gons_pid and -wait, and returns once
// it has reported from inside the namespace.
func startWaiting(t *testing.T, h *holder) *exec.Cmd {
	t.Helper()
	return startWaitingCmd(t, h, probeCmd(probe(t, dynamic), h.env("pid"), "-wait"))
}

// startWaitingCmd is startWaiting with the command given.
func startWaitingCmd(t *testing.T, h *holder, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, line); r.NS["pid"] != h.ns["pid"] {
		t.Fatalf("pid namespace %s, want %s", r.NS["pid"], h.ns["pid"])
	}
	return cmd
}

// TestPidRelay checks that the process the caller started, which stays
// outside the PID namespace, passes signals on and ends as the program
// ends: same exit code, same signal.
func TestPidRelay(t *testing.T) {
	h := startHolder(t)
	t.Run("signal", func(t *testing.T) {
		cmd := startWaiting(t, h)
		if err := cmd.Process.Signal(unix.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 42 {
			t.Errorf("exit: %v, want code 42 (the program's answer to SIGUSR1)", err)
		}
	})
	for _, code := range []int{0, 7, 255} {
		t.Run(fmt.Sprintf("exit %d", code), func(t *testing.T) {
			icmd.RunCmd(probeRun(probe(t, dynamic), h.env("pid"), "-exit", strconv.Itoa(code))).
				Assert(t, icmd.Expected{ExitCode: code})
		})
	}
	// Signals the Go runtime dies of by default rather than turning into
	// an exit code.
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			// A signal ignored here (go test under nohup) stays ignored
			// through exec, the relay and the Go runtime: the program
			// would not die of it, rightly.
			if ignored(t, sig) {
				testutil.Unavailable(t, "%v is ignored in this process, and so in the program", sig)
			}
			cmd := probeCmd(probe(t, dynamic), h.env("pid"), "-kill", strconv.Itoa(int(sig)))
			cmd.Run()
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("wait status %v, want death by %v", cmd.ProcessState, sig)
			}
		})
	}
}

// TestPidParentDies checks that the program dies with the process that
// relays for it.
func TestPidParentDies(t *testing.T) {
	h := startHolder(t)
	cmd := startWaiting(t, h)
	relay := cmd.Process.Pid
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", relay, relay))
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(children)))
	if err != nil {
		t.Fatalf("relay's children: %q", children)
	}
	cmd.Process.Kill()
	cmd.Wait()
	// The kernel delivers PDEATHSIG as the relay exits; the child is then
	// reaped by the namespace's init. Wait for that, within reason.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		err := unix.Kill(child, 0)
		if errors.Is(err, unix.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("program %d still there after its relay died: %v", child, err)
		}
	}
}

// ignored reports whether this process ignores sig, as a child it starts
// would: SIG_IGN survives execve.
func ignored(t *testing.T, sig unix.Signal) bool {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if mask, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			bits, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			if err != nil {
				t.Fatalf("SigIgn: %v", err)
			}
			return bits&(1<<(sig-1)) != 0
		}
	}
	t.Fatal("no SigIgn in /proc/self/status")
	return false
}
