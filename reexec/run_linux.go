package reexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/reexec/internal/hook"
	"github.com/gonsproject/gons/status"
)

// grace is how long the parent waits, after the child has been reaped, for
// descriptors that a process the action started may still hold open.
const grace = 2 * time.Second

// ResultGrace is how long a plain action that has printed a complete JSON
// result (with a [Result] target) may go on without returning or printing
// more before it is killed and what it printed returned, as thediveo/gons
// does with such a child one second after decoding its result.
const ResultGrace = time.Second

// nsTypes are the namespace types that package early knows.
var nsTypes = map[string]bool{
	"cgroup": true, "ipc": true, "mnt": true, "net": true,
	"pid": true, "time": true, "user": true, "uts": true,
}

// childEnv returns the child's environment: the parent's without any
// gons_* or reexec variables, the extra variables, and the namespace,
// directory and credential variables. mnt is whether the child joins a
// mount namespace.
func childEnv(o *options) (env []string, mnt bool, err error) {
	env = append(inheritedEnv(), o.env...)
	switch {
	case o.target != 0:
		if env, mnt, err = targetEnv(env, o); err != nil {
			return nil, false, err
		}
	case len(o.namespaces) > 0:
		seen := map[string]bool{}
		order := make([]string, 0, len(o.namespaces))
		for _, ns := range o.namespaces {
			typ := strings.TrimPrefix(ns.Type, "!")
			switch {
			case !nsTypes[typ]:
				return nil, false, fmt.Errorf("Namespaces: type %q: %w", ns.Type, status.ErrUnknownType)
			case seen[typ]:
				return nil, false, fmt.Errorf("Namespaces: %s listed more than once: %w", typ, status.ErrDuplicate)
			case ns.Path == "":
				return nil, false, fmt.Errorf("Namespaces: %s: empty path: %w", typ, status.ErrSyntax)
			}
			seen[typ] = true
			mnt = mnt || typ == "mnt"
			order = append(order, ns.Type)
			env = append(env, "gons_"+typ+"="+ns.Path)
		}
		env = append(env, "gons_order="+strings.Join(order, ","))
	}
	if o.root != "" {
		env = append(env, "gons_root="+o.root)
		mnt = true // paths of the parent's mount namespace no longer resolve
	}
	if o.dir != "" {
		env = append(env, "gons_wd="+o.dir)
	}
	if o.uid >= 0 {
		env = append(env, "gons_uid="+strconv.Itoa(o.uid))
	}
	if o.gid >= 0 {
		env = append(env, "gons_gid="+strconv.Itoa(o.gid))
	}
	if o.uid >= 0 || o.gid >= 0 {
		// A failed drop then comes back as the child's typed error
		// rather than as its exit with status 125.
		env = append(env, "gons_errors=status")
	}
	return env, mnt, nil
}

// inheritedEnv returns what a child inherits of the environment: the
// parent's without any gons_* or reexec variables.
func inheritedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !hasPrefix(kv, "gons_") && !hasPrefix(kv, "GONS_REEXEC_") {
			env = append(env, kv)
		}
	}
	return env
}

// targetEnv adds the variables that make the child join the namespaces of
// o.target. mnt is whether that includes the mount namespace.
func targetEnv(env []string, o *options) (_ []string, mnt bool, err error) {
	if len(o.namespaces) > 0 {
		return nil, false, fmt.Errorf("Target and Namespaces: %w", status.ErrConflict)
	}
	seen := map[string]bool{}
	types := make([]string, 0, len(o.targetNS))
	for _, t := range o.targetNS {
		typ := strings.TrimPrefix(t, "!")
		switch {
		case !nsTypes[typ]:
			return nil, false, fmt.Errorf("Target: type %q: %w", t, status.ErrUnknownType)
		case seen[typ]:
			return nil, false, fmt.Errorf("Target: %s listed more than once: %w", typ, status.ErrDuplicate)
		}
		seen[typ] = true
		types = append(types, typ)
	}
	env = append(env, "gons_target="+strconv.Itoa(o.target))
	if len(types) > 0 {
		env = append(env, "gons_target_ns="+strings.Join(types, ","))
	}
	return env, len(types) == 0 || seen["mnt"], nil
}

