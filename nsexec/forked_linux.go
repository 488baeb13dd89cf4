//go:build linux && cgo

package nsexec

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/forkhook"
)

// forkable reports whether the fork server may start the child: it runs,
// and a child of it would inherit what a child exec'd from the calling
// thread would, by package reexec's check (reexec/forkserver hands it
// over), which compares the thread's credentials, capabilities,
// securebits, no_new_privs, seccomp, umask, ignored signals, affinity,
// scheduling, I/O priority, rlimits, namespaces, root, cgroup,
// oom_score_adj and LSM attributes with the server's.
func forkable() bool {
	if forkhook.SpawnExec == nil || forkhook.InheritsAsExec == nil || execOnly {
		return false
	}
	pid := forkhook.ServerPID()
	return pid != 0 && forkhook.InheritsAsExec(pid)
}

// execOnly makes every Start exec, for tests that compare both ways.
var execOnly bool

// forked is what Start keeps of a child the fork server started: the
// copying of its standard streams, as exec.Cmd does it.
type forked struct {
	copies sync.WaitGroup
	pipes  []*os.File // this process's ends, closed once copied or given up
	done   chan struct{}
}

// streams are the child's standard streams, opened as exec.Cmd opens
// them: an *os.File's own descriptor, /dev/null for nil, a pipe whose
// other end is copied for any other reader or writer.
type streams struct {
	fds    []int      // the child's 0, 1, 2
	held   []*os.File // the child's ends of the pipes, closed once it started
	null   int        // /dev/null, or -1
	copies []func()   // started once the child is
}

// openStreams opens c's streams; the ends this process keeps go to
// f.pipes. On failure it closes everything it opened.
func (c *Cmd) openStreams(f *forked) (s *streams, err error) {
	s = &streams{null: -1}
	defer func() {
		if err != nil {
			s.close()
			f.closePipes()
		}
	}()
	for i, x := range []any{c.Stdin, c.Stdout, c.Stderr} {
		switch x := x.(type) {
		case nil:
			if s.null < 0 {
				// A plain descriptor: an *os.File would try the poller.
				if s.null, err = unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
					return nil, &os.PathError{Op: "open", Path: os.DevNull, Err: err}
				}
			}
			s.fds = append(s.fds, s.null)
		case *os.File:
			s.fds = append(s.fds, int(x.Fd()))
		default:
			if i == 2 && sameWriter(c.Stdout, x) {
				s.fds = append(s.fds, s.fds[1]) // one pipe for both, as exec.Cmd does
				continue
			}
			r, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			if i == 0 {
				in := x.(io.Reader)
				s.held, f.pipes = append(s.held, r), append(f.pipes, w)
				s.fds = append(s.fds, int(r.Fd()))
				s.copies = append(s.copies, func() { io.Copy(w, in); w.Close() })
				continue
			}
			out := x.(io.Writer)
			s.held, f.pipes = append(s.held, w), append(f.pipes, r)
			s.fds = append(s.fds, int(w.Fd()))
			s.copies = append(s.copies, func() { io.Copy(out, r) })
		}
	}
	return s, nil
}

// close closes the child's ends, once it started or failed.
func (s *streams) close() {
	for _, h := range s.held {
		h.Close()
	}
	s.held = nil
	if s.null >= 0 {
		unix.Close(s.null)
		s.null = -1
	}
}

// startForked starts the child through the fork server, with the
// descriptors, variables and environment Start prepared. It returns
// ok false, with nothing started, when the server cannot (it went, or the
// request is too large): Start then execs.
func (c *Cmd) startForked(vars, env []string, files []*os.File) (ok bool, err error) {
	if _, isFile := c.Stdin.(*os.File); c.Stdin != nil && !isFile {
		return false, nil
	}
	for _, x := range files {
		if x == nil {
			return false, nil // a closed slot: exec.Cmd's way
		}
	}
	f := &forked{done: make(chan struct{})}
	s, err := c.openStreams(f)
	if err != nil {
		return true, err
	}
	defer s.close()
	fds := s.fds
	for _, x := range files {
		fds = append(fds, int(x.Fd()))
	}
	dir, err := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		f.closePipes()
		return true, os.NewSyscallError("open .", err)
	}
	defer unix.Close(dir)
	argv := c.argv()
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	pid, pidfd, err := forkhook.SpawnExec(ctx, &forkhook.ExecRequest{Vars: vars, Name: c.Path, Args: argv, Env: env,
		FDs: fds, Dir: dir, Share: !c.mayRelay() && !c.mayJoin("time")})
	if pidfd >= 0 {
		defer unix.Close(pidfd) // os.FindProcess opens its own
	}
	if err != nil {
		f.closePipes()
		var se *os.SyscallError
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return true, err
		}
		if errors.As(err, &se) && se.Err == unix.ENOSYS || !errors.As(err, &se) {
			return false, nil // no server any more, or a request it cannot take
		}
		return true, err
	}
	c.launched(f, pid, s.copies)
	return true, nil
}

