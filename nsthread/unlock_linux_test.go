package nsthread

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonsproject/gons/internal/testutil"
	"golang.org/x/sys/unix"
)

// ordinaryGoroutines runs n goroutines that neither lock nor switch, each
// a few times across sleeps so that they spread over the runtime's
// threads, and returns what they saw that is not the process's own
// namespaces.
func ordinaryGoroutines(n int) []string {
	var (
		mu  sync.Mutex
		bad []string
		wg  sync.WaitGroup
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				ns := nsOf("/proc/thread-self")
				for _, typ := range allTypes {
					if ns[typ] != original[typ] {
						mu.Lock()
						bad = append(bad, fmt.Sprintf("thread %d: %s", unix.Gettid(), ns[typ]))
						mu.Unlock()
					}
				}
				time.Sleep(100 * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	return bad
}

// TestUnlocking runs functions that call runtime.UnlockOSThread
// themselves, once, twice, up to 16 times, that lock again, and that
// start goroutines: each still runs in the holder's namespaces on one
// thread, the call succeeds, and afterwards no thread of the process is in
// the holder's namespaces and many ordinary goroutines run in the
// process's own.
func TestUnlocking(t *testing.T) {
	pid := holder(t, "gons-unlocking")
	unlock := func(n int) func() {
		return func() {
			for range n {
				runtime.UnlockOSThread()
			}
		}
	}
	for _, c := range callers {
		for _, tc := range []struct {
			doc string
			fn  func()
		}{
			{"once", unlock(1)},
			{"twice", unlock(2)},
			{"16 times", unlock(16)},
			{"relock", func() { runtime.UnlockOSThread(); runtime.LockOSThread(); runtime.UnlockOSThread() }},
			{"goroutines", func() {
				runtime.UnlockOSThread()
				var wg sync.WaitGroup
				for range 20 {
					wg.Add(1)
					go func() { defer wg.Done(); time.Sleep(time.Millisecond) }()
				}
				wg.Wait()
			}},
		} {
			t.Run(c.name+"/"+tc.doc, func(t *testing.T) {
				var (
					err        error
					before     int
					hostname   string
					stillThere bool
				)
				asCaller(c.locked, func() {
					_, err = Run(func() (int, error) {
						before = unix.Gettid()
						tc.fn()
						// Give the scheduler every chance to move the
						// goroutine, were it free.
						for range 10 {
							runtime.Gosched()
							time.Sleep(100 * time.Microsecond)
						}
						stillThere = unix.Gettid() == before
						var herr error
						hostname, herr = os.Hostname()
						return 0, herr
					}, Target(pid))
				})
				if err != nil {
					t.Fatal(err)
				}
				if !stillThere || hostname != "gons-unlocking" {
					t.Errorf("the function moved off its thread: %v; saw hostname %q, want gons-unlocking", !stillThere, hostname)
				}
				if bad := strayThreads(); bad != nil {
					t.Errorf("after the call: %v", bad)
				}
				if bad := ordinaryGoroutines(200); bad != nil {
					t.Errorf("ordinary goroutines ran in the holder's namespaces: %v", bad)
				}
			})
		}
	}
}

// envLost makes the test binary run lostChild with the holder's PID.
const envLost = "GONS_NSTHREAD_TEST_LOST"

// TestLost runs, in a child process of its own (the thread it leaves
// behind stays in the holder's namespaces), a function that calls
// runtime.UnlockOSThread 100 times: the call reports ErrThreadLost, naming
// the thread, and the function's own error as well.
func TestLost(t *testing.T) {
	pid := holder(t, "gons-lost")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envLost+"="+strconv.Itoa(pid))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "lost: ok") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// lostChild is the child of TestLost. It returns the exit status.
func lostChild(pid int) int {
	errMine := errors.New("mine")
	for _, locked := range []bool{false, true} {
		var err error
		var tid int
		asCaller(locked, func() {
			err = Do(func() error {
				tid = unix.Gettid()
				for range 100 {
					runtime.UnlockOSThread()
				}
				return errMine
			}, Target(pid, "uts"))
		})
		var e *Error
		if !errors.As(err, &e) || e.Op != "lost" || !errors.Is(err, ErrThreadLost) || !errors.Is(err, errMine) ||
			e.Path != "thread "+strconv.Itoa(tid) {
			fmt.Printf("lost (locked caller %v): got %v, want ErrThreadLost naming thread %d and the function's error\n", locked, err, tid)
			return 1
		}
	}
	fmt.Println("lost: ok")
	return 0
}

// TestNoNamespaces gives Target a zombie and a kernel thread, whose
// namespaces the caller may share: an error that wraps ESRCH, and the
// function does not run.
func TestNoNamespaces(t *testing.T) {
	requireNS(t)
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	zombie := cmd.Process.Pid
	if states := testutil.WaitState(func(s []byte) bool { return s[0] == 'Z' }, zombie); states[0] != 'Z' {
		t.Fatalf("process %d is in state %c, not a zombie", zombie, states[0])
	}
	pidfd, err := unix.PidfdOpen(zombie, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	for _, tc := range []struct {
		doc string
		opt Option
	}{
		{"zombie", Target(zombie)},
		{"zombie, net", Target(zombie, "net")},
		{"zombie, mnt", Target(zombie, "mnt")},
		{"zombie by pidfd", TargetPidfd(pidfd, "uts")},
		{"kernel thread", Target(2)},
		{"kernel thread, mnt and uts", Target(2, "mnt", "uts")},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			called := false
			err := Do(func() error { called = true; return nil }, tc.opt)
			var e *Error
			if !errors.As(err, &e) || e.Op != "target" || !errors.Is(err, unix.ESRCH) || called {
				t.Errorf("got %v, called %v; want a target error wrapping ESRCH", err, called)
			}
		})
	}
}
