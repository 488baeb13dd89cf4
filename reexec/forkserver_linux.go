package reexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/forkhook"
	"github.com/gonsproject/gons/internal/pidfdprobe"
	"github.com/gonsproject/gons/reexec/internal/hook"
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// startupVars are the variables the Go runtime reads as it starts, before
// any code of the program runs. A child of the fork server starts its
// runtime with the program's values, as the program started; a call
// whose child would see other values goes through exec instead.
// GOCOVERDIR is among them because a program built with -cover reads it
// at start-up; a test binary reads it as it exits, and with package
// reexec/cover in use it is left out.
var startupVars = []string{"GODEBUG", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GOTRACEBACK", "GOCOVERDIR"}

// startup is what the program started with, as far as a child of the fork
// server inherits it: the values of startupVars and of the variables the
// loader and the C library read (see loaderPrefixes), and the environment
// as a child inherits it (see inheritedEnv); the rest of the process state
// is compared in inherit_linux.go. It is read when the fork server is
// enabled, in package reexec/forkserver's init, in a program that has one. A child of the server has the same environment at
// that point of its own initialisation: the program's at its start, and
// what the packages initialised before did to it, in both.
var startup = struct {
	vars map[string]string
	env  []string
}{vars: map[string]string{}}

// readStartup fills startup.
func readStartup() {
	for _, k := range startupVars {
		if v, ok := os.LookupEnv(k); ok {
			startup.vars[k] = v
		}
	}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); isLoaderVar(k) {
			startup.vars[k] = v
		}
	}
	startup.env = inheritedEnv()
	recordSelf()
}

// forkable splits env, the child's environment, into the gons_* variables
// for the fork server and the rest, for the child's Go code. ok is false
// when the child must be exec'd: its runtime would start with other values
// of startupVars than the program's, or its loader and C library would
// have started with other values of their variables (see loaderPrefixes).
func forkable(env []string) (vars, rest []string, ok bool) {
	seen := make(map[string]string, len(startupVars))
	for _, kv := range env {
		switch {
		case hasPrefix(kv, "gons_"):
			vars = append(vars, kv)
		case hasPrefix(kv, envFD+"="):
			// The fork server hands the socket over by itself.
		default:
			rest = append(rest, kv)
			if k, v, _ := strings.Cut(kv, "="); isStartupVar(k) {
				seen[k] = v // the last one counts, as in getenv
			}
		}
	}
	coverHook := hook.Child.Load() != nil
	for _, k := range startupVars {
		if k == "GOCOVERDIR" && coverHook {
			continue
		}
		v, set := seen[k]
		w, was := startup.vars[k]
		if set != was || v != w {
			return nil, nil, false
		}
	}
	loader := 0
	for k, v := range seen {
		if isLoaderVar(k) {
			if w, was := startup.vars[k]; !was || v != w {
				return nil, nil, false
			}
			loader++
		}
	}
	for k := range startup.vars {
		if isLoaderVar(k) {
			loader--
		}
	}
	if loader != 0 {
		return nil, nil, false // one the program started with is gone
	}
	return vars, rest, true
}

func isStartupVar(k string) bool { return slices.Contains(startupVars, k) || isLoaderVar(k) }

// execOnly makes every call exec, for tests that compare the two ways.
var execOnly atomic.Bool

// differed is set while the last check of what a child inherits found a
// difference (see startForked).
var differed atomic.Bool

// forkServer starts a child through the fork server (startForked), or is
// nil: package reexec/forkserver, which starts the server, sets it through
// enableForkServer. A program without the server then does not link the
// code that talks to one, some 26 KB.
var forkServer func(c *child) error

// enableForkServer is called by package reexec/forkserver's init. It is
// defined here, with the marker that lets another package link to it, and
// declared without a body there, so that package reexec exports nothing
// for it.
//
//go:linkname enableForkServer github.com/gonsproject/gons/reexec.enableForkServer
func enableForkServer() {
	readStartup()
	forkServer = startForked
	forkhook.InheritsAsExec = inheritsAsExec // package nsexec's fork server path checks the same
}

// forkedChild is called by package reexec/forkserver's init in a child of
// the fork server, whose runtime started with the program's environment
// and arguments. It reads the request at once, and gives the process the
// environment and arguments of the call, so that the main package's
// initialisation and main, or TestMain, before CheckAction, see them as
// in an exec'd child; only the packages initialised before
// reexec/forkserver see the program's. CheckAction takes the request from
// there (see takeRequest).
//
//go:linkname forkedChild github.com/gonsproject/gons/reexec.forkedChild
func forkedChild() {
	fd, err := strconv.Atoi(inherited)
	if err != nil {
		return // CheckAction reports it
	}
	early.read = true
	early.req, early.param, early.err = readRequest(fdReader(fd))
	if early.err == nil && early.req.Forked {
		// Most calls pass the environment the program had when it
		// enabled the server, which this process has already, at the
		// same point of its initialisation (see startup): the parent
		// then sends none, and the child neither reads nor rebuilds
		// one, which would cost a cold process tens of microseconds.
		if !early.req.SameEnv {
			setEnviron(early.req.Env)
		}
		os.Args = append(os.Args[:1:1], early.req.Args...)
	}
}

