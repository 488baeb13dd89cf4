package nsthread

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
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

// pidfdGetNS are the numbers of the PIDFD_GET_<TYPE>_NAMESPACE ioctls of
// <linux/pidfd.h> (Linux 6.11): _IO(0xFF, nr).
var pidfdGetNS = map[string]uint{"cgroup": 1, "ipc": 2, "mnt": 3, "net": 4, "user": 9, "uts": 10}

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

// extraLocks is how many more runtime.LockOSThread calls the function
// runs under than the one that locks the goroutine for the call: a
// function that calls runtime.UnlockOSThread, even this many times more
// often than runtime.LockOSThread, cannot free the goroutine from the
// thread it switched. A pair costs a few nanoseconds.
const extraLocks = 16

// testHookRestore, when set by a test, is called before each switch back;
// an error it returns counts as a failed setns.
var testHookRestore func(typ string) error

// testHookMainThread, when set by a test, is called when a call that
// needs a thread of its own started on the main thread.
var testHookMainThread func()

// testHookTarget, when set by a test, is called with the PID after
// pidfd_open and before the switch.
var testHookTarget func(pid int)

// nsID tells namespaces apart: the device and inode of their nsfs files.
type nsID struct{ dev, ino uint64 }

func idOf(fd int) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nsID{}, err
	}
	return nsID{uint64(st.Dev), st.Ino}, nil
}

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
	fds [5]atomic.Int32 // fd+1 by typeIndex; 0: not open yet
	ids [5]nsID         // written before fds
}

// homeFD returns the descriptor of the process's own namespace of type
// typ, opening it the first time, and its identity. An error that wraps
// ENOENT says the kernel has no namespaces of that type.
func homeFD(typ string) (int, nsID, error) {
	i := typeIndex(typ)
	slot := &home.fds[i]
	if v := slot.Load(); v != 0 {
		return int(v - 1), home.ids[i], nil
	}
	home.mu.Lock()
	defer home.mu.Unlock()
	if v := slot.Load(); v != 0 {
		return int(v - 1), home.ids[i], nil
	}
	path := "/proc/self/ns/" + typ
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		home.ids[i], err = idOf(fd)
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		if err == unix.ENOENT {
			err = fmt.Errorf("the kernel has no %s namespaces: %w", typ, err)
		}
		return -1, nsID{}, &Error{Op: "open", Type: typ, Path: path, Err: err}
	}
	slot.Store(int32(fd + 1))
	return fd, home.ids[i], nil
}

// homeUser is the identity of the process's user namespace.
func homeUser() nsID {
	var st unix.Stat_t
	if unix.Stat("/proc/self/ns/user", &st) != nil {
		return nsID{}
	}
	return nsID{uint64(st.Dev), st.Ino}
}

// lockedOSThread reports whether the calling goroutine is locked to its
// thread, by runtime.LockOSThread or as a cgo callback. The runtime offers
// it to linkname (runtime/linkname.go); nothing else tells.
//
//go:linkname lockedOSThread runtime.lockedOSThread
func lockedOSThread() bool

// step is a namespace to join by path.
type step struct {
	fd   int
	flag int
	typ  string
	path string
}

// plan is what a call switches, prepared (every file opened and checked,
// the target found alive) before any thread is touched.
type plan struct {
	c     *config
	store [5]step // by path, in order; at most one of each type
	steps []step
	pidfd int  // the target's pidfd, or -1
	close bool // pidfd is ours to close
	flags int  // types to join through pidfd
	mnt   bool // a mount namespace is joined: the thread gets a filesystem context of its own and is discarded
	back  []joined
	bstor [4]joined
}

