package nsthread

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	_ "unsafe" // for go:linkname

	"github.com/gonsproject/gons/status"
	"golang.org/x/sys/unix"
)

// flags are the setns flags of every namespace type, by name.
var flags = map[string]int{
	"cgroup": unix.CLONE_NEWCGROUP, "ipc": unix.CLONE_NEWIPC, "net": unix.CLONE_NEWNET, "uts": unix.CLONE_NEWUTS,
	"mnt": unix.CLONE_NEWNS, "pid": unix.CLONE_NEWPID, "time": unix.CLONE_NEWTIME, "user": unix.CLONE_NEWUSER,
}

// cloneFlag returns the setns flag of a thread-joinable namespace type.
func cloneFlag(typ string) (int, bool) {
	return flags[typ], joinable(typ)
}

// typeOf names the namespace type of a CLONE_NEW* flag, for messages.
func typeOf(flag int) string {
	for typ, f := range flags {
		if f == flag {
			return typ
		}
	}
	return "0x" + strconv.FormatInt(int64(flag), 16)
}

// testHookRestore, when set by a test, is called before each switch back;
// an error it returns counts as a failed setns.
var testHookRestore func(typ string) error

// testHookTarget, when set by a test, is called with the PID after
// pidfd_open and before the switch.
var testHookTarget func(pid int)

// joined is a namespace type the thread has to go back from: the
// descriptor of the process's own namespace of that type, and the type.
type joined struct {
	fd   int
	flag int
	typ  string
}

// home holds a descriptor of each of the process's own namespaces, those
// /proc/self/ns shows, opened at the first switch of that type and kept
// open: every thread goes back there. Opening it anew for each call, as
// /proc/thread-self/ns, would cost as much as the two switches together.
var home struct {
	mu  sync.Mutex
	fds [4]atomic.Int32 // fd+1 by typeIndex; 0: not open yet
}

// homeFD returns the descriptor of the process's own namespace of type
// typ, opening it the first time.
func homeFD(typ string) (int, error) {
	slot := &home.fds[typeIndex(typ)]
	if v := slot.Load(); v != 0 {
		return int(v - 1), nil
	}
	home.mu.Lock()
	defer home.mu.Unlock()
	if v := slot.Load(); v != 0 {
		return int(v - 1), nil
	}
	path := "/proc/self/ns/" + typ
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &Error{Op: "open", Type: typ, Path: path, Err: err}
	}
	slot.Store(int32(fd + 1))
	return fd, nil
}

// lockedOSThread reports whether the calling goroutine is locked to its
// thread, by runtime.LockOSThread or as a cgo callback. The runtime offers
// it to linkname (runtime/linkname.go); nothing else tells.
//
//go:linkname lockedOSThread runtime.lockedOSThread
func lockedOSThread() bool

// run calls fn on a locked thread in the namespaces and returns its error.
// A caller whose goroutine is free to move has no thread of its own to
// keep, so fn runs on it: handing fn to another goroutine would cost more
// than the two switches (the scheduler wakes an idle processor's thread to
// start it and again to hand back). A caller whose goroutine is locked
// keeps its thread as it was: fn runs on a fresh goroutine instead.
func (c *config) run(fn func() error) (err error) {
	if !lockedOSThread() {
		c.onThread(fn, &err)
		return err
	}
	done := make(chan error, 1)
	go func() {
		var err error
		defer func() { done <- err }() // also after a runtime.Goexit in fn
		c.onThread(fn, &err)
	}()
	return <-done
}

// onThread locks the goroutine to its thread, switches, calls fn, switches
// back, and unlocks only when all of that went well. Otherwise the
// goroutine stays locked, so the runtime never hands the thread to
// another goroutine and ends it when the goroutine ends (the main thread
// it parks for good). It sets *err from a deferred call, so that a panic
// or a runtime.Goexit in fn is caught too.
func (c *config) onThread(fn func() error, err *error) {
	runtime.LockOSThread()
	var (
		store  [4]joined // at most one of each type: no allocation
		back   = store[:0]
		clean  bool // the thread is in its own namespaces again
		normal bool // fn, if it was called, returned
	)
	defer func() {
		if !normal {
			p := &PanicError{Value: recover(), Stack: debug.Stack()}
			// recover returns nil only for runtime.Goexit (panic(nil)
			// panics with a *runtime.PanicNilError since Go 1.21).
			p.Goexit = p.Value == nil
			*err = &Error{Op: "panic", Err: p, Discarded: true}
			// The thread is not reused, but the goroutine may go on on
			// it, and it may be the main thread, which the runtime parks
			// rather than ends and /proc/self shows: take it back home.
			restore(back)
		} else if clean {
			runtime.UnlockOSThread()
		}
	}()
	if *err = c.switchIn(&back); *err != nil {
		normal, clean = true, !errors.Is(*err, ErrThreadDiscarded)
		return
	}
	ferr := fn()
	normal = true
	if rerr := restore(back); rerr != nil {
		*err = rerr
		if ferr != nil {
			*err = fmt.Errorf("%w; then %w", ferr, rerr)
		}
		return
	}
	clean, *err = true, ferr
}