// openTarget opens a pidfd of pid.
func openTarget(pid int) (*os.File, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("Target: process %d: %w", pid, os.NewSyscallError("pidfd_open", err))
	}
	return os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid)), nil
}

func run(ctx context.Context, name string, o *options) error {
	c, err := newChild(ctx, name, o, nil)
	if err != nil {
		return err
	}
	c.req.Stdin = c.plain && o.paramSet
	c.mayFork = true
	out, errOut := o.stdout, o.stderr
	if out != nil && sameWriter(out, errOut) {
		// Two pipes, two copies: one writer, one Write at a time.
		l := &lockedWriter{w: out}
		out, errOut = l, l
	}
	var stdout *resultWriter
	if c.plain && o.result != nil {
		stdout = &resultWriter{kill: c.kill}
		c.cmd.Stdout = stdout
	} else {
		c.cmd.Stdout = out
	}
	c.cmd.Stderr = c.stderr
	if errOut != nil {
		c.cmd.Stderr = io.MultiWriter(c.stderr, errOut)
	}
	if err := c.start(); err != nil {
		return err
	}
	result, err := c.finish(stdout, o) // c.wait(stdout), unless ResultFirst
	if err != nil || o.result == nil {
		return err
	}
	if len(bytes.TrimSpace(result)) == 0 {
		return c.fail("result", ErrNoResult)
	}
	if err := decodeResult(name, o, result); err != nil {
		return c.fail("result", fmt.Errorf("malformed: %w", err))
	}
	return nil
}

// sameWriter reports whether a and b are the same writer, as far as
// comparing them says: a writer whose type cannot be compared is no
// other's.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// lockedWriter is a writer that the child's standard output and error
// share: their copies write through it one at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// child is a child being prepared, started, and waited for: one run of an
// action.
type child struct {
	name   string
	ctx    context.Context
	plain  bool // the action is a plain func()
	cmd    *exec.Cmd
	conn   *os.File   // the parent's end of the protocol socket
	passed []*os.File // the child's end and the target's pidfd, closed once it started
	stderr *tail
	fork   *forked // the child, when the fork server started it
	// mayFork: the fork server may start the child (see startForked).
	mayFork bool
	// anyTarget: the PID of a Target without types, for untyped.
	anyTarget int
	// pidNS is set when the child was exec'd from a thread whose
	// children start in another PID namespace than its own (see
	// threadPIDNS): why such a child may fail to start.
	pidNS error

	req      request
	param    []byte
	paramSet bool
	sent     bool // the request is written (see sendRequest)

	io sync.WaitGroup
	// What the child sent, read by the reader goroutine; valid after
	// io.Wait.
	started bool // the child reached CheckAction
	tag     byte // the outcome frame's tag, 0 if none
	payload []byte
	ferr    error
	// broken is set when the child broke the protocol and was killed.
	broken atomic.Bool
}

