//go:build linux

package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

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
	Mnt      string // the thread's mount namespace
	Who      string // the file "who" in the directory the parameter names
	Wd       string
	Param    string
}

var (
	whereAmI = reexec.RegisterFunc("inprocess-where", func(p string) (where, error) {
		h, err := os.Hostname()
		net, _ := os.Readlink("/proc/thread-self/ns/net")
		mnt, _ := os.Readlink("/proc/thread-self/ns/mnt")
		who, _ := os.ReadFile(filepath.Join(p, "who"))
		wd, _ := unix.Getwd()
		return where{PID: os.Getpid(), Hostname: h, Net: net, Mnt: mnt, Who: string(who), Wd: wd, Param: p}, err
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
	// A tmpfs on dir, with a file only the holder sees.
	dir := t.TempDir()
	pid := testutil.Holder(t, []string{"--uts", "--net", "--mount"},
		fmt.Sprintf("hostname gons-inprocess\nmount -t tmpfs gons %s\necho holder > %s/who", dir, dir))
	path := func(typ string) string { return fmt.Sprintf("/proc/%d/ns/%s", pid, typ) }
	holderNet, err := os.Readlink(path("net"))
	if err != nil {
		t.Fatal(err)
	}
	holderMnt, err := os.Readlink(path("mnt"))
	if err != nil {
		t.Fatal(err)
	}
	ownMnt, _ := os.Readlink("/proc/self/ns/mnt")
	ownWd, _ := os.Getwd()
	ctx := context.Background()
	utsNet := reexec.Namespaces([]reexec.Namespace{{Type: "uts", Path: path("uts")}, {Type: "!net", Path: path("net")}})
	mntUtsNet := []reexec.Namespace{{Type: "uts", Path: path("uts")}, {Type: "mnt", Path: path("mnt")}, {Type: "!net", Path: path("net")}}
	for _, tc := range []struct {
		doc       string
		opts      []reexec.Option
		inProcess bool
		mnt       bool   // the holder's mount namespace is joined
		wd        string // the working directory the action starts in
	}{
		{"namespaces", []reexec.Option{utsNet}, true, false, ownWd},
		{"target", []reexec.Option{reexec.Target(pid, "uts", "net")}, true, false, ownWd},
		{"with mnt", []reexec.Option{reexec.Namespaces(mntUtsNet)}, true, true, "/"},
		{"target with mnt", []reexec.Option{reexec.Target(pid, "mnt", "uts", "net")}, true, true, "/"},
		{"own mnt", []reexec.Option{reexec.Namespaces([]reexec.Namespace{mntUtsNet[0], mntUtsNet[2], {Type: "mnt", Path: "/proc/self/ns/mnt"}})}, true, false, ownWd},
		{"with mnt, a path opened after it", []reexec.Option{reexec.Namespaces([]reexec.Namespace{{Type: "mnt", Path: path("mnt")}, {Type: "uts", Path: path("uts")}, {Type: "!net", Path: path("net")}})}, false, true, "/"},
		{"with mnt, working directory", []reexec.Option{reexec.Namespaces(mntUtsNet), reexec.Dir(dir)}, true, true, dir},
		{"working directory", []reexec.Option{utsNet, reexec.Dir("/")}, true, false, "/"},
		{"target, all types", []reexec.Option{reexec.Target(pid)}, false, true, "/"},
		{"environment", []reexec.Option{utsNet, reexec.Environment([]string{"X=1"})}, false, false, ownWd},
		{"root", []reexec.Option{utsNet, reexec.Root("/")}, false, false, "/"},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			child, err := whereAmI.Run(ctx, dir, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := whereAmI.Run(ctx, dir, append(tc.opts, reexec.InProcess())...)
			if err != nil {
				t.Fatal(err)
			}
			if (got.PID == os.Getpid()) != tc.inProcess || child.PID == os.Getpid() {
				t.Errorf("ran in PID %d, without InProcess %d; this process is %d; want in-process %v", got.PID, child.PID, os.Getpid(), tc.inProcess)
			}
			wantMnt, wantWho := ownMnt, ""
			if tc.mnt {
				wantMnt, wantWho = holderMnt, "holder\n"
			}
			if got.Hostname != "gons-inprocess" || got.Net != holderNet || got.Mnt != wantMnt || got.Who != wantWho || got.Wd != tc.wd || got.Param != dir {
				t.Errorf("saw %+v, want hostname gons-inprocess, net %s, mnt %s, file %q, working directory %s, param %s", got, holderNet, wantMnt, wantWho, tc.wd, dir)
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

	// A target without namespaces, and a directory that is not there:
	// the same errors, either way.
	zombie := exec.Command("true")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	defer zombie.Wait()
	testutil.WaitState(func(s []byte) bool { return s[0] == 'Z' }, zombie.Process.Pid)
	for _, tc := range []struct {
		doc  string
		opts []reexec.Option
		stat string
		is   error
	}{
		{"zombie", []reexec.Option{reexec.Target(zombie.Process.Pid, "uts", "mnt")}, "target", syscall.ESRCH},
		{"missing directory", []reexec.Option{reexec.Namespaces(mntUtsNet), reexec.Dir("/nonexistent")}, "chdir", syscall.ENOENT},
	} {
		var errs [2]error
		for i, mode := range []string{"child", "in-process"} {
			opts := tc.opts
			if mode == "in-process" {
				opts = append(opts, reexec.InProcess())
			}
			got, err := whereAmI.Run(ctx, dir, opts...)
			var e *reexec.Error
			var se *status.Error
			if !errors.As(err, &e) || e.Op != "switch" || !errors.As(err, &se) || se.Op != tc.stat || !errors.Is(err, tc.is) {
				t.Errorf("%s/%s: got %+v, %v; want a switch error, %s, %v", tc.doc, mode, got, err, tc.stat, tc.is)
			}
			if mode == "in-process" && got.PID != 0 {
				t.Errorf("%s: the action ran", tc.doc)
			}
			errs[i] = err
		}
		t.Logf("%s: child %v; in-process %v", tc.doc, errs[0], errs[1])
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
