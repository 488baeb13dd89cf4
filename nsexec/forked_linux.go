//go:build linux && cgo

package nsexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/handoff"
)

// state is what a child inherits from a process or thread, as far as the
// fork server's child would have it from the server rather than from the
// caller: the server's is read once (it never changes it), the caller's
// at each call, through system calls and descriptors of its /proc files
// kept open (see procFiles), which spare the path lookups.
type state struct {
	status string // the statusFields lines: umask, seccomp filters, cpusets
	ns     [8]string
	root   [2]uint64
	cgroup string
	oom    string
	attr   string
	uids   [3]int
	gids   [3]int
	caps   [2]unix.CapUserData
	cpus   unix.CPUSet
	limits [16]unix.Rlimit
	nice   int
	pers   int
	ioprio int
}

// statusFields are the lines of /proc/PID/status that no system call
// reads: the umask, the number of seccomp filters, the memory nodes.
var statusFields = []string{"Umask:", "Seccomp_filters:", "Mems_allowed_list:"}

var nsNames = []string{"cgroup", "ipc", "mnt", "net", "pid_for_children", "time_for_children", "user", "uts"}

// procFiles are descriptors of a thread's /proc files, kept open: reading
// them again (pread, readlinkat) costs no path lookup.
type procFiles struct {
	status, attr, nsDir, task int
}

// proc holds the procFiles of the threads that called Start, and those of
// the process.
var proc struct {
	sync.Mutex
	threads        map[int]*procFiles
	cgroup, oomAdj int
}

// open opens the /proc files of thread tid of this process (pid 0) or of
// process pid.
func openProc(pid, tid int) (*procFiles, error) {
	dir := "/proc/self/task/" + strconv.Itoa(tid)
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	var f procFiles
	var err error
	if f.task, err = unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return nil, err
	}
	f.status, err = unix.Openat(f.task, "status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		f.nsDir, err = unix.Openat(f.task, "ns", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		unix.Close(f.task)
		return nil, err
	}
	f.attr, _ = unix.Openat(f.task, "attr/current", unix.O_RDONLY|unix.O_CLOEXEC, 0) // -1: no LSM
	var b [64]byte
	if _, err := unix.Pread(f.attr, b[:], 0); err == unix.EINVAL {
		unix.Close(f.attr) // no LSM that keeps a label
		f.attr = -1
	}
	return &f, nil
}

