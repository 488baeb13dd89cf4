//go:build linux && cgo

package nsexec

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/handoff"
)

// statusFields are the lines of /proc/PID/status that a process passes on
// to a child, across execve(2), and that the fork server's child must
// share with the caller's thread at the call.
var statusFields = []string{"Umask:", "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:",
	"CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:", "Seccomp_filters:", "Cpus_allowed_list:",
	"Mems_allowed_list:"}

var nsNames = []string{"cgroup", "ipc", "mnt", "net", "pid_for_children", "time_for_children", "user", "uts"}

// state is what a child inherits from a process or thread, as far as the
// fork server's child would have it from the server rather than from the
// caller: the server's is read once (it never changes it), the caller's
// at each call.
type state struct {
	status string // the statusFields lines
	ns     string
	root   [2]uint64
	cgroup string
	oom    string
	attr   string
	limits [16]unix.Rlimit
	nice   int
	pers   int
	ioprio int
}

// readState reads the state of process pid, or of the calling thread for
// 0, and the signals that are ignored, as bits sig - 1.
func readState(pid int) (st state, ignored uint64, err error) {
	proc, task := "/proc/"+strconv.Itoa(pid), "/proc/"+strconv.Itoa(pid)
	if pid == 0 {
		proc, task = "/proc/self", "/proc/thread-self"
	}
	b, err := os.ReadFile(task + "/status")
	if err != nil {
		return st, 0, err
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		for _, f := range statusFields {
			if strings.HasPrefix(line, f) {
				sb.WriteString(line + "\n")
			}
		}
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			ignored, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	st.status = sb.String()
	var ns strings.Builder
	for _, n := range nsNames {
		l, err := os.Readlink(task + "/ns/" + n)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return st, 0, err
		}
		ns.WriteString(l + " ")
	}
	st.ns = ns.String()
	var s unix.Stat_t
	if err := unix.Stat(proc+"/root/", &s); err != nil {
		return st, 0, err
	}
	st.root = [2]uint64{s.Dev, s.Ino}
	for i, f := range []*string{&st.cgroup, &st.oom, &st.attr} {
		name := []string{"/cgroup", "/oom_score_adj", "/attr/current"}[i]
		b, err := os.ReadFile(proc + name)
		if err != nil && !(i == 2 && (errors.Is(err, unix.EINVAL) || errors.Is(err, os.ErrNotExist))) {
			return st, 0, err
		}
		*f = string(b)
	}
	for r := range st.limits {
		if err := unix.Prlimit(pid, r, nil, &st.limits[r]); err != nil {
			return st, 0, err
		}
	}
	if st.nice, err = unix.Getpriority(unix.PRIO_PROCESS, pid); err != nil {
		return st, 0, err
	}
	if pid == 0 {
		p, _, e := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
		if e != 0 {
			return st, 0, e
		}
		st.pers = int(p)
	} else {
		b, err := os.ReadFile(proc + "/personality")
		if err != nil {
			return st, 0, err
		}
		v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 16, 32)
		st.pers = int(v)
	}
	p, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, 1, uintptr(pid), 0) // IOPRIO_WHO_PROCESS
	if e != 0 {
		return st, 0, e
	}
	st.ioprio = int(p)
	return st, ignored, nil
}

// server is the fork server's state, read once.
var server struct {
	once sync.Once
	pid  int
	st   state
	err  error
}

// forkable reports whether the fork server may start the child: it runs,
// and the calling thread's state is the server's, which its child would
// start with. ignored are the signals ignored at the call.
func forkable() (ignored uint64, ok bool) {
	if handoff.SpawnExec == nil || execOnly {
		return 0, false
	}
	pid := handoff.ForkServerPID()
	if pid == 0 {
		return 0, false
	}
	server.once.Do(func() {
		server.pid = pid
		server.st, _, server.err = readState(pid)
	})
	if server.err != nil || server.pid != pid {
		return 0, false
	}
	self, ignored, err := readState(0)
	if err != nil {
		return 0, false
	}
	// Go raises its soft limit of open files to one below the hard one
	// as it starts, and os/exec gives children the limit from before
	// while it is still that (package syscall, rlimit.go): so has the
	// server, which forked before the runtime started.
	nofile, srv := &self.limits[unix.RLIMIT_NOFILE], server.st.limits[unix.RLIMIT_NOFILE]
	if srv.Max > 0 && srv.Cur < srv.Max-1 && *nofile == (unix.Rlimit{Cur: srv.Max - 1, Max: srv.Max}) {
		*nofile = srv
	}
	return ignored, self == server.st
}

// execOnly makes every Start exec, for tests that compare both ways.
var execOnly bool

// forked is what Start keeps of a child the fork server started: the
// copying of its standard streams, as exec.Cmd does it.
type forked struct {
	copies  sync.WaitGroup
	pipes   []*os.File // this process's ends, closed once copied or given up
	done    chan struct{}
	waitErr error
}

// startForked starts the child through the fork server, with the
// descriptors, variables and environment Start prepared. It returns
// ok false, with nothing started, when the server cannot (it went, or the
// request is too large): Start then execs.
func (c *Cmd) startForked(vars, env []string, files []*os.File, ignored uint64) (ok bool, err error) {
	if _, isFile := c.Stdin.(*os.File); c.Stdin != nil && !isFile {
		return false, nil
	}
	f := &forked{done: make(chan struct{})}
	var fds []int
	var held []*os.File
	defer func() {
		for _, h := range held {
			h.Close()
		}
	}()
	var null *os.File
	for i, s := range []any{c.Stdin, c.Stdout, c.Stderr} {
		switch s := s.(type) {
		case nil:
			if null == nil {
				if null, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					return true, err
				}
				held = append(held, null)
			}
			fds = append(fds, int(null.Fd()))
		case *os.File:
			fds = append(fds, int(s.Fd()))
		case io.Writer:
			if i == 2 && sameWriter(c.Stdout, s) {
				fds = append(fds, fds[1]) // one pipe for both, as exec.Cmd does
				continue
			}
			r, w, err := os.Pipe()
			if err != nil {
				f.closePipes()
				return true, err
			}
			held, f.pipes = append(held, w), append(f.pipes, r)
			fds = append(fds, int(w.Fd()))
			f.copies.Add(1)
			go func() {
				defer f.copies.Done()
				io.Copy(s, r)
			}()
		}
	}
	for _, x := range files {
		if x == nil {
			f.closePipes()
			return false, nil // a closed slot: exec.Cmd's way
		}
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
	pid, pidfd, err := handoff.SpawnExec(ctx, &handoff.ExecRequest{Vars: vars, Name: c.Path, Args: argv, Env: env,
		FDs: fds, Dir: dir, Ignored: ignored})
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
	c.Process, _ = os.FindProcess(pid) // never fails on Linux
	c.wait = c.waitForked
	c.fork = f
	if c.ctx != nil && c.ctx.Done() != nil {
		go c.watch(f)
	}
	return true, nil
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
