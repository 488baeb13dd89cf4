package nsthread

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonsproject/gons/internal/testutil"
	"golang.org/x/sys/unix"
)

// mntHolder starts a process in fresh mount, uts and net namespaces (and
// a user namespace of its own when user is set), with hostname name and a
// tmpfs on a directory that is empty outside, holding a file "who" that
// says name. It returns the holder's PID and the directory.
func mntHolder(t *testing.T, name string, user bool) (int, string) {
	t.Helper()
	requireNS(t)
	dir := t.TempDir()
	flags := []string{"--mount", "--uts", "--net"}
	if user {
		flags = append(flags, "--user", "--map-root-user")
	}
	pid := testutil.Holder(t, flags, fmt.Sprintf("hostname %s\nmount -t tmpfs gons %s\necho %s > %s/who", name, dir, name, dir))
	return pid, dir
}

// inMount is what a function sees in a mount namespace.
type inMount struct {
	TID      int
	Who      string // the holder's file, read by its absolute path
	Rel      string // the same, read relative to the working directory
	Wd       string
	Mnt      string // /proc/thread-self/ns/mnt
	Hostname string
}

// lookIn returns what a function sees, reading dir/who.
func lookIn(dir string) func() (inMount, error) {
	return func() (inMount, error) {
		s := inMount{TID: unix.Gettid()}
		b, err := os.ReadFile(filepath.Join(dir, "who"))
		s.Who = strings.TrimSpace(string(b))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return s, err
		}
		b, _ = os.ReadFile("who")
		s.Rel = strings.TrimSpace(string(b))
		s.Wd, err = unix.Getwd()
		if err != nil {
			return s, err
		}
		s.Mnt, _ = os.Readlink("/proc/thread-self/ns/mnt")
		s.Hostname, err = os.Hostname()
		return s, err
	}
}