func (f *procFiles) close() {
	for _, fd := range []int{f.status, f.attr, f.nsDir, f.task} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// pread reads the whole of the /proc file fd, from its start.
func pread(fd int, buf []byte) (string, error) {
	if fd < 0 {
		return "", nil
	}
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// readState reads the state of process pid through f, or, for pid 0, of
// the calling thread, and the signals ignored, as bits sig - 1.
func readState(pid int, f *procFiles, cgroup, oomAdj int) (st state, ignored uint64, err error) {
	var buf [4096]byte
	status, err := pread(f.status, buf[:])
	if err != nil {
		return st, 0, err
	}
	var sb strings.Builder
	for _, line := range strings.Split(status, "\n") {
		for _, fl := range statusFields {
			if strings.HasPrefix(line, fl) {
				sb.WriteString(line + "\n")
			}
		}
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			ignored, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
		if pid == 0 {
			continue
		}
		// The server's IDs, groups and capabilities: no system call
		// reads another process's.
		for _, k := range []string{"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "NoNewPrivs:", "Seccomp:"} {
			if strings.HasPrefix(line, k) {
				sb.WriteString(line + "\n")
			}
		}
	}
	st.status = sb.String()
	for i, n := range nsNames {
		l := make([]byte, 64)
		k, err := unix.Readlinkat(f.nsDir, n, l)
		if err != nil && err != unix.ENOENT {
			return st, 0, err
		}
		st.ns[i] = string(l[:max(k, 0)])
	}
	var s unix.Stat_t
	if err := unix.Fstatat(f.task, "root/", &s, 0); err != nil {
		return st, 0, err
	}
	st.root = [2]uint64{s.Dev, s.Ino}
	if st.cgroup, err = pread(cgroup, buf[:]); err != nil {
		return st, 0, err
	}
	if st.oom, err = pread(oomAdj, buf[:]); err != nil {
		return st, 0, err
	}
	if st.attr, err = pread(f.attr, buf[:]); err != nil && err != unix.EINVAL {
		return st, 0, err
	}
	for r := range st.limits {
		if err := unix.Prlimit(pid, r, nil, &st.limits[r]); err != nil {
			return st, 0, err
		}
	}
	if st.nice, err = unix.Getpriority(unix.PRIO_PROCESS, pid); err != nil {
		return st, 0, err
	}
	p, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, 1, uintptr(pid), 0) // IOPRIO_WHO_PROCESS
	if e != 0 {
		return st, 0, e
	}
	st.ioprio = int(p)
	if err := unix.SchedGetaffinity(pid, &st.cpus); err != nil {
		return st, 0, err
	}
	if pid != 0 {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/personality")
		if err != nil {
			return st, 0, err
		}
		v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 16, 32)
		st.pers = int(v)
		st.status = sortLines(st.status)
		return st, ignored, nil
	}
	// The calling thread's IDs, groups, capabilities and flags, by
	// system call, in the form the server's status lines have.
	st.uids[0], st.uids[1], st.uids[2] = unix.Getresuid()
	st.gids[0], st.gids[1], st.gids[2] = unix.Getresgid()
	groups, err := unix.Getgroups()
	if err != nil {
		return st, 0, err
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if err := unix.Capget(&hdr, &st.caps[0]); err != nil {
		return st, 0, err
	}
	nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return st, 0, err
	}
	secc, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	if err != nil {
		secc = 2 // in a filter that refuses the question
	}
	pers, _, e := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if e != 0 {
		return st, 0, e
	}
	st.pers = int(pers)
	var g strings.Builder
	for i, x := range groups {
		g.WriteString(strings.Repeat(" ", min(i, 1)) + strconv.Itoa(x))
	}
	g.WriteString(" ") // the kernel's trailing blank
	st.status += fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nGroups:\t%s\n"+
		"CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nNoNewPrivs:\t%d\nSeccomp:\t%d\n",
		st.uids[0], st.uids[1], st.uids[2], fsuid(), st.gids[0], st.gids[1], st.gids[2], fsgid(), g.String(),
		uint64(st.caps[1].Inheritable)<<32|uint64(st.caps[0].Inheritable),
		uint64(st.caps[1].Permitted)<<32|uint64(st.caps[0].Permitted),
		uint64(st.caps[1].Effective)<<32|uint64(st.caps[0].Effective), nnp, secc)
	st.uids, st.gids, st.caps = [3]int{}, [3]int{}, [2]unix.CapUserData{}
	st.status = sortLines(st.status)
	return st, ignored, nil
}

// sortLines returns the lines of s, sorted, so that the same lines in
// another order compare equal.
func sortLines(s string) string {
	l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	sort.Strings(l)
	return strings.Join(l, "\n")
}

// fsuid and fsgid return the file system IDs, which setfsuid(2) with an
// invalid ID reports without changing.
func fsuid() int { r, _, _ := unix.RawSyscall(unix.SYS_SETFSUID, ^uintptr(0), 0, 0); return int(r) }
func fsgid() int { r, _, _ := unix.RawSyscall(unix.SYS_SETFSGID, ^uintptr(0), 0, 0); return int(r) }

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
		server.err = errors.New("no state")
		f, err := openProc(pid, 0)
		if err != nil {
			return
		}
		defer f.close()
		cg, err1 := unix.Open("/proc/"+strconv.Itoa(pid)+"/cgroup", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		oom, err2 := unix.Open("/proc/"+strconv.Itoa(pid)+"/oom_score_adj", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err1 == nil && err2 == nil {
			server.st, _, server.err = readState(pid, f, cg, oom)
		}
		unix.Close(cg)
		unix.Close(oom)
	})
	if server.err != nil || server.pid != pid {
		return 0, false
	}
	self, ignored, err := selfState()
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

// selfState reads the calling thread's state through its procFiles,
// opened on its first call.
func selfState() (state, uint64, error) {
	proc.Lock()
	defer proc.Unlock()
	if proc.threads == nil {
		var err error
		if proc.cgroup, err = unix.Open("/proc/self/cgroup", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return state{}, 0, err
		}
		if proc.oomAdj, err = unix.Open("/proc/self/oom_score_adj", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			unix.Close(proc.cgroup)
			return state{}, 0, err
		}
		proc.threads = map[int]*procFiles{}
	}
	tid := unix.Gettid()
	for try := 0; try < 2; try++ {
		f := proc.threads[tid]
		if f == nil {
			var err error
			if f, err = openProc(0, tid); err != nil {
				return state{}, 0, err
			}
			proc.threads[tid] = f
		}
		st, ignored, err := readState(0, f, proc.cgroup, proc.oomAdj)
		if err == nil {
			return st, ignored, nil
		}
		// A thread that ended, whose ID a new one took: open again.
		f.close()
		delete(proc.threads, tid)
	}
	return state{}, 0, errors.New("no state")
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
