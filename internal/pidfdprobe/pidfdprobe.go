// Package pidfdprobe runs the os package's one-time probe of the kernel's
// pidfd support before the module starts a child of its own. It is not
// part of the API.
//
// The os package checks, at its first use of a pidfd, that the pidfd
// system calls work, and part of that check is a short-lived child that
// shares the program's memory, cloned with CLONE_VFORK. os/exec runs the
// check before it forks; the module's own starts (the fork server's and
// nsexec's direct route) have the os package find the child after it
// started, which would run the check while the child runs. That probe is a
// process of the program's process group: at a terminal, a ^Z that stops
// it leaves the thread that waits for it unable to stop, so that the
// shell never sees the job stop, and a look at the program's children in
// that moment finds one more.
package pidfdprobe

import (
	"os"
	"sync"
)

// Run runs the os package's pidfd check now, once per program: a lookup
// of the program's own process, released at once.
var Run = sync.OnceFunc(func() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
})