// TestMount runs a function in a holder's mount namespace, alone and
// with its uts and net namespaces, by path, by PID and by pidfd, from a
// free and a locked caller: the function sees the holder's files at the
// namespace's root, on a thread that ends afterwards; the caller keeps
// its thread and lock, and the process its working directory and root.
func TestMount(t *testing.T) {
	pid, dir := mntHolder(t, "gons-mnt", false)
	holderNS := nsOf(fmt.Sprintf("/proc/%d", pid))
	byPath := func(types ...string) Option {
		var ns []Namespace
		for _, typ := range types {
			ns = append(ns, Namespace{Type: typ, Path: fmt.Sprintf("/proc/%d/ns/%s", pid, typ)})
		}
		return Namespaces(ns)
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	hostname, _ := os.Hostname()
	for _, c := range callers {
		for _, tc := range []struct {
			doc string
			opt Option
			uts bool
		}{
			{"path", byPath("mnt"), false},
			{"path, with uts and net", byPath("uts", "mnt", "net"), true},
			{"pid", Target(pid, "mnt"), false},
			{"pid, with uts and net", Target(pid, "net", "mnt", "uts"), true},
			{"pidfd, with uts", TargetPidfd(pidfd, "mnt", "uts"), true},
		} {
			t.Run(c.name+"/"+tc.doc, func(t *testing.T) {
				var (
					s                     inMount
					err                   error
					callerTID, afterTID   int
					lockedAfter           bool
					callerNS, callerAfter map[string]string
				)
				asCaller(c.locked, func() {
					callerTID, callerNS = unix.Gettid(), nsOf("/proc/thread-self")
					s, err = Run(lookIn(dir), tc.opt)
					afterTID, lockedAfter, callerAfter = unix.Gettid(), lockedOSThread(), nsOf("/proc/thread-self")
				})
				if err != nil {
					t.Fatal(err)
				}
				if s.Who != "gons-mnt" || s.Wd != "/" || s.Mnt != holderNS["mnt"] {
					t.Errorf("saw %+v; want the holder's file, at its root, in %s", s, holderNS["mnt"])
				}
				if want := map[bool]string{true: "gons-mnt", false: hostname}[tc.uts]; s.Hostname != want {
					t.Errorf("hostname %q, want %q", s.Hostname, want)
				}
				// A free caller's goroutine may have had the thread
				// the function ran on before the call.
				if c.locked && s.TID == callerTID || s.TID == os.Getpid() {
					t.Errorf("ran on thread %d: the locked caller's or the main thread", s.TID)
				}
				if lockedAfter != c.locked || (c.locked && afterTID != callerTID) || fmt.Sprint(callerAfter) != fmt.Sprint(callerNS) {
					t.Errorf("the caller is locked %v on thread %d in %v after the call; want locked %v, as before on %d in %v",
						lockedAfter, afterTID, callerAfter, c.locked, callerTID, callerNS)
				}
				threadEnds(t, s.TID)
				if fs := fsOf("/proc/self"); fs != originalFS {
					t.Errorf("the process has %s, want %s", fs, originalFS)
				}
			})
		}
	}
	t.Run("user-owned", func(t *testing.T) {
		pid, dir := mntHolder(t, "gons-userns", true)
		s, err := Run(lookIn(dir), Target(pid, "mnt", "uts"))
		if err != nil || s.Who != "gons-userns" || s.Hostname != "gons-userns" {
			t.Errorf("got %+v, %v; want the holder's file and hostname", s, err)
		}
	})
}

// TestMountDir checks Dir: the function starts in the directory, inside
// the mount namespace when it joins one, and on a thread of its own
// without.
func TestMountDir(t *testing.T) {
	pid, dir := mntHolder(t, "gons-dir", false)
	s, err := Run(lookIn(dir), Target(pid, "mnt"), Dir(dir))
	if err != nil || s.Wd != dir || s.Rel != "gons-dir" {
		t.Errorf("got %+v, %v; want the working directory %s inside the namespace", s, err, dir)
	}
	s, err = Run(lookIn(dir), Dir(dir))
	if err != nil || s.Wd != dir || s.Rel != "" || s.Who != "" {
		t.Errorf("without mnt: got %+v, %v; want the working directory %s, empty outside", s, err, dir)
	}
	threadEnds(t, s.TID)
	_, err = Run(lookIn(dir), Target(pid, "mnt"), Dir("/nonexistent"))
	var e *Error
	if !errors.As(err, &e) || e.Op != "chdir" || e.Path != "/nonexistent" || !errors.Is(err, unix.ENOENT) {
		t.Errorf("got %v, want a chdir error naming /nonexistent", err)
	}
	if fs := fsOf("/proc/self"); fs != originalFS {
		t.Errorf("the process has %s, want %s", fs, originalFS)
	}
}

// TestMountOwn joins the process's own mount namespace, by path and as a
// target's shared with the process: skipped, as in a child, so the
// function runs in the process's working directory, on the caller's
// thread when the caller is free.
func TestMountOwn(t *testing.T) {
	requireNS(t)
	wd, _ := os.Getwd()
	for _, opt := range []Option{
		Namespaces([]Namespace{{Type: "mnt", Path: "/proc/self/ns/mnt"}}),
		Target(os.Getpid(), "mnt", "uts"),
	} {
		var callerTID int
		var s inMount
		var err error
		asCaller(false, func() {
			s, err = Run(func() (inMount, error) { callerTID = unix.Gettid(); return lookIn("/nonexistent")() }, opt)
		})
		if err != nil || s.Wd != wd || s.TID != callerTID {
			t.Errorf("got %+v, %v; want the process's working directory %s on the caller's thread %d", s, err, wd, callerTID)
		}
	}
}

// TestMountMisbehaving runs functions that panic, call runtime.Goexit,
// change their working directory, unshare their mount namespace, unlock
// their thread or start goroutines, inside a holder's mount namespace:
// the thread ends, the error says what happened, the process keeps its
// working directory and root, and no thread stays in the holder's
// namespaces.
func TestMountMisbehaving(t *testing.T) {
	pid, dir := mntHolder(t, "gons-misbehaving", false)
	for _, tc := range []struct {
		doc string
		fn  func() error
		op  string
	}{
		{"panic", func() error { panic("boom") }, "panic"},
		{"goexit", func() error { runtime.Goexit(); return nil }, "panic"},
		{"chdir", func() error { return os.Chdir(dir) }, ""},
		{"unshare", func() error { return unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_NEWUTS) }, ""},
		{"unlock", func() error { runtime.UnlockOSThread(); runtime.UnlockOSThread(); return nil }, ""},
		{"goroutines", func() error {
			var wg sync.WaitGroup
			for range 20 {
				wg.Add(1)
				go func() { defer wg.Done(); os.ReadFile(filepath.Join(dir, "who")) }()
			}
			wg.Wait()
			return nil
		}, ""},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			var tid int
			err := Do(func() error { tid = unix.Gettid(); return tc.fn() }, Target(pid, "mnt", "uts"))
			var e *Error
			if tc.op == "" && err != nil || tc.op != "" && (!errors.As(err, &e) || e.Op != tc.op) {
				t.Errorf("got %v, want Op %q", err, tc.op)
			}
			threadEnds(t, tid)
			if fs := fsOf("/proc/self"); fs != originalFS {
				t.Errorf("the process has %s, want %s", fs, originalFS)
			}
			if err := threadsBack(10 * time.Second); err != nil {
				t.Error(err)
			}
			if bad := ordinaryGoroutines(100); bad != nil {
				t.Errorf("ordinary goroutines ran in the holder's namespaces: %v", bad)
			}
			s, err := Run(lookIn(dir), Target(pid, "mnt"))
			if err != nil || s.Who != "gons-misbehaving" {
				t.Errorf("next call: %+v, %v", s, err)
			}
		})
	}
}

