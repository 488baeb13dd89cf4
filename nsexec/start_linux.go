//go:build linux && cgo

package nsexec

/*
#cgo CFLAGS: -Wall -Wextra -Os -fno-asynchronous-unwind-tables -I${SRCDIR}/../internal/preinit
#include "exec.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/pidfdprobe"
	"github.com/gonsproject/gons/internal/preinit" // the constructor that calls the exec step
	"github.com/gonsproject/gons/status"
)

// The marker's flags, as exec.h numbers them.
const (
	flagCred     = C.GONS_EXEC_CRED
	flagNoGroups = C.GONS_EXEC_NOGROUPS
	flagNoFork   = C.GONS_EXEC_NOFORK
	flagByFD     = C.GONS_EXEC_BYFD
	flagTarget   = C.GONS_EXEC_TARGET
)

// recordSize is the size of the record the child writes on failure.
const recordSize = C.sizeof_struct_gons_record

// decodeRecord is defined in package status, which decodes records.
//
//go:linkname decodeRecord github.com/gonsproject/gons/status.decodeRecord
func decodeRecord(p unsafe.Pointer) error

// nsTypes are the namespace types, by name, as gons.h numbers them.
var nsTypes = map[string]int{
	"cgroup": C.GONS_CGROUP, "ipc": C.GONS_IPC, "mnt": C.GONS_MNT, "net": C.GONS_NET,
	"pid": C.GONS_PID, "time": C.GONS_TIME, "user": C.GONS_USER, "uts": C.GONS_UTS,
}

// allTypes are the bits (1 << type) of every type.
const allTypes = 1<<C.GONS_NTYPES - 1

// startErr is an error of Start before anything ran, about the Cmd.
func startErr(c *Cmd, format string, args ...any) error {
	return &status.Error{Op: "exec", Path: c.Path, Err: fmt.Errorf(format, args...)}
}

// check refuses what execve(2) or the steps would refuse, before a child
// is started.
func (c *Cmd) check() error {
	if c.Path == "" {
		return startErr(c, "empty Path: %w", unix.ENOENT)
	}
	if strings.IndexByte(c.Path, 0) >= 0 {
		return startErr(c, "Path holds a NUL byte: %w", unix.EINVAL)
	}
	for i, a := range c.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return startErr(c, "Args[%d] holds a NUL byte: %w", i, unix.EINVAL)
		}
	}
	for i, kv := range c.Env {
		if strings.IndexByte(kv, 0) >= 0 {
			return startErr(c, "Env[%d] holds a NUL byte: %w", i, unix.EINVAL)
		}
	}
	for _, s := range []struct{ name, v string }{{"Dir", c.Dir}, {"Root", c.Root}} {
		if strings.IndexByte(s.v, 0) >= 0 {
			return startErr(c, "%s holds a NUL byte: %w", s.name, unix.EINVAL)
		}
		if len(s.v) >= unix.PathMax {
			return startErr(c, "%s is longer than PATH_MAX: %w", s.name, unix.ENAMETOOLONG)
		}
	}
	if !preinit.Ran() {
		return startErr(c, "package nsexec needs its C constructor, which this binary does not run "+
			"(internal linking): %w", errors.ErrUnsupported)
	}
	return nil
}

// env returns the program's environment: Env, or the caller's, without
// gons_* and GONS_* entries.
func (c *Cmd) env() []string {
	src := c.Env
	if src == nil {
		src = os.Environ()
	}
	env := make([]string, 0, len(src)+12)
	for _, kv := range src {
		if !strings.HasPrefix(kv, "gons_") && !strings.HasPrefix(kv, "GONS_") {
			env = append(env, kv)
		}
	}
	return env
}

// nsVars adds the gons_* variables of Namespaces, Root and Dir to env.
func (c *Cmd) nsVars(env []string) ([]string, error) {
	if len(c.Namespaces) > 0 && c.Target != nil {
		return nil, startErr(c, "Target and Namespaces: %w", status.ErrConflict)
	}
	seen := map[string]bool{}
	var order []string
	for _, ns := range c.Namespaces {
		typ := strings.TrimPrefix(ns.Type, "!")
		_, known := nsTypes[typ]
		switch {
		case !known:
			return nil, startErr(c, "Namespaces: type %q: %w", ns.Type, status.ErrUnknownType)
		case seen[typ]:
			return nil, startErr(c, "Namespaces: %s listed more than once: %w", typ, status.ErrDuplicate)
		case ns.Path == "" || strings.IndexByte(ns.Path, 0) >= 0 || len(ns.Path) >= unix.PathMax:
			return nil, startErr(c, "Namespaces: %s: path %q: %w", typ, ns.Path, status.ErrSyntax)
		}
		seen[typ] = true
		order = append(order, ns.Type)
		env = append(env, "gons_"+typ+"="+ns.Path)
	}
	if len(order) > 0 {
		env = append(env, "gons_order="+strings.Join(order, ","))
	}
	if c.Root != "" {
		env = append(env, "gons_root="+c.Root)
	}
	if c.Dir != "" {
		env = append(env, "gons_wd="+c.Dir)
	}
	return env, nil
}

// target validates Target and adds its pidfd to files. When the caller
// passed the pidfd, it adds the variables of early's Target step to env;
// when target opened it itself, of Target's PID, it returns the marker's
// part instead (",PID,FD,TYPES", with flagTarget), for the exec step's
// lighter step, which skips checks that the pidfd names the process
// (target_linux.c). It returns what to close once the child started.
func (c *Cmd) target(env []string, files []*os.File) (_ []string, _ []*os.File, own *os.File, marker string, err error) {
	t := c.Target
	if t.PID <= 0 {
		return nil, nil, nil, "", startErr(c, "Target: %d is not a process ID: %w", t.PID, unix.EINVAL)
	}
	mask := 0
	for _, typ := range t.Types {
		typ = strings.TrimPrefix(typ, "!")
		n, known := nsTypes[typ]
		switch {
		case !known:
			return nil, nil, nil, "", startErr(c, "Target: type %q: %w", typ, status.ErrUnknownType)
		case mask&(1<<n) != 0:
			return nil, nil, nil, "", startErr(c, "Target: %s listed more than once: %w", typ, status.ErrDuplicate)
		}
		mask |= 1 << n
	}
	if t.Types != nil && mask == 0 {
		return nil, nil, nil, "", startErr(c, "Target: no types: %w", status.ErrSyntax)
	}
	fd := 3 + len(files)
	if pidfd := t.Pidfd; pidfd != nil {
		// The pidfd names the process for good: a PID:INODE check of that
		// same descriptor's inode would add nothing to it.
		env = append(env, "gons_target="+strconv.Itoa(t.PID), "gons_target_fd="+strconv.Itoa(fd))
		if mask != 0 {
			var types []string
			for _, typ := range t.Types {
				types = append(types, strings.TrimPrefix(typ, "!"))
			}
			env = append(env, "gons_target_ns="+strings.Join(types, ","))
		}
		return env, append(files, pidfd), nil, "", nil
	}
	pfd, err := unix.PidfdOpen(t.PID, 0)
	if err != nil {
		return nil, nil, nil, "", &status.Error{Op: "target", Err: fmt.Errorf("process %d: %w", t.PID,
			os.NewSyscallError("pidfd_open", err))}
	}
	own = os.NewFile(uintptr(pfd), "pidfd")
	if mask == 0 {
		mask = allTypes
	}
	marker = "," + strconv.Itoa(t.PID) + "," + strconv.Itoa(fd) + "," + strconv.Itoa(mask)
	return env, append(files, own), own, marker, nil
}

// hostBinary opens the program as the caller sees it.
func (c *Cmd) hostBinary() (*os.File, error) {
	p, err := exec.LookPath(c.Path)
	if err != nil {
		return nil, &status.Error{Op: "exec", Path: c.Path, Err: err}
	}
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &status.Error{Op: "exec", Path: p, Err: err}
	}
	return os.NewFile(uintptr(fd), p), nil
}

// Start starts the program. Everything before the program runs, the
// joins, root, directory, credentials and the execve(2) itself, happens
// in the child before Start returns: a failure there is Start's error,
// a *status.Error with the op, type, path and errno, and nothing runs.
// An exit status is always the program's own.
func (c *Cmd) Start() error {
	if c.started {
		return errors.New("nsexec: already started")
	}
	c.started = true
	if c.ctx != nil {
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
	if err := c.check(); err != nil {
		return err
	}
	pidfdprobe.Run() // before the child exists, not beside it
	env, err := c.nsVars(c.env())
	if err != nil {
		return err
	}
	var toClose []*os.File
	defer func() {
		for _, f := range toClose {
			f.Close()
		}
	}()
	files := append([]*os.File(nil), c.ExtraFiles...)
	// A blocking pipe, read by a plain read(2) as os/exec reads its own:
	// the runtime's poller would cost a wake-up through it.
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return &status.Error{Op: "exec", Err: os.NewSyscallError("pipe2", err)}
	}
	r, w := p[0], os.NewFile(uintptr(p[1]), "|1")
	defer func() { unix.Close(r) }()
	toClose = append(toClose, w)
	errfd := 3 + len(files)
	files = append(files, w)
	var pidfd *os.File
	var tmarker string
	flags := 0
	if c.Target != nil {
		var own *os.File
		if env, files, own, tmarker, err = c.target(env, files); err != nil {
			return err
		}
		pidfd = files[errfd-2]
		if own != nil {
			toClose = append(toClose, own)
			flags |= flagTarget
		}
	}
	progfd := 0
	if c.HostBinary {
		f, err := c.hostBinary()
		if err != nil {
			return err
		}
		toClose = append(toClose, f)
		flags |= flagByFD
		progfd = 3 + len(files)
		files = append(files, f)
	}
	if c.NoFork {
		flags |= flagNoFork
	}
	// The marker: ERRFD,FLAGS,PROGFD,UID,GID[,TARGET,TFD,TTYPES][,GROUP...] (exec.h).
	ids, groups := ",0,0", ""
	if cr := c.Credential; cr != nil {
		flags |= flagCred
		if cr.NoSetGroups {
			flags |= flagNoGroups
		}
		if len(cr.Groups) > C.GONS_EXEC_MAX_GROUPS {
			return startErr(c, "Credential: %d groups, more than %d: %w", len(cr.Groups), C.GONS_EXEC_MAX_GROUPS, unix.EINVAL)
		}
		if cr.Uid == ^uint32(0) || cr.Gid == ^uint32(0) {
			return startErr(c, "Credential: uid %d, gid %d: (uid_t)-1 means no change: %w", cr.Uid, cr.Gid, unix.EINVAL)
		}
		ids = "," + strconv.FormatUint(uint64(cr.Uid), 10) + "," + strconv.FormatUint(uint64(cr.Gid), 10)
		var b strings.Builder
		for _, g := range cr.Groups {
			b.WriteString("," + strconv.FormatUint(uint64(g), 10))
		}
		groups = b.String()
	}
	env = append(env, "GONS_EXEC="+strconv.Itoa(errfd)+","+strconv.Itoa(flags)+","+strconv.Itoa(progfd)+ids+tmarker+groups)

	if check, ok := c.directRoute(); ok {
		started, unshared, err := c.startDirect(env, files, pidfd, check)
		switch {
		case started && err == nil && !unshared:
			return nil
		case started && err == nil:
			// The record could not reach this process: the pipe has it.
			return c.report(r, &toClose)
		case started && !(check != 0 && errors.Is(err, unix.EUSERS)):
			return err
		case started:
			// The target joined a time namespace since the check: the
			// child joined nothing (setns of a pidfd is all or none),
			// and another route takes the start, with a fresh pipe.
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				return &status.Error{Op: "exec", Err: os.NewSyscallError("pipe2", err)}
			}
			unix.Close(r)
			w.Close()
			r, w = p[0], os.NewFile(uintptr(p[1]), "|1")
			toClose[0], files[errfd-3] = w, w
		}
	}
	if forkable() {
		vars, progEnv := splitVars(env)
		started, err := c.startForked(vars, progEnv, files)
		if err != nil {
			return err
		}
		if started {
			return c.report(r, &toClose)
		}
	}

	inner := exec.Command("/proc/self/exe")
	ready := make(chan struct{}) // closed once c.Process is set, which Cancel may use
	readied := false
	defer func() {
		if !readied {
			close(ready)
		}
	}()
	if c.ctx != nil {
		inner = exec.CommandContext(c.ctx, "/proc/self/exe")
		inner.Cancel = func() error {
			<-ready
			if c.Cancel == nil {
				return inner.Process.Kill()
			}
			return c.Cancel()
		}
	}
	// The exec step finds the program's name first, its argv after.
	inner.Args = append([]string{c.Path}, c.argv()...)
	inner.Env = env
	inner.Stdin, inner.Stdout, inner.Stderr = c.Stdin, c.Stdout, c.Stderr
	inner.ExtraFiles = files
	inner.WaitDelay = c.WaitDelay
	if err := inner.Start(); err != nil {
		return &status.Error{Op: "exec", Path: "/proc/self/exe", Err: err}
	}
	c.Process = inner.Process
	c.wait = func() error {
		err := inner.Wait()
		c.ProcessState = inner.ProcessState
		return err
	}
	close(ready)
	readied = true
	for _, f := range toClose {
		f.Close()
	}
	toClose = nil
	if err := readFailure(r); err != nil {
		inner.Wait()
		c.Process, c.wait = nil, nil
		return err
	}
	return nil
}

// report closes this process's ends of what the child started with
// (toClose, emptied), and reads the child's report from the error pipe r:
// nil once the program runs, or the step that failed, with the child
// reaped.
func (c *Cmd) report(r int, toClose *[]*os.File) error {
	for _, f := range *toClose {
		f.Close()
	}
	*toClose = nil
	if err := readFailure(r); err != nil {
		c.failedForked()
		c.Process, c.wait = nil, nil
		return err
	}
	return nil
}

// readFailure reads the error pipe r: EOF alone when the program runs, a
// record when a step failed.
func readFailure(r int) error {
	var rec C.struct_gons_record
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&rec)), recordSize)
	n := 0
	var err error
	for n < len(buf) {
		k, e := unix.Read(r, buf[n:])
		if e == unix.EINTR {
			continue
		}
		if e != nil || k == 0 {
			err = e
			break
		}
		n += k
	}
	switch {
	case n == 0 && err == nil:
		return nil
	case n == recordSize:
		if err := decodeRecord(unsafe.Pointer(&rec)); err != nil {
			return err
		}
		return &status.Error{Op: "exec", Err: errors.New("the child reported a failure without a step")}
	case err == nil:
		err = io.ErrUnexpectedEOF
	}
	return &status.Error{Op: "exec", Err: fmt.Errorf("the child's report ended after %d bytes: %w", n, os.NewSyscallError("read", err))}
}
