//go:build linux && cgo

package nsexec

/*
#include <stdlib.h>
#include "exec.h"
*/
import "C"

import (
	"errors"
	"os"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/nsroute"
	"github.com/gonsproject/gons/status"
)

// directMu serializes direct starts: their children share this process's
// memory, and with it the exec step's group table and path buffer, and
// the one stack they run on (direct_linux.c).
var directMu sync.Mutex

// forceDirect makes the direct start take what it declines and skip the
// check of a Target's namespaces, for tests that the kernel refuses it and
// that Start then takes another route.
var forceDirect bool

// directRoute reports whether the direct start applies to c, and which
// of the target's namespace types (bits 1 << type) it must find equal to
// the calling thread's at the start: a child that shares the caller's
// memory cannot join a time namespace (the kernel wants a process alone
// in its memory: EUSERS), nor fork into a PID namespace.
func (c *Cmd) directRoute() (check int, ok bool) {
	if nsroute.NoDirect.Load() {
		return 0, false
	}
	for _, x := range c.ExtraFiles {
		if x == nil {
			return 0, false // a closed slot: exec.Cmd's way
		}
	}
	refused := func(typ string) bool {
		typ = strings.TrimPrefix(typ, "!")
		return !forceDirect && (typ == "time" || typ == "pid" && !c.NoFork)
	}
	for _, ns := range c.Namespaces {
		if refused(ns.Type) {
			return 0, false
		}
	}
	if t := c.Target; t != nil {
		if t.Types == nil {
			check = 1 << C.GONS_TIME
			if !c.NoFork {
				check |= 1 << C.GONS_PID
			}
		}
		for _, typ := range t.Types {
			if refused(typ) {
				return 0, false
			}
		}
	}
	return check, true
}

// cBlock is a struct gons_direct with its strings and tables, in C memory,
// which the child reads after it rearranged its descriptors.
type cBlock struct {
	mem unsafe.Pointer
	d   *C.struct_gons_direct
}

// newBlock lays out env, name, argv and fds in one C allocation.
func newBlock(env []string, name string, argv []string, fds []int) *cBlock {
	size := int(unsafe.Sizeof(C.struct_gons_direct{}))
	size += (len(env) + 1 + len(argv) + 1) * int(unsafe.Sizeof(uintptr(0)))
	size += len(fds) * 4
	strs := len(name) + 1
	for _, s := range env {
		strs += len(s) + 1
	}
	for _, s := range argv {
		strs += len(s) + 1
	}
	mem := C.calloc(1, C.size_t(size+strs))
	buf := unsafe.Slice((*byte)(mem), size+strs)
	d := (*C.struct_gons_direct)(mem)
	off := int(unsafe.Sizeof(*d))
	ptrs := func(n int) []*C.char {
		p := unsafe.Slice((**C.char)(unsafe.Pointer(&buf[off])), n)
		off += n * int(unsafe.Sizeof(uintptr(0)))
		return p
	}
	envp, argp := ptrs(len(env)+1), ptrs(len(argv)+1)
	fdp := unsafe.Slice((*C.int)(unsafe.Pointer(&buf[off])), len(fds))
	off += len(fds) * 4
	str := func(s string) *C.char {
		p := (*C.char)(unsafe.Pointer(&buf[off]))
		off += copy(buf[off:], s) + 1 // calloc's NUL follows
		return p
	}
	for i, s := range env {
		envp[i] = str(s)
	}
	for i, s := range argv {
		argp[i] = str(s)
	}
	for i, fd := range fds {
		fdp[i] = C.int(fd)
	}
	d.env, d.argv, d.name = &envp[0], &argp[0], str(name)
	if len(fds) > 0 {
		d.fds = &fdp[0]
	}
	d.nfds = C.int(len(fds))
	return &cBlock{mem: mem, d: d}
}

// startDirect starts the child from the calling thread, with the
// environment (variables and marker included) and descriptors Start
// prepared, pidfd the target's (or nil). It returns ok false, with nothing
// started, when a namespace of check differs: Start then takes another
// route. unshared says that the child's memory was its own after all
// (qemu-user runs a vfork as a fork): a failure is then in the error pipe
// only.
func (c *Cmd) startDirect(env []string, files []*os.File, pidfd *os.File, check int) (ok, unshared bool, err error) {
	f := &forked{done: make(chan struct{})}
	s, err := c.openStreams(f)
	if err != nil {
		return true, false, err
	}
	defer s.close()
	fds := s.fds
	for _, x := range files {
		fds = append(fds, int(x.Fd()))
	}
	b := newBlock(env, c.Path, c.argv(), fds)
	defer C.free(b.mem)
	if check != 0 && !forceDirect {
		b.d.check, b.d.pidfd, b.d.pid = C.int(check), C.int(pidfd.Fd()), C.int(c.Target.PID)
	}
	directMu.Lock()
	ret, errno := C.gons_direct_start(b.d)
	directMu.Unlock()
	switch ret {
	case C.GONS_DIRECT_DECLINED:
		f.closePipes()
		return false, false, nil
	case C.GONS_DIRECT_STARTED:
	default:
		f.closePipes()
		return true, false, &status.Error{Op: "exec", Path: c.Path, Err: os.NewSyscallError("clone", errno)}
	}
	pid := int(b.d.pid)
	if b.d.rec.op != C.GONS_OP_NONE {
		// The child exited: reap it, and report what it recorded.
		f.closePipes()
		for {
			if _, err := unix.Wait4(pid, nil, 0, nil); err != unix.EINTR {
				break
			}
		}
		err := decodeRecord(unsafe.Pointer(&b.d.rec))
		if err == nil {
			err = &status.Error{Op: "exec", Err: errors.New("the child reported a failure without a step")}
		}
		return true, false, err
	}
	c.launched(f, pid, s.copies)
	c.direct = true
	return true, b.d.shared == 0, nil
}
