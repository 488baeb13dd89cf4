package reexec_test

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// TestServerStallsAfterClone stops the fork server with ptrace right
// after its clone returns, before it replies. A call with a deadline ends
// with its context (context.DeadlineExceeded); one without waits for the
// hop's bound and then runs its action by exec, with a protocol socket of
// its own, and returns its result. Either way the server, given up at
// the bound, is killed and reaped with the child it cloned, which never
// runs the action, and each call's action runs at most once.
func TestServerStallsAfterClone(t *testing.T) {
	testutil.RequireRoot(t)
	for _, deadline := range []bool{true, false} {
		name := map[bool]string{true: "deadline", false: "bound"}[deadline]
		t.Run(name, func(t *testing.T) {
			if inChild(t, 0) {
				serverStallsAfterClone(t, deadline)
			}
		})
	}
}

func serverStallsAfterClone(t *testing.T, deadline bool) {
	server := spawn.PID()
	if server == 0 {
		testutil.Unavailable(t, "the test binary has no fork server")
	}
	spawn.HopBound = 2 * time.Second // not 10 s: the test waits for it
	path := filepath.Join(t.TempDir(), "ran")
	stalled := stallAfterClone(t, server)
	ctx := context.Background()
	if deadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
	}
	_, err := appendTo.Run(ctx, appendParam{path, 0})
	if deadline && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want a context error wrapping context.DeadlineExceeded", err)
	}
	if !deadline && err != nil {
		t.Errorf("got %v, want the action's outcome", err)
	}
	clone := <-stalled
	if clone <= 0 {
		t.Fatal("the server's clone was not seen")
	}
	if !settle(func() bool { return processGone(server) && processGone(clone) }) {
		t.Errorf("the server %d or its child %d is left (a zombie?)", server, clone)
	}
	if kids := children(t); len(kids) != 0 {
		t.Errorf("children left behind: %v", kids)
	}
	if _, err := appendTo.Run(context.Background(), appendParam{path, 1}); err != nil {
		t.Fatal(err)
	}
	want := map[int]int{0: 1, 1: 1}
	if deadline {
		want = map[int]int{1: 1}
	}
	if ran := ranCalls(t, path); !maps.Equal(ran, want) {
		t.Errorf("the actions ran %v times (call: times), want %v", ran, want)
	}
}

// stallAfterClone attaches to the server with ptrace and holds it in the
// stop after its next clone3 or clone returns, detaching when the server
// dies. The channel gets the PID of the child the clone made (0 when
// there was none).
func stallAfterClone(t *testing.T, server int) <-chan int {
	t.Helper()
	attached := make(chan error)
	cloned := make(chan int, 1)
	go func() {
		runtime.LockOSThread() // a tracer is a thread; this one ends with the trace
		err := unix.PtraceSeize(server)
		if err == nil {
			err = unix.PtraceInterrupt(server)
		}
		attached <- err
		if err != nil {
			return
		}
		pid, inCall := 0, false
		for {
			var ws unix.WaitStatus
			_, err := unix.Wait4(server, &ws, unix.WALL, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil || ws.Exited() || ws.Signaled() {
				cloned <- pid
				return
			}
			var regs unix.PtraceRegs
			if ws.StopSignal() == unix.SIGTRAP|0x80 && unix.PtraceGetRegs(server, &regs) == nil {
				if nr := int(regs.Orig_rax); nr == unix.SYS_CLONE3 || nr == unix.SYS_CLONE {
					if inCall && int64(regs.Rax) > 0 {
						pid = int(regs.Rax)
						continue // held: no PtraceSyscall
					}
					inCall = !inCall
				}
				unix.PtraceSyscall(server, 0)
				continue
			}
			// The interrupt, or a signal: pass signals on (SIGKILL
			// needs none), and trace system calls from here.
			sig := 0
			if s := ws.StopSignal(); ws.Stopped() && s != unix.SIGTRAP {
				sig = int(s)
			}
			unix.PtraceSetOptions(server, unix.PTRACE_O_TRACESYSGOOD)
			unix.PtraceSyscall(server, sig)
		}
	}()
	if err := <-attached; err != nil {
		testutil.Unavailable(t, "ptrace of the fork server: %v", err)
	}
	return cloned
}
