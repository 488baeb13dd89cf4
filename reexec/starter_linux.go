package reexec

import (
	"os/exec"
	"runtime"
	"sync"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"
)

// The parent-death signal of an exec'd child (PR_SET_PDEATHSIG, which
// exec.Cmd sets from SysProcAttr.Pdeathsig) fires when the thread that
// forked the child ends, not the process. The Go runtime ends a thread
// when a goroutine locked to it (runtime.LockOSThread) exits, which
// nsthread does on purpose with a thread it changed: a child forked from
// a pooled thread would be killed when any such goroutine happened to
// end there. So children are forked from starter threads, each locked by
// a goroutine that never unlocks or ends: they live as long as the
// program.
//
// A caller whose goroutine is locked to its thread may have changed that
// thread (its network namespace, say) for the child to inherit, as an
// exec'd child inherits the calling thread's state: its child is forked
// from its own thread, as before, and dies when that thread ends.
//
// The program's first thread never ends before the program either: the
// runtime parks it for good where it would end another (runtime.mexit).
// A caller that runs on it forks there, which spares the hand-over to a
// starter and back (BenchmarkStartHandOver).

// maxStarters bounds the starter threads: one forks at a time (the
// runtime's fork waits for the exec), more would only wait for a CPU.
var maxStarters = max(2, runtime.GOMAXPROCS(0))

// startJob is a child to start and where its error goes.
type startJob struct {
	cmd  *exec.Cmd
	done chan error
}

var starters = struct {
	mu   sync.Mutex
	n    int
	jobs chan startJob
}{jobs: make(chan startJob)}

// lockedOSThread reports whether the calling goroutine is locked to its
// thread; the runtime exports it for this use (runtime/linkname.go).
//
//go:linkname lockedOSThread runtime.lockedOSThread
func lockedOSThread() bool

// firstTID is the thread ID of the program's first thread: its PID.
var firstTID = unix.Getpid()

// startExec starts cmd, from a starter thread unless the calling
// goroutine is locked to its own or runs on the program's first thread.
func startExec(cmd *exec.Cmd) error {
	if lockedOSThread() {
		return cmd.Start()
	}
	runtime.LockOSThread() // where it forks is where it asks
	if unix.Gettid() == firstTID {
		defer runtime.UnlockOSThread()
		return cmd.Start()
	}
	runtime.UnlockOSThread()
	return handOver(cmd)
}

// handOver starts cmd from a starter thread.
func handOver(cmd *exec.Cmd) error {
	j := startJob{cmd: cmd, done: make(chan error, 1)}
	select {
	case starters.jobs <- j:
	default: // every starter is busy
		starters.mu.Lock()
		if starters.n < maxStarters {
			starters.n++
			go starter()
		}
		starters.mu.Unlock()
		starters.jobs <- j
	}
	return <-j.done
}

// starter starts children on a thread of its own, for the life of the
// program.
func starter() {
	runtime.LockOSThread() // never undone: the thread must not end
	for j := range starters.jobs {
		j.done <- j.cmd.Start()
	}
}
