//go:build linux

package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsthread"
	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// where is what the in-process test's action sees.
type where struct {
	PID      int
	Hostname string
	Net      string // the thread's net namespace
	Param    string
}

var (
	whereAmI = reexec.RegisterFunc("inprocess-where", func(p string) (where, error) {
		h, err := os.Hostname()
		net, _ := os.Readlink("/proc/thread-self/ns/net")
		return where{PID: os.Getpid(), Hostname: h, Net: net, Param: p}, err
	})
	failing = reexec.RegisterFunc("inprocess-fail", func(how string) (int, error) {
		if how == "panic" {
			panic("the action panicked")
		}
		_, err := os.Stat("/nonexistent")
		return 0, fmt.Errorf("stat: %w", err)
	})
)

// TestInProcess runs a typed action with and without InProcess: for
// thread-joinable namespaces it runs in this process and sees what a child
// sees; otherwise it runs in a child; results and errors have the same
// shape either way.
func TestInProcess(t *testing.T) {
	requireSwitching(t)
	pid := testutil.Holder(t, []string{"--uts", "--net", "--mount"}, "hostname gons-inprocess")
	path := func(typ string) string { return fmt.Sprintf("/proc/%d/ns/%s", pid, typ) }
	holderNet, err := os.Readlink(path("net"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	utsNet := reexec.Namespaces([]reexec.Namespace{{Type: "uts", Path: path("uts")}, {Type: "!net", Path: path("net")}})
	for _, tc := range []struct {
		doc       string
		opts      []reexec.Option
		inProcess bool
	}{
		{"namespaces", []reexec.Option{utsNet}, true},
		{"target", []reexec.Option{reexec.Target(pid, "uts", "net")}, true},
		{"with mnt", []reexec.Option{reexec.Namespaces([]reexec.Namespace{{Type: "uts", Path: path("uts")}, {Type: "net", Path: path("net")}, {Type: "mnt", Path: path("mnt")}})}, false},
		{"target, all types", []reexec.Option{reexec.Target(pid)}, false},
		{"environment", []reexec.Option{utsNet, reexec.Environment([]string{"X=1"})}, false},
		{"working directory", []reexec.Option{utsNet, reexec.Dir("/")}, false},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			child, err := whereAmI.Run(ctx, "p", tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := whereAmI.Run(ctx, "p", append(tc.opts, reexec.InProcess())...)
			if err != nil {
				t.Fatal(err)
			}
			if (got.PID == os.Getpid()) != tc.inProcess || child.PID == os.Getpid() {
				t.Errorf("ran in PID %d, without InProcess %d; this process is %d; want in-process %v", got.PID, child.PID, os.Getpid(), tc.inProcess)
			}
			if got.Hostname != "gons-inprocess" || got.Net != holderNet || got.Param != "p" {
				t.Errorf("saw %+v, want hostname gons-inprocess, net %s, param p", got, holderNet)
			}
			got.PID = child.PID
			if got != child {
				t.Errorf("in-process %+v, in a child %+v", got, child)
			}
		})
	}

	// The same errors, either way.
	gone := exitedPID(t)
	for _, tc := range []struct {
		doc  string
		run  func(opts ...reexec.Option) error
		op   string
		is   []error
		stat *status.Error
	}{
		{"action error", func(opts ...reexec.Option) error { _, err := failing.Run(ctx, "error", opts...); return err },
			"action", []error{syscall.ENOENT}, nil},
		{"panic", func(opts ...reexec.Option) error { _, err := failing.Run(ctx, "panic", opts...); return err },
			"panic", []error{reexec.ErrPanic}, nil},
		{"missing namespace", func(opts ...reexec.Option) error {
			_, err := whereAmI.Run(ctx, "", append(opts, reexec.Namespaces([]reexec.Namespace{{Type: "net", Path: "/nonexistent"}}))...)
			return err
		}, "switch", []error{syscall.ENOENT}, &status.Error{Op: "open", Type: "net", Path: "/nonexistent"}},
		{"wrong type", func(opts ...reexec.Option) error {
			_, err := whereAmI.Run(ctx, "", append(opts, reexec.Namespaces([]reexec.Namespace{{Type: "net", Path: path("uts")}}))...)
			return err
		}, "switch", []error{status.ErrWrongType, syscall.EINVAL}, &status.Error{Op: "check", Type: "net", Path: path("uts")}},
		{"gone target", func(opts ...reexec.Option) error {
			_, err := whereAmI.Run(ctx, "", append(opts, reexec.Target(gone, "uts", "net"))...)
			return err
		}, "target", []error{syscall.ESRCH}, nil},
	} {
		for _, mode := range []string{"child", "in-process"} {
			t.Run(tc.doc+"/"+mode, func(t *testing.T) {
				opts := []reexec.Option{utsNet}
				if tc.stat != nil || tc.op == "target" {
					opts = nil
				}
				if mode == "in-process" {
					opts = append(opts, reexec.InProcess())
				}
				err := tc.run(opts...)
				var e *reexec.Error
				if !errors.As(err, &e) || e.Op != tc.op {
					t.Fatalf("got %v, want an *Error with Op %q", err, tc.op)
				}
				for _, target := range tc.is {
					if !errors.Is(err, target) {
						t.Errorf("%v is not %v", err, target)
					}
				}
				if tc.op == "panic" && !strings.Contains(e.Stderr, "panic: the action panicked") {
					t.Errorf("stderr %q does not hold the panic", e.Stderr)
				}
				if mode == "in-process" && tc.op == "panic" && !errors.Is(err, nsthread.ErrThreadDiscarded) {
					t.Errorf("%v: want ErrThreadDiscarded", err)
				}
				var se *status.Error
				if tc.stat != nil && (!errors.As(err, &se) || se.Op != tc.stat.Op || se.Type != tc.stat.Type || se.Path != tc.stat.Path) {
					t.Errorf("got %v, want a *status.Error %+v", err, *tc.stat)
				}
			})
		}
	}
}

// One option moves a typed action from a child into this process, where
// the namespaces asked for allow it, here those of a container's uts and
// net namespaces: the result and the errors keep their types.
func ExampleInProcess() {
	ctx := context.Background()
	// With reexec.Namespaces([]reexec.Namespace{{Type: "uts", Path: "/proc/42/ns/uts"}})
	// or reexec.Target(42, "uts", "net") as well, both would run in that
	// container's namespaces.
	inChild, err := hostname.Run(ctx, struct{}{})
	if err != nil {
		panic(err)
	}
	inProcess, err := hostname.Run(ctx, struct{}{}, reexec.InProcess())
	if err != nil {
		panic(err)
	}
	fmt.Println(inChild == inProcess)
	// Output:
	// true
}

// exitedPID returns the PID of a process that has exited and been reaped.
func exitedPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