// switchIn opens and checks every namespace, notes in back the types to
// go back from, and joins them. When joining fails
// half-way, it switches back what it joined.
func (c *config) switchIn(back *[]joined) error {
	if c.pid != 0 || c.pidfd >= 0 {
		return c.switchTarget(back)
	}
	fds := make([]int, 0, 4) // checked: at most one of each type
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, n := range c.ns {
		typ := trimBang(n.Type)
		flag, _ := cloneFlag(typ)
		fd, err := unix.Open(n.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &Error{Op: "open", Type: typ, Path: n.Path, Err: err}
		}
		fds = append(fds, fd)
		got, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
		if err != nil {
			return &Error{Op: "check", Type: typ, Path: n.Path, Err: fmt.Errorf("not a namespace file: %w", err)}
		}
		if got != flag {
			return &Error{Op: "check", Type: typ, Path: n.Path, Err: fmt.Errorf("namespace type %s, not %s: %w", typeOf(got), typ, status.ErrWrongType)}
		}
		if err := own(back, typ, flag); err != nil {
			return err
		}
	}
	for i, n := range c.ns {
		if err := unix.Setns(fds[i], (*back)[i].flag); err != nil {
			e := &Error{Op: "setns", Type: (*back)[i].typ, Path: n.Path, Err: err}
			return leave((*back)[:i], e)
		}
	}
	return nil
}

// switchTarget joins the namespaces of a process through a pidfd, all
// types in one setns(2).
func (c *config) switchTarget(back *[]joined) error {
	pidfd := c.pidfd
	if c.pid != 0 {
		fd, err := unix.PidfdOpen(c.pid, 0)
		if err != nil {
			return &Error{Op: "target", Path: c.targetName(), Err: err}
		}
		defer unix.Close(fd)
		pidfd = fd
		if testHookTarget != nil {
			testHookTarget(c.pid)
		}
	}
	flags := 0
	for _, typ := range c.pidTyp {
		flag, _ := cloneFlag(typ)
		if err := own(back, typ, flag); err != nil {
			return err
		}
		flags |= flag
	}
	if err := unix.Setns(pidfd, flags); err != nil {
		typ := ""
		if len(c.pidTyp) == 1 {
			typ = c.pidTyp[0]
		}
		return &Error{Op: "setns", Type: typ, Path: c.targetName(), Err: err}
	}
	return nil
}

// targetName names the target in errors: "pid N" or "pidfd N".
func (c *config) targetName() string {
	if c.pid != 0 {
		return "pid " + strconv.Itoa(c.pid)
	}
	return "pidfd " + strconv.Itoa(c.pidfd)
}

// own appends the process's own namespace of type typ to back.
func own(back *[]joined, typ string, flag int) error {
	fd, err := homeFD(typ)
	if err != nil {
		return err
	}
	*back = append(*back, joined{fd: fd, flag: flag, typ: typ})
	return nil
}

// leave switches back out of the namespaces in back, in reverse order,
// after joining failed with e. If that fails too, the thread is lost.
func leave(back []joined, e *Error) error {
	if err := restore(back); err != nil {
		e.Discarded = true
		return fmt.Errorf("%w; then %w", e, err)
	}
	return e
}

// restore switches the thread back into the namespaces in back, last
// joined first.
func restore(back []joined) error {
	for i := len(back) - 1; i >= 0; i-- {
		j := back[i]
		var err error
		if testHookRestore != nil {
			err = testHookRestore(j.typ)
		}
		if err == nil {
			err = unix.Setns(j.fd, j.flag)
		}
		if err != nil {
			return &Error{Op: "restore", Type: j.typ, Path: "/proc/self/ns/" + j.typ, Err: err, Discarded: true}
		}
	}
	return nil
}