// fdReader reads from a descriptor without owning it: CheckAction makes
// the protocol socket an *os.File later, which closes it when collected.
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(int(r), p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// maxArgStrlen is MAX_ARG_STRLEN, the longest string execve(2) takes;
// maxEnviron a bound on the whole environment, well below what execve(2)
// takes by default (a quarter of an 8 MiB stack).
const (
	maxArgStrlen = 32 * 4096
	maxEnviron   = 1 << 20
)

// tooBigForExec reports whether execve(2) could refuse env with E2BIG. The
// child would not care, but such a call goes through exec, so that it
// fails the same way with or without the fork server.
func tooBigForExec(env []string) bool {
	total := 0
	for _, kv := range env {
		if len(kv) >= maxArgStrlen {
			return true
		}
		total += len(kv) + 1 + 8
	}
	return total > maxEnviron
}

// forked is a child that the fork server started: a child of this
// process, which waits for it as exec.Cmd would.
type forked struct {
	proc    *os.Process
	pidfd   *os.File      // the server's pidfd of the child, in the runtime's poller; nil: none
	stopped chan struct{} // closed once the child is reaped: ends killWith
	copiers []func()      // copy the child's output, once it started
	copying atomic.Int32  // copiers still running
	copied  chan struct{} // closed when the last copier ends
	pipes   []*os.File    // this process's ends of the child's standard streams
}

// startForked starts the child that c describes through the fork server,
// with the descriptors, environment and working directory that c.cmd
// would give it, and sets c.fork. It leaves c.fork nil, with no error,
// when there is no server, it has gone, or the child must be exec'd (see
// forkable and inheritsAsExec); then the caller starts it by exec.
func startForked(c *child) error {
	if execOnly.Load() || !spawn.Available() {
		return nil
	}
	if _, ok := c.cmd.Stdin.(*os.File); c.cmd.Stdin != nil && !ok {
		return nil // a reader that would need copying: run never sets one
	}
	vars, rest, ok := forkable(c.cmd.Env)
	if !ok || tooBigForExec(c.cmd.Env) {
		return nil
	}
	// The check of what the child inherits runs while the server clones
	// it (see spawn.Request.Check), unless the last one found a
	// difference: a program that changed its state for good then pays
	// the check alone, not a clone too, at each call.
	server := spawn.PID()
	check := func() bool {
		same := inheritsAsExec(server)
		differed.Store(!same)
		return same
	}
	if differed.Load() {
		if !check() {
			return nil // the server's child would inherit other state
		}
		check = nil
	}
	pidfdprobe.Run() // before the child exists, not beside it
	f := &forked{}
	fds, held, err := f.streams(c.cmd)
	defer closeFDs(held)
	if err != nil {
		closeAll(f.pipes)
		return err
	}
	for _, x := range c.cmd.ExtraFiles {
		fds = append(fds, int(x.Fd()))
	}
	dir, err := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		closeAll(f.pipes)
		return os.NewSyscallError("open .", err)
	}
	defer unix.Close(dir)
	// The child reads its environment from the request.
	c.req.Forked = true
	if slices.Equal(rest, startup.env) {
		c.req.SameEnv = true
	} else {
		c.req.Env = rest
	}
	ch, err := spawn.Spawn(c.ctx, &spawn.Request{Vars: vars, FDs: fds, Socket: childFD, Dir: dir, Check: check})
	if err != nil {
		closeAll(f.pipes)
		c.req.Forked, c.req.SameEnv, c.req.Env = false, false, nil
		if errors.Is(err, spawn.ErrRefused) {
			// The server's child would have inherited other state: it
			// was killed before it ran anything of the program's, and
			// reaped, and never read the socket.
			return nil
		}
		if errors.Is(err, spawn.ErrAbandoned) {
			// The server may have cloned a child that holds the
			// socket (killed since): the exec'd child gets a fresh
			// one, so that only it can receive the request.
			return c.renewSocket()
		}
		if errors.Is(err, spawn.ErrUnavailable) || errors.Is(err, spawn.ErrTooLarge) {
			return nil
		}
		return err
	}
	// The child waits for its request before its runtime starts: it goes
	// out first thing, now that the child is the call's (see sendRequest).
	c.sendRequest()
	if f.proc, f.pidfd, err = childProcess(ch); err != nil {
		closeAll(f.pipes)
		return err
	}
	c.fork = f
	f.stopped = make(chan struct{})
	if c.ctx.Done() != nil { // a context that can end
		go f.killWith(c.ctx)
	}
	f.copied = make(chan struct{})
	f.copying.Store(int32(len(f.copiers)))
	if len(f.copiers) == 0 {
		close(f.copied)
	}
	for _, fn := range f.copiers {
		go func() {
			fn()
			if f.copying.Add(-1) == 0 {
				close(f.copied)
			}
		}()
	}
	return nil
}