// newChild checks the call and prepares the child; nothing is started.
func newChild(ctx context.Context, name string, o *options, args []string) (*child, error) {
	fail := func(op string, err error) error { return &Error{Action: name, Op: op, Err: err} }
	if !checked.Load() {
		return nil, fail("start", ErrNotChecked)
	}
	if depth >= MaxDepth {
		return nil, fail("start", ErrTooDeep)
	}
	a := lookup(name)
	if a == nil {
		return nil, fail("start", ErrUnknownAction)
	}
	if err := ctx.Err(); err != nil {
		return nil, fail("context", err)
	}
	c := &child{name: name, ctx: ctx, plain: a.plain != nil, stderr: &tail{},
		req: request{Name: name, Args: args, Depth: depth + 1}, paramSet: o.paramSet}
	if o.paramSet {
		var err error
		if c.param, err = encodeValue(o.pc, o.param); err != nil {
			return nil, fail("param", err)
		}
	}
	var pidfd *os.File
	if o.target != 0 {
		var err error
		if pidfd, err = openTarget(o.target); err != nil {
			return nil, fail("target", err) // as nsthread names it
		}
		if len(o.targetNS) == 0 {
			c.anyTarget = o.target
		}
	}
	env, mnt, err := childEnv(o)
	if err != nil {
		if pidfd != nil {
			pidfd.Close()
		}
		return nil, fail("option", err)
	}
	env, extra := hook.Apply(env, mnt, childFD+1)
	env = append(env, envFD+"="+strconv.Itoa(childFD))
	files := append([]*os.File{nil}, extra...) // the socket first
	if pidfd != nil {
		// The pidfd itself, so that the child joins the process named
		// at the call or none.
		env = append(env, "gons_target_fd="+strconv.Itoa(childFD+len(files)))
		files = append(files, pidfd)
	}

	conn, peer, err := socketPair()
	if err != nil {
		if pidfd != nil {
			pidfd.Close()
		}
		return nil, fail("start", err)
	}
	c.conn = conn
	// The hook's files are its own, to pass to every child.
	c.passed = []*os.File{peer}
	if pidfd != nil {
		c.passed = append(c.passed, pidfd)
	}

	arg0 := "/proc/self/exe"
	if len(os.Args) > 0 {
		arg0 = os.Args[0]
	}
	c.cmd = exec.CommandContext(ctx, "/proc/self/exe")
	c.cmd.Args = []string{arg0}
	c.cmd.Env = env
	files[0] = peer
	c.cmd.ExtraFiles = files
	c.cmd.WaitDelay = grace
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL} // SysProcAttr: unix has none
	return c, nil
}

// socketPair returns the two ends of a protocol socket, one socket both
// ways. The parent's end is non-blocking so that deadlines can unblock
// it; the child's end stays blocking.
func socketPair() (conn, peer *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fds[0]), "reexec"), os.NewFile(uintptr(fds[1]), "reexec-child"), nil
}

// renewSocket gives the child a protocol socket other than the one it
// was prepared with, which a process it must not talk to may hold (see
// startForked). Nothing was sent on the old one: the request goes out
// once the child has started. Closing it makes whatever holds its other
// end read its end, never a request.
func (c *child) renewSocket() error {
	conn, peer, err := socketPair()
	if err != nil {
		return err
	}
	c.conn.Close()
	c.passed[0].Close()
	c.conn, c.passed[0], c.cmd.ExtraFiles[0] = conn, peer, peer
	return nil
}

// fail returns the run's error.
func (c *child) fail(op string, err error) error {
	return &Error{Action: c.name, Op: op, Err: err, Stderr: c.stderr.String()}
}

// release closes what the child inherits, on the parent's side.
func (c *child) release() {
	for _, f := range c.passed {
		f.Close()
	}
	c.passed = nil
}

// abandon closes what a child that will never start holds.
func (c *child) abandon() {
	c.release()
	c.conn.Close()
}

// start starts the child and the goroutines that talk to it. It is the one
// place where a child comes to life.
func (c *child) start() error {
	var err error
	if c.mayFork && forkServer != nil {
		err = forkServer(c)
	}
	if c.fork == nil && err == nil {
		if lockedOSThread() { // the child is forked from this thread
			c.pidNS = threadPIDNS()
		}
		err = startExec(c.cmd)
	}
	c.release()
	if err != nil {
		c.conn.Close()
		if cerr := c.ctx.Err(); cerr != nil {
			return c.fail("context", cerr)
		}
		if c.pidNS != nil && errors.Is(err, unix.ENOMEM) {
			return c.fail("start", c.pidNS) // its first process has exited
		}
		if errors.Is(err, context.DeadlineExceeded) {
			// The deadline passed, a moment before ctx says so.
			return c.fail("context", err)
		}
		return c.fail("start", err)
	}
	// A child that dies before reading makes the write fail; that is
	// reported through its exit, not here. A small request goes out at
	// once (see sendRequest); a larger one is written as the child reads
	// it.
	if c.sent || c.sendRequest() {
		c.io.Add(1)
	} else {
		c.io.Add(2)
		go func() {
			defer c.io.Done()
			_ = writeRequest(c.conn, &c.req, c.param, c.paramSet)
		}()
	}
	go func() {
		defer c.io.Done()
		c.readOutcome()
	}()
	return nil
}