// prepare opens and checks what c names. On error, p.release closes what
// was opened.
func (p *plan) prepare(c *config) error {
	p.c, p.pidfd, p.steps, p.back = c, -1, p.store[:0], p.bstor[:0]
	if c.pid != 0 || c.pidfd >= 0 {
		return p.prepareTarget()
	}
	for _, n := range c.ns {
		typ := trimBang(n.Type)
		flag, _ := cloneFlag(typ)
		fd, err := unix.Open(n.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &Error{Op: "open", Type: typ, Path: n.Path, Err: err}
		}
		got, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
		if err != nil {
			unix.Close(fd)
			return &Error{Op: "check", Type: typ, Path: n.Path, Err: fmt.Errorf("not a namespace file: %w", err)}
		}
		if got != flag {
			unix.Close(fd)
			return &Error{Op: "check", Type: typ, Path: n.Path, Err: fmt.Errorf("namespace type %s, not %s: %w", typeOf(got), typ, status.ErrWrongType)}
		}
		p.steps = append(p.steps, step{fd: fd, flag: flag, typ: typ, path: n.Path})
		_, own, err := homeFD(typ)
		if err != nil {
			return err
		}
		if typ == "mnt" {
			// The process's own mount namespace is skipped, as in a
			// child: joining it would reset the working directory.
			if id, err := idOf(fd); err == nil && id == own {
				p.steps = p.steps[:len(p.steps)-1]
				unix.Close(fd)
				continue
			}
			p.mnt = true
		}
	}
	return nil
}

// prepareTarget opens the target's pidfd, checks that it has namespaces
// of its own, and finds the types to join: those the kernel has, and
// mnt only when the target's differs from the process's.
func (p *plan) prepareTarget() error {
	c := p.c
	p.pidfd = c.pidfd
	if c.pid != 0 {
		fd, err := unix.PidfdOpen(c.pid, 0)
		if err != nil {
			return &Error{Op: "target", Path: c.targetName(), Err: err}
		}
		p.pidfd, p.close = fd, true
		if testHookTarget != nil {
			testHookTarget(c.pid)
		}
	}
	if err := alive(p.pidfd, c.pid); err != nil {
		return &Error{Op: "target", Path: c.targetName(), Err: err}
	}
	for _, typ := range c.pidTyp {
		_, own, err := homeFD(typ)
		if err != nil {
			if c.pidAll && errors.Is(err, unix.ENOENT) {
				continue // the kernel lacks the type, and it was not named
			}
			return err
		}
		if typ == "mnt" {
			id, err := targetID(p.pidfd, c.pid, "mnt")
			if err == unix.EPERM || err == unix.EACCES {
				err = privilegeError(err, []string{"mnt"}, false)
			}
			if err != nil {
				return &Error{Op: "open", Type: "mnt", Path: c.targetName(), Err: err}
			}
			if id == own {
				continue
			}
			p.mnt = true
		}
		p.flags |= flags[typ]
	}
	return nil
}

// release closes what prepare opened.
func (p *plan) release() {
	for _, s := range p.steps {
		unix.Close(s.fd)
	}
	if p.close {
		unix.Close(p.pidfd)
	}
}

// alive checks that the process of pidfd has namespaces of its own: not a
// zombie, whose namespaces are gone while its PID and pidfd live on, nor
// a kernel thread. Both have no memory, which process_madvise(2) reports
// with ESRCH at the cost of one system call; where it cannot tell (the
// caller may not look at the process's memory, or the kernel predates it)
// /proc/PID/stat does.
func alive(pidfd, pid int) error {
	_, _, e := unix.Syscall6(unix.SYS_PROCESS_MADVISE, uintptr(pidfd), 0, 0, unix.MADV_COLD, 0, 0)
	switch e {
	case 0:
		return nil
	case unix.ESRCH:
		return gone(e)
	}
	if pid == 0 {
		pid = pidOf(pidfd)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err == nil && unix.PidfdSendSignal(pidfd, 0, nil, 0) == unix.ESRCH {
		err = unix.ESRCH // what was read may be a newcomer's
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return gone(unix.ESRCH)
		}
		return nil // setns will tell
	}
	// pid (comm) state ppid pgrp session tty tpgid flags ...
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) > 6 {
		if f[0] == "Z" || f[0] == "X" {
			return gone(unix.ESRCH)
		}
		const pfKthread = 0x00200000
		if fl, _ := strconv.ParseUint(f[6], 10, 64); fl&pfKthread != 0 {
			return gone(unix.ESRCH)
		}
	}
	return nil
}

