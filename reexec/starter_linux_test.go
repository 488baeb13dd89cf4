package reexec

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestFirstThreadChildLives starts children until one starts from a
// goroutine that runs, unlocked, on the program's first thread, which
// startExec forks from that thread rather than from a starter. A
// goroutine locked to that thread then ends there: the runtime parks the
// thread rather than ending it, and the child, whose parent-death signal
// is tied to the thread that forked it, lives on. It runs in a copy of
// the test binary of its own, whose first thread no earlier test has
// parked.
func TestFirstThreadChildLives(t *testing.T) {
	if os.Getenv("GONS_TEST_FIRST_THREAD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFirstThreadChildLives$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "GONS_TEST_FIRST_THREAD=1")
		out, err := cmd.CombinedOutput()
		if strings.Contains(string(out), "--- SKIP: TestFirstThreadChildLives") {
			testutil.Unavailable(t, "%s", out)
		}
		if err != nil || !strings.Contains(string(out), "--- PASS: TestFirstThreadChildLives") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	sleep := testutil.RequireTool(t, "sleep")
	var child *exec.Cmd
	for try := 0; child == nil; try++ {
		if try == 1000 {
			t.Fatal("no child started from the first thread in 1000 tries")
		}
		runtime.Gosched()
		c := exec.Command(sleep, "60")
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := startExec(c); err != nil {
			t.Fatal(err)
		}
		if forkedBy(t, firstTID, c.Process.Pid) {
			child = c
			break
		}
		c.Process.Kill()
		c.Wait()
	}
	defer func() {
		child.Process.Kill()
		child.Wait()
	}()
	pidfd, err := unix.PidfdOpen(child.Process.Pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	for try := 0; ; try++ {
		if try == 1000 {
			t.Fatal("no goroutine ran on the first thread in 1000 tries")
		}
		first := make(chan bool)
		go func() {
			runtime.LockOSThread()
			on := unix.Gettid() == firstTID
			if !on {
				runtime.UnlockOSThread()
			}
			first <- on // and ends, locked to the first thread if on
		}()
		if <-first {
			break
		}
	}
	// Had the thread ended, the signal would have come with its end.
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 200); err != nil || n != 0 {
		t.Errorf("the child started from the first thread ended with it (poll: %d, %v)", n, err)
	}
}

// forkedBy reports whether the process pid is a child of thread tid of
// this process.
func forkedBy(t *testing.T, tid, pid int) bool {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/children")
	if err != nil {
		testutil.Unavailable(t, "no children file (CONFIG_PROC_CHILDREN): %v", err)
	}
	return slices.Contains(strings.Fields(string(b)), strconv.Itoa(pid))
}

// BenchmarkStartHandOver measures what starting an exec'd child from a
// starter thread costs over starting it from the calling goroutine's
// thread: each iteration starts /bin/true one way (starter; auto, as
// startExec chooses; direct) and waits for it. Both report the median time Start took (start-ns) and the
// process's CPU time an iteration (cpu-ns/op), which the two ways share
// but for the hand-over; run with -count to pair them.
func BenchmarkStartHandOver(b *testing.B) {
	if _, err := exec.LookPath("/bin/true"); err != nil {
		b.Skip("no /bin/true")
	}
	for _, way := range []struct {
		name  string
		start func(*exec.Cmd) error
	}{
		{"starter", handOver},
		{"auto", startExec},
		{"direct", func(c *exec.Cmd) error { return c.Start() }},
	} {
		b.Run(way.name, func(b *testing.B) {
			run := func() int64 {
				c := exec.Command("/bin/true")
				c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
				t0 := time.Now()
				if err := way.start(c); err != nil {
					b.Fatal(err)
				}
				d := int64(time.Since(t0))
				if err := c.Wait(); err != nil {
					b.Fatal(err)
				}
				return d
			}
			run() // the first starter
			var starts []int64
			c0 := processCPU()
			for b.Loop() {
				starts = append(starts, run())
			}
			b.ReportMetric(float64(processCPU()-c0)/float64(b.N), "cpu-ns/op")
			slices.Sort(starts)
			b.ReportMetric(float64(starts[len(starts)/2]), "start-ns")
		})
	}
}

// processCPU returns the CPU time the process used, in ns.
func processCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
