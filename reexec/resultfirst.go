package reexec

import "sync"

// MaxBackground bounds how many children of runs with [ResultFirst] may
// be exiting, not yet reaped, at once. A run that would exceed it waits
// for its child's exit as without the option.
const MaxBackground = 64

// ResultFirst makes a run of a typed action ([Func.Run]) return as soon
// as the child's result has arrived, instead of once the child has also
// exited and been reaped, which takes a few hundred microseconds more:
// the child's exit is waited for in the background. It is opt-in because
// it gives up what only the exit would show:
//
//   - A run returns success once the result is in, even if the child then
//     fails as it exits: a non-zero status or a signal after the result
//     (a crash in an exit hook, a goroutine of the action that panics
//     late, coverage data that cannot be written) is lost.
//   - The option applies only where nothing of the child's output is the
//     caller's to copy: without [Stdout] and [Stderr] options, for typed
//     actions. Other runs, runs that fail, and runs beyond
//     [MaxBackground] children still exiting wait for the exit as
//     without the option.
//   - The child may still exist when the run returns. It is never left
//     behind: it is reaped in the background, [WaitBackground] waits until
//     every such child is, and it dies with the program, as every child
//     does (the parent-death signal), when the program ends or is killed
//     first.
func ResultFirst() Option {
	return optionFunc(func(o *options) error {
		o.resultFirst = true
		return nil
	})
}

// background counts the children of ResultFirst runs still being reaped.
var background struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil while n is 0
}

// acquireBackground takes a place for a child to reap in the background,
// and reports whether there was one.
func acquireBackground() bool {
	background.mu.Lock()
	defer background.mu.Unlock()
	if background.n >= MaxBackground {
		return false
	}
	if background.n == 0 {
		background.idle = make(chan struct{})
	}
	background.n++
	return true
}

func releaseBackground() {
	background.mu.Lock()
	defer background.mu.Unlock()
	background.n--
	if background.n == 0 {
		close(background.idle)
		background.idle = nil
	}
}

// WaitBackground waits until every child of a run with [ResultFirst] that
// had returned when it was called has been reaped.
func WaitBackground() {
	background.mu.Lock()
	idle := background.idle
	background.mu.Unlock()
	if idle != nil {
		<-idle
	}
}