func gone(e error) error {
	return fmt.Errorf("%w: %w", ErrNoNamespaces, e)
}

// pidOf returns the PID of the process of pidfd, from /proc/self/fdinfo;
// 0 if unknown.
func pidOf(pidfd int) int {
	b, _ := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(pidfd))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			pid, _ := strconv.Atoi(strings.TrimSpace(v))
			return max(pid, 0)
		}
	}
	return 0
}

// targetID returns the identity of the target's namespace of type typ:
// through the pidfd (Linux 6.11), or through /proc/PID/ns, checking
// afterwards that the pidfd's process still lives.
func targetID(pidfd, pid int, typ string) (nsID, error) {
	fd, err := unix.IoctlRetInt(pidfd, 0xFF00|pidfdGetNS[typ])
	if err == nil {
		id, err := idOf(fd)
		unix.Close(fd)
		return id, err
	}
	if err != unix.ENOTTY && err != unix.EINVAL {
		return nsID{}, err
	}
	if pid == 0 {
		pid = pidOf(pidfd)
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/"+typ, &st); err != nil {
		return nsID{}, err
	}
	if err := alive(pidfd, pid); err != nil {
		return nsID{}, err
	}
	return nsID{uint64(st.Dev), st.Ino}, nil
}

// run calls fn on a locked thread in the namespaces and returns its error.
// A call that joins a mount namespace, or sets a directory, runs on a
// thread of its own that is discarded afterwards. Otherwise, a caller
// whose goroutine is free to move has no thread of its own to keep, so
// fn runs on it: handing fn to another goroutine would cost more than the
// two switches (the scheduler wakes an idle processor's thread to start
// it and again to hand back). A caller whose goroutine is locked keeps
// its thread as it was: fn runs on a fresh goroutine instead.
func (c *config) run(fn func() error) (err error) {
	var p plan
	defer p.release()
	if err := p.prepare(c); err != nil {
		return err
	}
	if p.mnt || c.dir != "" {
		done := make(chan error, 1)
		go p.ownThread(fn, done)
		return <-done
	}
	if !lockedOSThread() {
		p.onThread(fn, &err)
		return err
	}
	done := make(chan error, 1)
	go func() {
		var err error
		defer func() { done <- err }() // also after a runtime.Goexit in fn
		p.onThread(fn, &err)
	}()
	return <-done
}

// callLocked calls fn under extraLocks more locks of the goroutine to its
// thread, and reports whether fn ended on thread tid still locked to it.
// The extra locks are left for the caller to release.
func callLocked(fn func() error, tid int) (error, bool) {
	for range extraLocks {
		runtime.LockOSThread()
	}
	err := fn()
	return err, unix.Gettid() == tid && lockedOSThread()
}

// unlockAll releases the call's locks: the one it took and extraLocks.
// Locks fn took and kept stay; an unlock too many is a no-op.
func unlockAll() {
	for range extraLocks + 1 {
		runtime.UnlockOSThread()
	}
}

// panicked makes the error of a function that panicked or called
// runtime.Goexit, from a deferred call.
func panicked(v any) *Error {
	p := &PanicError{Value: v, Stack: debug.Stack()}
	// recover returns nil only for runtime.Goexit (panic(nil) panics
	// with a *runtime.PanicNilError since Go 1.21).
	p.Goexit = p.Value == nil
	return &Error{Op: "panic", Err: p, Discarded: true}
}

// lostError is the error of a call whose function let go of thread tid.
func lostError(tid int) *Error {
	return &Error{Op: "lost", Path: "thread " + strconv.Itoa(tid), Err: ErrThreadLost}
}

