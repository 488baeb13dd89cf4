package testutil

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// OnDiscardedThread calls f on a locked thread that is not the process's
// main thread and is never given back to the runtime, which ends it with
// the goroutine: f may leave the thread in other namespaces, directories
// or credentials. Not the main thread, because the runtime parks that
// one for good instead of ending it, and /proc/self shows the main
// thread's namespaces, root and directory to every later test.
func OnDiscardedThread(f func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked, but for the main thread
		if unix.Gettid() == unix.Getpid() {
			// While this goroutine holds the main thread, the next one
			// locks another.
			OnDiscardedThread(f)
			runtime.UnlockOSThread()
			close(done)
			return
		}
		defer close(done)
		f()
	}()
	<-done
}