// childProcess returns the process of a child that the server started,
// and its pidfd from the server as a file in the runtime's poller, nil
// where there is none. That pidfd, made by the server's clone, names the
// child whatever waits elsewhere in the program do; os.FindProcess opens
// a pidfd of its own by PID, which names the same process as long as the
// child is not reaped, as checked after it. So the child is killed and
// waited for through a pidfd, never by a PID that may have been reused
// (where the kernel has pidfds: Linux 5.3).
func childProcess(ch spawn.Child) (*os.Process, *os.File, error) {
	p, _ := os.FindProcess(ch.PID) // never fails on Linux
	if ch.PidFD < 0 {
		return p, nil, nil
	}
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PIDFD, ch.PidFD, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	for err == unix.EINTR {
		err = unix.Waitid(unix.P_PIDFD, ch.PidFD, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	}
	if err != nil {
		unix.Close(ch.PidFD)
		p.Release()
		return nil, nil, fmt.Errorf("the child %d was reaped elsewhere in the program (a wait for any child?): %w",
			ch.PID, os.NewSyscallError("waitid", err))
	}
	if unix.SetNonblock(ch.PidFD, true) != nil {
		unix.Close(ch.PidFD)
		return p, nil, nil
	}
	return p, os.NewFile(uintptr(ch.PidFD), "pidfd"), nil
}

// awaitExit returns once the child has exited, as its pidfd says through
// the runtime's poller, which wakes for it as for the end of the child's
// output: no thread blocks in a wait, and the reap that follows returns
// at once. Without a pidfd it returns at once.
func (f *forked) awaitExit() {
	if f.pidfd == nil {
		return
	}
	rc, err := f.pidfd.SyscallConn()
	if err != nil {
		return
	}
	rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		// No child in a waitable state leaves Signo 0; an error (the
		// child reaped elsewhere) is for the reap to report.
		return err != unix.EINTR && (err != nil || info.Signo != 0)
	})
}

// streams returns the descriptors of the child's standard input, output
// and error, as exec.Cmd would give them: /dev/null for nil, a file's
// own, or a pipe copied to the writer (standard input is never one: see
// startForked). held are the descriptors to close once the child has
// started: /dev/null and the pipes' write ends, which only the child uses
// and which are therefore plain descriptors, not *os.File, whose poller
// registration would cost six system calls each.
func (f *forked) streams(cmd *exec.Cmd) (fds, held []int, err error) {
	null := -1
	for _, s := range []any{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		switch s := s.(type) {
		case nil:
			if null < 0 {
				if null, err = unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
					return nil, held, &os.PathError{Op: "open", Path: os.DevNull, Err: err}
				}
				held = append(held, null)
			}
			fds = append(fds, null)
		case *os.File:
			fds = append(fds, int(s.Fd()))
		default:
			r, w, err := pipe()
			if err != nil {
				return nil, held, err
			}
			held, f.pipes = append(held, w), append(f.pipes, r)
			fds = append(fds, w)
			f.copiers = append(f.copiers, func() { io.Copy(s.(io.Writer), r) })
		}
	}
	return fds, held, nil
}

// pipe returns a pipe: its read end as a non-blocking file in the
// runtime's poller, so that closing it ends a copy that waits on it, and
// its write end, for the child, as a blocking descriptor.
func pipe() (r *os.File, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, -1, os.NewSyscallError("pipe2", err)
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, -1, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), p[1], nil
}

func closeAll(files []*os.File) {
	for _, x := range files {
		x.Close()
	}
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func (f *forked) kill() { f.proc.Kill() }

// killWith kills the child when ctx is done, unless wait reaped it first.
// It is what context.AfterFunc would do, which would link context's
// cancellation machinery and reflectlite, about 22 KB, into every program
// that imports reexec.
func (f *forked) killWith(ctx context.Context) {
	select {
	case <-ctx.Done():
		f.kill()
	case <-f.stopped:
	}
}

// wait waits for the child, then for the copying of its output, as
// exec.Cmd.Wait does with WaitDelay grace: what a process the action
// started still holds open is cut off after that, with exec.ErrWaitDelay.
func (f *forked) wait() error {
	f.awaitExit()
	state, err := f.proc.Wait()
	close(f.stopped)
	if f.pidfd != nil {
		f.pidfd.Close()
	}
	select {
	case <-f.copied:
	default:
		timer := time.NewTimer(grace)
		select {
		case <-f.copied:
			timer.Stop()
		case <-timer.C:
			closeAll(f.pipes)
			<-f.copied
			if err == nil && state.Success() {
				err = exec.ErrWaitDelay
			}
		}
	}
	closeAll(f.pipes)
	if err != nil {
		return err
	}
	if !state.Success() {
		return &exec.ExitError{ProcessState: state}
	}
	return nil
}