// onThread locks the goroutine to its thread, switches, calls fn, switches
// back, and unlocks only when all of that went well. Otherwise the
// goroutine stays locked, so the runtime never hands the thread to
// another goroutine and ends it when the goroutine ends (the main thread
// it parks for good). It sets *err from a deferred call, so that a panic
// or a runtime.Goexit in fn is caught too.
func (p *plan) onThread(fn func() error, err *error) {
	runtime.LockOSThread()
	tid := unix.Gettid()
	var (
		clean  bool // the thread is in its own namespaces again
		normal bool // fn, if it was called, returned
	)
	defer func() {
		if !normal {
			e := panicked(recover())
			*err = e
			if unix.Gettid() != tid || !lockedOSThread() {
				runtime.LockOSThread()
				*err = chain(e, lostError(tid))
			}
			// The thread is not reused, but the goroutine may go on on
			// it, and it may be the main thread, which the runtime parks
			// rather than ends and /proc/self shows: take it back home.
			restore(p.back)
		} else if clean {
			unlockAll()
		}
	}()
	if *err = p.switchIn(); *err != nil {
		normal, clean = true, !errors.Is(*err, ErrThreadDiscarded)
		return
	}
	ferr, kept := callLocked(fn, tid)
	normal = true
	var lost error
	if !kept {
		// fn let the goroutine go: thread tid may be anywhere, in the
		// namespaces. Switch back the thread the goroutine is on now,
		// which fn's code may have joined too.
		runtime.LockOSThread()
		lost = lostError(tid)
	}
	if rerr := restore(p.back); rerr != nil {
		*err = chain(ferr, lost, rerr)
		return
	}
	clean, *err = true, chain(ferr, lost)
}

// chain joins the errors that are not nil: "first; then second".
func chain(errs ...error) error {
	var out error
	for _, e := range errs {
		switch {
		case e == nil:
		case out == nil:
			out = e
		default:
			out = fmt.Errorf("%w; then %w", out, e)
		}
	}
	return out
}

// ownThread runs fn on a thread of its own, which gets a filesystem
// context of its own (unshare CLONE_FS: a mount namespace can be joined,
// and the working directory changed, only then) and is never shared with
// the process again: the goroutine stays locked to it and the runtime
// ends it with the goroutine. It sends fn's error, or the call's, to done.
func (p *plan) ownThread(fn func() error, done chan<- error) {
	runtime.LockOSThread() // never unlocked, but for the main thread
	if unix.Gettid() == unix.Getpid() {
		// The main thread: the runtime parks it for good instead of
		// ending it, and /proc/self shows its working directory, root
		// and namespaces. Keep it out: while this goroutine holds it,
		// another one locks a thread, which so cannot be the main
		// thread, and makes the call. The main thread is let go as soon
		// as that one is locked, and the answer goes straight to the
		// caller: through this goroutine, it would wait for the
		// runtime to give the main thread back to it.
		if testHookMainThread != nil {
			testHookMainThread()
		}
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread() // never unlocked
			close(locked)
			p.onOwnThread(fn, done)
		}()
		<-locked
		runtime.UnlockOSThread()
		return
	}
	p.onOwnThread(fn, done)
}

// onOwnThread is ownThread on a thread other than the main one, to which
// the goroutine is locked for good.
func (p *plan) onOwnThread(fn func() error, done chan<- error) {
	var err error
	defer func() { done <- err }() // also after a runtime.Goexit in fn
	tid := unix.Gettid()
	normal := false
	defer func() {
		if !normal {
			err = panicked(recover())
			if unix.Gettid() != tid || !lockedOSThread() {
				runtime.LockOSThread()
				err = chain(err, lostError(tid))
			}
		}
	}()
	if e := unix.Unshare(unix.CLONE_FS); e != nil {
		normal, err = true, &Error{Op: "unshare", Err: e}
		return
	}
	if err = p.switchIn(); err != nil {
		normal = true
		return
	}
	if p.c.dir != "" {
		if e := unix.Chdir(p.c.dir); e != nil {
			normal, err = true, &Error{Op: "chdir", Path: p.c.dir, Err: e}
			return
		}
	}
	ferr, kept := callLocked(fn, tid)
	normal, err = true, ferr
	if !kept {
		// The thread the goroutine is on now ends with it too.
		runtime.LockOSThread()
		err = chain(ferr, lostError(tid))
	}
}