// launched records the child f of PID pid as c's process, and starts the
// copying of its streams and the watch of c's context.
func (c *Cmd) launched(f *forked, pid int, copies []func()) {
	for _, cp := range copies {
		f.copies.Add(1)
		go func() {
			defer f.copies.Done()
			cp()
		}()
	}
	c.Process, _ = os.FindProcess(pid) // never fails on Linux
	c.wait = c.waitForked
	c.fork = f
	if c.ctx != nil && c.ctx.Done() != nil {
		go c.watch(f)
	}
}

// mayRelay reports whether the child may fork before it executes the
// program: after a PID namespace join, unless NoFork, it forks into the
// namespace and stays as the relay. A child that cannot fork, and joins
// no time namespace (which wants a process alone in its memory), may
// share the server's memory until its execve, as a vfork(2) child does.
func (c *Cmd) mayRelay() bool {
	return !c.NoFork && c.mayJoin("pid")
}

// mayJoin reports whether the child may join a namespace of type typ: it
// is named, or the Target's types are every one that differs.
func (c *Cmd) mayJoin(typ string) bool {
	for _, ns := range c.Namespaces {
		if strings.TrimPrefix(ns.Type, "!") == typ {
			return true
		}
	}
	if t := c.Target; t != nil {
		if t.Types == nil {
			return true
		}
		for _, x := range t.Types {
			if strings.TrimPrefix(x, "!") == typ {
				return true
			}
		}
	}
	return false
}

// failedForked reaps a child of the fork server that reported a failure.
func (c *Cmd) failedForked() {
	f := c.fork
	c.Process.Wait()
	close(f.done)
	f.copies.Wait()
	f.closePipes()
}

func (f *forked) closePipes() {
	for _, p := range f.pipes {
		p.Close()
	}
}

// watch calls Cancel when the context is done before the child ends, and
// kills the child WaitDelay later, as exec.Cmd does.
func (c *Cmd) watch(f *forked) {
	select {
	case <-f.done:
		return
	case <-c.ctx.Done():
	}
	cancel := c.Cancel
	if cancel == nil {
		cancel = c.Process.Kill
	}
	cancel()
	if c.WaitDelay > 0 {
		t := time.NewTimer(c.WaitDelay)
		defer t.Stop()
		select {
		case <-f.done:
		case <-t.C:
			c.Process.Kill()
			f.closePipes()
		}
	}
}

// waitForked waits for a child of the fork server, then for the copying
// of its output, for at most WaitDelay when that is set.
func (c *Cmd) waitForked() error {
	f := c.fork
	state, err := c.Process.Wait()
	close(f.done)
	c.ProcessState = state
	copied := make(chan struct{})
	go func() { f.copies.Wait(); close(copied) }()
	if c.WaitDelay > 0 {
		t := time.NewTimer(c.WaitDelay)
		select {
		case <-copied:
		case <-t.C:
			f.closePipes()
			<-copied
			if err == nil && state.Success() {
				err = exec.ErrWaitDelay
			}
		}
		t.Stop()
	} else {
		<-copied
	}
	f.closePipes()
	if err != nil {
		return err
	}
	if !state.Success() {
		return &exec.ExitError{ProcessState: state}
	}
	return nil
}

// splitVars separates the gons_* variables and the marker from the
// program's environment.
func splitVars(env []string) (vars, rest []string) {
	for _, kv := range env {
		if strings.HasPrefix(kv, "gons_") || strings.HasPrefix(kv, "GONS_EXEC=") {
			vars = append(vars, kv)
		} else {
			rest = append(rest, kv)
		}
	}
	return vars, rest
}

// sameWriter reports whether a and b are the same writer, as exec.Cmd
// compares Stdout and Stderr: a writer whose type cannot be compared is
// no other's.
func sameWriter(a, b any) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}