// TestMountConcurrent has 16 goroutines call at once into the mount
// namespaces of holders of their own, half by path and half by PID: every
// call sees its own holder's file, none another's or the host's, while
// the main goroutine checks that the process's working directory, root
// and mount namespace never change.
func TestMountConcurrent(t *testing.T) {
	requireNS(t)
	const goroutines = 16
	calls := 50
	if testing.Short() {
		calls = 10
	}
	var opts [goroutines]Option
	var dirs [goroutines]string
	for g := range goroutines {
		pid, dir := mntHolder(t, fmt.Sprintf("gons-mnt%d", g), false)
		dirs[g], opts[g] = dir, Target(pid, "mnt")
		if g%2 == 0 {
			opts[g] = Namespaces([]Namespace{{Type: "mnt", Path: fmt.Sprintf("/proc/%d/ns/mnt", pid)}})
		}
	}
	var wg sync.WaitGroup
	var running atomic.Int32
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		running.Add(1)
		go func() {
			defer wg.Done()
			defer running.Add(-1)
			for i := range calls {
				err := Do(func() error {
					for h, dir := range dirs {
						b, err := os.ReadFile(filepath.Join(dir, "who"))
						switch {
						case h == g && (err != nil || strings.TrimSpace(string(b)) != fmt.Sprintf("gons-mnt%d", g)):
							return fmt.Errorf("goroutine %d, call %d: %s/who: %q, %v", g, i, dir, b, err)
						case h != g && !errors.Is(err, os.ErrNotExist):
							return fmt.Errorf("goroutine %d, call %d: sees %s/who of holder %d: %q, %v", g, i, dir, h, b, err)
						}
					}
					return nil
				}, opts[g])
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	checks := 0
	for running.Load() > 0 {
		if fs, ns := fsOf("/proc/self"), nsOf("/proc/self"); fs != originalFS || ns["mnt"] != original["mnt"] {
			t.Errorf("while the calls run, the process has %s in %s; want %s in %s", fs, ns["mnt"], originalFS, original["mnt"])
			break
		}
		checks++
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if checks == 0 {
		t.Error("the calls ended before the main goroutine checked")
	}
}

// envMain makes the test binary run mainChild with a holder's PID and
// directory.
const envMain = "GONS_NSTHREAD_TEST_MAIN"

// TestMountMainThread runs, in a child process whose main goroutine is
// not locked to the main thread (this process's is), calls into a mount
// namespace from the main goroutine: none runs on the main thread, which
// the runtime would park in the namespace instead of ending, and
// /proc/self (the main thread) keeps the process's working directory,
// root and mount namespace.
func TestMountMainThread(t *testing.T) {
	pid, dir := mntHolder(t, "gons-main", false)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d:%s", envMain, pid, dir))
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil || !strings.Contains(string(out), "main: ok") {
		t.Fatalf("%v", err)
	}
}

// mainChild is the child of TestMountMainThread. It returns the exit
// status.
func mainChild(arg string) int {
	runtime.UnlockOSThread() // the package's tests lock it in init
	var pid int
	var dir string
	if _, err := fmt.Sscanf(strings.Replace(arg, ":", " ", 1), "%d %s", &pid, &dir); err != nil {
		fmt.Println("main:", err)
		return 1
	}
	before := fsOf("/proc/self") + " " + nsOf("/proc/self")["mnt"]
	handedOff := 0
	testHookMainThread = func() { handedOff++ }
	for i := range 200 {
		s, err := Run(lookIn(dir), Target(pid, "mnt"))
		if err != nil || s.Who != "gons-main" || s.TID == os.Getpid() {
			fmt.Printf("main: call %d: %+v, %v; want the holder's file, off the main thread %d\n", i, s, err, os.Getpid())
			return 1
		}
		if now := fsOf("/proc/self") + " " + nsOf("/proc/self")["mnt"]; now != before {
			fmt.Printf("main: after call %d the main thread has %s, not %s\n", i, now, before)
			return 1
		}
	}
	fmt.Printf("main: ok (the call started on the main thread %d times)\n", handedOff)
	return 0
}