// switchIn joins the namespaces of the plan and notes in p.back the types
// to go back from. A namespace the process is in already is skipped when
// joining it fails, as in a child. When joining fails half-way, it
// switches back what it joined.
func (p *plan) switchIn() error {
	if p.pidfd >= 0 {
		return p.switchTarget()
	}
	for _, s := range p.steps {
		err := unix.Setns(s.fd, s.flag)
		if err != nil && p.own(s.fd, s.typ) {
			continue // changes nothing, as in a child
		}
		if err != nil {
			if err == unix.EPERM || err == unix.EACCES {
				err = privilegeError(err, []string{s.typ}, otherUser(s.fd))
			}
			return leave(p.back, &Error{Op: "setns", Type: s.typ, Path: s.path, Err: err})
		}
		if s.typ != "mnt" {
			fd, _, _ := homeFD(s.typ) // opened by prepare
			p.back = append(p.back, joined{fd: fd, flag: s.flag, typ: s.typ})
		}
	}
	return nil
}

// own reports whether fd is the process's own namespace of type typ.
func (p *plan) own(fd int, typ string) bool {
	_, own, err := homeFD(typ)
	id, ierr := idOf(fd)
	return err == nil && ierr == nil && id == own
}

// otherUser reports whether the namespace of fd belongs to a user
// namespace other than the process's.
func otherUser(fd int) bool {
	ufd, err := unix.IoctlRetInt(fd, unix.NS_GET_USERNS)
	if err != nil {
		return false
	}
	defer unix.Close(ufd)
	id, err := idOf(ufd)
	return err == nil && id != homeUser()
}

// switchTarget joins the namespaces of a process through a pidfd, all
// types in one setns(2). When that fails, it leaves out the types the
// process shares with the target, as a child does, and tries again.
func (p *plan) switchTarget() error {
	if p.flags == 0 {
		return nil // every type shared: the target was checked alive
	}
	err := unix.Setns(p.pidfd, p.flags)
	if err != nil {
		asked := p.flags
		for _, typ := range p.c.pidTyp {
			if p.flags&flagOf(typ) == 0 {
				continue
			}
			_, own, herr := homeFD(typ)
			id, terr := targetID(p.pidfd, p.c.pid, typ)
			if herr == nil && terr == nil && id == own {
				p.flags &^= flagOf(typ)
			}
			if terr != nil && errors.Is(terr, unix.ESRCH) {
				err = terr
			}
		}
		switch {
		case errors.Is(err, unix.ESRCH):
		case p.flags == 0:
			err = nil
		case p.flags != asked:
			err = unix.Setns(p.pidfd, p.flags)
		}
	}
	if err != nil {
		var types []string
		for _, typ := range p.c.pidTyp {
			if p.flags&flagOf(typ) != 0 {
				types = append(types, typ)
			}
		}
		if err == unix.EPERM || err == unix.EACCES {
			user, uerr := targetID(p.pidfd, p.c.pid, "user")
			err = privilegeError(err, types, uerr == nil && user != homeUser())
		}
		typ, op := "", "setns"
		if len(types) == 1 {
			typ = types[0]
		}
		if errors.Is(err, unix.ESRCH) {
			op = "target" // it ended since prepare
		}
		return &Error{Op: op, Type: typ, Path: p.c.targetName(), Err: err}
	}
	for _, typ := range p.c.pidTyp {
		if typ != "mnt" && p.flags&flagOf(typ) != 0 {
			fd, _, _ := homeFD(typ) // opened by prepare
			p.back = append(p.back, joined{fd: fd, flag: flagOf(typ), typ: typ})
		}
	}
	return nil
}

// flagOf is the setns flag of type typ.
func flagOf(typ string) int { return flags[typ] }

// targetName names the target in errors: "pid N" or "pidfd N".
func (c *config) targetName() string {
	if c.pid != 0 {
		return "pid " + strconv.Itoa(c.pid)
	}
	return "pidfd " + strconv.Itoa(c.pidfd)
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