// sendRequest writes the request at once, in one write that the socket's
// empty buffer takes whole, if it is small, and reports whether it did: a
// child of the fork server waits for it before its runtime starts (see
// startForked).
func (c *child) sendRequest() bool {
	msg := smallRequest(&c.req, c.param, c.paramSet)
	if msg == nil {
		return false
	}
	_, _ = c.conn.Write(msg)
	c.sent = true
	return true
}

// smallRequest returns the frames that writeRequest writes, in one
// buffer, when they fit in smallFrames bytes, nil when they do not.
func smallRequest(req *request, param []byte, paramSet bool) []byte {
	if len(param) > smallFrames {
		return nil
	}
	var b bytes.Buffer
	if writeRequest(&b, req, param, paramSet) != nil || b.Len() > smallFrames {
		return nil
	}
	return b.Bytes()
}

// smallFrames bounds the request that start writes at once: far less than
// a socket's buffer holds (wmem_default, some 200 KiB).
const smallFrames = 4096

// readOutcome reads what the child sends. A child that breaks the
// protocol, with a frame over the limit, of the wrong kind or one that
// stops half-way, is killed: it would otherwise block, writing to a
// parent that no longer reads, or keep the parent waiting.
func (c *child) readOutcome() {
	r := &stallReader{f: c.conn}
	_, _, err := expectFrame(r, tagStarted)
	if err == nil {
		c.started = true
		r.armed = false
		c.tag, c.payload, err = expectFrame(r, tagResult, tagDone, tagError)
	}
	if errors.Is(err, unix.ECONNRESET) {
		err = errNoFrame // the child exited with bytes unread
	}
	c.ferr = err
	// A deadline between frames is the parent's, set once the child is
	// reaped; within a frame it means the child stopped half-way.
	ended := errors.Is(err, errNoFrame) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, os.ErrDeadlineExceeded) && !r.armed
	if err != nil && !ended {
		c.broken.Store(true)
		c.kill()
	}
}

// kill kills the child, if it runs.
func (c *child) kill() {
	if c.fork != nil {
		c.fork.kill()
	} else if p := c.cmd.Process; p != nil {
		p.Kill()
	}
}

// wait waits for the child to end and returns the result it sent: its
// standard output for a plain action (from stdout, if the run keeps it),
// the value of a typed one. The error says why there is none.
func (c *child) wait(stdout *resultWriter) ([]byte, error) {
	var werr error
	if c.fork != nil {
		werr = c.fork.wait()
	} else {
		werr = c.cmd.Wait()
	}
	// The child is reaped. Whatever it sent is in the socket; do not
	// wait forever for processes that may have inherited its end.
	c.conn.SetDeadline(time.Now().Add(grace))
	c.io.Wait()
	c.conn.Close()
	if stdout != nil && stdout.stop() {
		// Killed after it printed its result and went quiet.
		return stdout.bytes(), nil
	}

	succeeded := werr == nil && c.ferr == nil && (c.tag == tagResult || c.tag == tagDone)
	if cerr := c.ctx.Err(); cerr != nil && !succeeded {
		return nil, c.fail("context", cerr)
	}
	if c.broken.Load() {
		return nil, c.fail("result", fmt.Errorf("the child broke the protocol and was killed: %w", c.ferr))
	}
	if !c.started {
		if exitErr, ok := as[*exec.ExitError](werr); ok && !exitErr.Exited() {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signal() == unix.SIGKILL && c.pidNS != nil {
				// os/exec's child killed itself, not seeing its parent.
				return nil, c.fail("start", c.pidNS)
			}
			return nil, c.fail("exit", werr) // killed before it got there
		}
		how := "exit status 0"
		if werr != nil {
			how = werr.Error()
		}
		return nil, c.fail("start", fmt.Errorf("the child ended (%s) before it reached CheckAction: %w", how, ErrNotChecked))
	}
	if c.ferr == nil && c.tag == tagError {
		var w wireError
		if err := json.Unmarshal(c.payload, &w); err != nil {
			return nil, c.fail("result", fmt.Errorf("malformed error report: %w", err))
		}
		op := w.Kind
		if op == kindUnknown {
			op = "start"
		}
		return nil, c.fail(op, untyped(w.cause(), c.anyTarget))
	}
	if _, ok := as[*exec.ExitError](werr); ok {
		return nil, c.fail("exit", werr)
	}
	if werr != nil && !errors.Is(werr, exec.ErrWaitDelay) {
		return nil, c.fail("exit", werr)
	}
	switch {
	case errors.Is(c.ferr, errNoFrame) && stdout != nil && json.Valid(stdout.bytes()):
		// A plain action that printed its result and called
		// os.Exit(0), as actions of thediveo/gons may.
		return stdout.bytes(), nil
	case errors.Is(c.ferr, errNoFrame):
		return nil, c.fail("result", fmt.Errorf("%w: the child ended without reporting an outcome (an action that calls os.Exit itself?)", ErrNoResult))
	case c.ferr != nil:
		return nil, c.fail("result", fmt.Errorf("%w: %v", ErrNoResult, c.ferr))
	case c.tag == tagDone:
		if stdout != nil {
			return stdout.bytes(), nil
		}
		return nil, nil
	default:
		return c.payload, nil
	}
}

