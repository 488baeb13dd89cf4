package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
)

// TestThreadPIDNamespace calls from a goroutine locked to a thread whose
// children start in another PID namespace than its own. After setns(2)
// into a holder's, the call fails with Op "start" and
// ErrThreadPIDNamespace, naming both namespaces, and the action does not
// run. After unshare(2), the first call's child is the new namespace's
// first process and runs the action; the next call fails the same way,
// the namespace having lost its first process.
func TestThreadPIDNamespace(t *testing.T) {
	requireSwitching(t)
	for _, how := range []string{"setns", "unshare"} {
		t.Run(how, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ran")
			pid := 0
			if how == "setns" {
				pid = holder(t, "true")
			}
			own, err := os.Readlink("/proc/thread-self/ns/pid")
			if err != nil {
				t.Fatal(err)
			}
			type outcome struct {
				errs []error
				ns   string // the namespace the thread's children start in
			}
			done := make(chan outcome, 1)
			// The thread ends with the goroutine.
			go testutil.OnDiscardedThread(func() {
				var o outcome
				defer func() { done <- o }()
				if err := switchPIDNS(pid); err != nil {
					o.errs = append(o.errs, err)
					return
				}
				o.ns, _ = os.Readlink("/proc/thread-self/ns/pid_for_children")
				for call := 1; call <= 2; call++ {
					_, err := appendTo.Run(context.Background(), appendParam{path, call})
					o.errs = append(o.errs, err)
				}
			})
			o := <-done
			want := map[int]int{}
			if how == "unshare" {
				want[1] = 1
				if len(o.errs) > 0 && o.errs[0] != nil {
					t.Errorf("first call from a thread that unshared its PID namespace: %v", o.errs[0])
				}
				o.errs = o.errs[1:]
			}
			for _, err := range o.errs {
				var e *reexec.Error
				if !errors.As(err, &e) || e.Op != "start" || !errors.Is(err, reexec.ErrThreadPIDNamespace) ||
					!strings.Contains(err.Error(), o.ns) || !strings.Contains(err.Error(), own) {
					t.Errorf("got %v, want Op start, ErrThreadPIDNamespace, naming %s and %s", err, own, o.ns)
				}
			}
			if d := cmp.Diff(want, ranCalls(t, path)); d != "" {
				t.Errorf("how often each call's action ran (-want +got):\n%s", d)
			}
		})
	}
}

// switchPIDNS makes the calling thread's children start in the PID
// namespace of process pid, or in a new one when pid is 0.
func switchPIDNS(pid int) error {
	if pid == 0 {
		return os.NewSyscallError("unshare", unix.Unshare(unix.CLONE_NEWPID))
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/pid", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return os.NewSyscallError("setns", unix.Setns(fd, unix.CLONE_NEWPID))
}