// stallReader reads from the parent's end of the socket. Once armed by
// a frame's first bytes, every read must make progress within stall.
type stallReader struct {
	f     *os.File
	armed bool
}

func (r *stallReader) Read(p []byte) (int, error) {
	if r.armed {
		r.f.SetReadDeadline(time.Now().Add(stall))
	}
	n, err := r.f.Read(p)
	if n > 0 {
		r.armed = true
	}
	return n, err
}

// resultWriter keeps the standard output of a plain action whose output is
// its result. When the output has been a complete JSON value for
// ResultGrace, with nothing written since, it kills the child.
type resultWriter struct {
	kill  func()
	mu    sync.Mutex
	buf   bytes.Buffer
	last  time.Time
	timer *time.Timer
	done  bool // the child is reaped: no more checks
	ended bool // killed it
}

func (w *resultWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.last = time.Now()
	if w.timer == nil {
		w.timer = time.AfterFunc(ResultGrace, w.check)
	} else {
		w.timer.Reset(ResultGrace)
	}
	return len(p), nil
}

// ReadFrom copies the child's output with a buffer of a size that fits
// a plain action's result, rather than io.Copy's 32 KiB.
func (w *resultWriter) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	buf := make([]byte, 4<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (w *resultWriter) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	if quiet := time.Since(w.last); quiet < ResultGrace {
		w.timer.Reset(ResultGrace - quiet)
		return
	}
	if json.Valid(w.buf.Bytes()) {
		w.ended = true
		w.kill()
	}
}

// stop ends the checks and reports whether the child was killed after its
// result.
func (w *resultWriter) stop() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
	return w.ended
}

func (w *resultWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Bytes()
}

// threadPIDNS returns an error wrapping [ErrThreadPIDNamespace] when the
// calling thread's children start in another PID namespace than the
// thread's own, nil when they do not or it cannot tell. A child forked
// from it then does not see its parent, and os/exec, which reexec has set
// the parent-death signal of, takes that for the parent's death: the
// child kills itself before execve(2), unless it is the first process of
// a namespace the thread has just unshared, which ignores the signal; a
// namespace whose first process has exited refuses more (fork: ENOMEM).
func threadPIDNS() error {
	var own, kids [64]byte
	a := readlinkAt(unix.AT_FDCWD, "/proc/thread-self/ns/pid", own[:])
	b := readlinkAt(unix.AT_FDCWD, "/proc/thread-self/ns/pid_for_children", kids[:])
	if a == nil || b == nil || string(a) == string(b) {
		return nil
	}
	return fmt.Errorf("%w: the thread is in %s, its children start in %s (pid_for_children), "+
		"where os/exec's child cannot start; join the namespace with reexec.Namespaces "+
		"(type pid) from a thread whose children start in its own", ErrThreadPIDNamespace, a, b)
}
