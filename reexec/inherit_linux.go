package reexec

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A child of the fork server inherits the server's process state, which
// is the program's as it started; an exec'd child inherits the calling
// thread's at the call. This file decides whether the two agree, for the
// state that fork(2) and execve(2) carry over and reexec does not pass
// itself (the working directory, the descriptors, the environment: see
// startForked). Package reexec/forkserver's doc has the table; each row's
// test is in reexec/forkserver/inherit_linux_test.go.
//
// The server's state is read once, at the first call that may fork, from
// the server itself (/proc/PID/..., and the system calls that take a PID):
// it is exactly what its children inherit. What only a thread can read of
// itself is read in reexec/forkserver's initialisation, on the program's
// first thread (see recordSelf). Each call compares the calling thread's
// state with that, and goes through exec at the first difference.

// statusFields are the lines of /proc/PID/status compared: credentials
// (real, effective, saved, file system IDs), supplementary groups, umask,
// ignored signals, capability sets (inheritable, permitted, effective,
// bounding, ambient), no_new_privs, the seccomp mode and the number of
// filters, the speculation controls, CPU and memory-node affinity, and
// PR_SET_THP_DISABLE; then the lines compared with the program's first
// thread as it started rather than with the server (see selfFields). A
// line the kernel does not have reads as missing on both sides. One read
// of the file costs less than the system calls that would return what
// it has.
var statusFields = [...]string{
	"Umask", "Uid", "Gid", "Groups", "SigIgn",
	"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
	"NoNewPrivs", "Seccomp", "Seccomp_filters",
	"Speculation_Store_Bypass", "SpeculationIndirectBranch",
	"Cpus_allowed_list", "Mems_allowed_list", "THP_enabled",
	"SigBlk", "NSpgid", "NSsid",
}

// selfFields is where the lines of statusFields start that are compared
// with the program's first thread as recordSelf found it: the signal mask
// (os/exec starts a child with the calling thread's; the server's
// children with the program's at start-up, where the Go runtime unblocks
// on every thread the signals it must have, as on the first thread before
// this records it), the process group and the session, in the PID
// namespaces of /proc (Linux 4.1; on a kernel without them readSelf asks
// getpgid(2) and getsid(2)).
const selfFields = len(statusFields) - 3

// nsPaths are the links of inheritedNS, relative to a /proc/PID
// directory.
var nsPaths = func() (p [len(inheritedNS)]string) {
	for i, t := range inheritedNS {
		p[i] = "ns/" + t
	}
	return p
}()

// inheritedNS are the namespaces a child of the thread starts in: the
// thread's own, but for pid and time, where it is the one for children.
// The user namespace is not among them: the kernel lets no thread of a
// process with more than one change it (setns(2), unshare(2): EINVAL),
// and the Go runtime has more than one before any package initialises.
var inheritedNS = [...]string{
	"cgroup", "ipc", "mnt", "net", "pid_for_children", "time_for_children", "uts",
}

// rlimits is RLIM_NLIMITS: the resource limits are 0 to rlimits-1.
const rlimits = 16

// procState is the state of a process or thread that its children
// inherit, as far as other processes can read it.
type procState struct {
	status [len(statusFields)]string
	ns     [len(inheritedNS)]string
	root   rootID
	rlim   [rlimits]unix.Rlimit
	sched  unix.SchedAttr
	ioprio int
	oom    string
	cgroup string
	audit  string    // the login UID, "" without audit support
	lsm    [2]string // attr/current and attr/exec, with the error, if any
}

// selfState is the state that only the thread itself can read: recorded
// at initialisation, compared at each call. The signal mask, the process
// group and the session are lines of the status file (see selfFields).
type selfState struct {
	securebits, personality, timerslack, mempolicy, mdwe int
	keyring                                              int // the session keyring's ID
	sid, pgid                                            int // where status has no NSsid, NSpgid
}

// rootID identifies a root directory: the mount (its unique ID where the
// kernel has one) and the inode. A thread in another mount namespace has
// its root on another mount.
type rootID struct {
	mnt          uint64
	mask         uint32 // which mount ID mnt is
	major, minor uint32
	ino          uint64
	err          unix.Errno
}

// inherit is what the checks compare against; see readServer and
// recordSelf.
var inherit struct {
	self       selfState
	selfOK     bool
	selfStatus [len(statusFields)]string // the first thread's status lines
	nsIDs      bool                      // status has NSpgid and NSsid
	dumpableOK bool                      // an exec'd child would be as dumpable as the server
	once       sync.Once
	server     procState
	serverOK   bool
	hasLSM     bool
	// The program's /proc/self/oom_score_adj, /proc/self/cgroup and
	// /proc/self/limits, kept open from initialisation: reading costs
	// one pread, and no call adds a descriptor to the program.
	oomFD, cgroupFD, limitsFD int
}

// recordSelf records what only the program can read of itself, on its
// first thread during initialisation: as it started. It is called by
// enableForkServer.
func recordSelf() {
	statusOK := readStatus("/proc/thread-self/status", &inherit.selfStatus)
	inherit.nsIDs = inherit.selfStatus[selfFields+1] != "" && inherit.selfStatus[selfFields+2] != ""
	inherit.self, inherit.selfOK = readSelf()
	inherit.selfOK = inherit.selfOK && statusOK
	// execve(2) makes the child dumpable unless it is a secure
	// execution, in which the program runs too; the server has the
	// program's flag at start-up, which package early clears before it
	// joins a user namespace.
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	inherit.dumpableOK = err == nil && (d == 1 || secureExec())
	inherit.oomFD = openProc("/proc/self/oom_score_adj")
	inherit.cgroupFD = openProc("/proc/self/cgroup")
	inherit.limitsFD = openProc("/proc/self/limits")
}

// secureExec reports whether the program runs in secure-execution mode,
// as its exec'd child would (the same file).
func secureExec() bool {
	const atSecure = 23 // AT_SECURE
	auxv, _ := unix.Auxv()
	for _, kv := range auxv {
		if kv[0] == atSecure {
			return kv[1] != 0
		}
	}
	return false
}

func openProc(path string) int {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// readSelf reads the calling thread's selfState; ok is false when a call
// failed that the kernel has.
func readSelf() (s selfState, ok bool) {
	ok = true
	prctl := func(op int) int {
		v, err := unix.PrctlRetInt(op, 0, 0, 0, 0)
		if err == unix.EINVAL {
			return -1 // the kernel lacks it: the same on both sides
		}
		if err != nil {
			ok = false
		}
		return v
	}
	s.securebits = prctl(unix.PR_GET_SECUREBITS)
	s.timerslack = prctl(unix.PR_GET_TIMERSLACK)
	s.mdwe = prctl(unix.PR_GET_MDWE)
	p, _, errno := unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	s.personality = int(p)
	if errno != 0 {
		ok = false
	}
	var mode int32
	_, _, errno = unix.RawSyscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)), 0, 0, 0, 0, 0)
	s.mempolicy = int(mode)
	if errno != 0 {
		s.mempolicy = -int(errno) // ENOSYS without NUMA: the same on both sides
	}
	k, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 0, 0, 0)
	if err != nil {
		k = -int(err.(unix.Errno))
	}
	s.keyring = k
	if !inherit.nsIDs {
		s.sid, _ = unix.Getsid(0)
		s.pgid = unix.Getpgrp()
	}
	return s, ok
}

// readServer fills inherit.server from the fork server, pid.
func readServer(pid int) {
	p := "/proc/" + strconv.Itoa(pid) + "/"
	s := &inherit.server
	ok := readStatus(p+"status", &s.status)
	copy(s.status[selfFields:], inherit.selfStatus[selfFields:])
	for i, t := range inheritedNS {
		var buf [64]byte
		s.ns[i] = string(readlinkAt(unix.AT_FDCWD, p+"ns/"+t, buf[:]))
		ok = ok && s.ns[i] != ""
	}
	s.root = statRoot(p + "root")
	ok = ok && s.root.err == 0
	for r := range s.rlim {
		if err := unix.Prlimit(pid, r, nil, &s.rlim[r]); err != nil {
			ok = false
		}
	}
	if a, err := unix.SchedGetAttr(pid, 0); err == nil {
		s.sched = *a
	} else {
		ok = false
	}
	s.ioprio = ioprio(pid)
	s.oom = readAll(p + "oom_score_adj")
	s.cgroup = readAll(p + "cgroup")
	s.audit = readAll(p + "loginuid")
	ok = ok && s.ioprio >= 0 && s.oom != "" && s.cgroup != ""
	s.lsm = [2]string{readAttr(unix.AT_FDCWD, p+"attr/current"), readAttr(unix.AT_FDCWD, p+"attr/exec")}
	// Without a security module that has these, both read EINVAL (or
	// are missing) everywhere; the calls then skip them.
	noLSM := func(v string) bool { return v == "EINVAL" || v == "ENOENT" || v == "EOPNOTSUPP" }
	inherit.hasLSM = !noLSM(s.lsm[0]) || !noLSM(s.lsm[1])
	inherit.serverOK = ok
}

// inheritsAsExec reports whether a child of the fork server, pid, would
// inherit what a child exec'd from the calling thread would: the checks
// run on that thread, with the goroutine locked to it.
func inheritsAsExec(server int) bool {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return forkDiffers(server) == ""
}

// loaderPrefixes name the variables that the dynamic loader and the C
// library read as a process starts, before any code of the program runs:
// LD_PRELOAD, LD_LIBRARY_PATH, LD_BIND_NOW and the loader's others (glibc
// and musl), glibc's tunables and the malloc variables it takes as
// tunables. A child of the fork server was loaded with the program's.
var loaderPrefixes = []string{"LD_", "GLIBC_TUNABLES", "MALLOC_"}

func isLoaderVar(k string) bool {
	for _, p := range loaderPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// forkDiffers returns what of the calling thread's state differs from the
// fork server's, as a child would inherit it: "" when nothing does, and
// the child may be forked. The caller has its goroutine locked to its
// thread. server is the fork server's PID.
func forkDiffers(server int) string {
	inherit.once.Do(func() { readServer(server) })
	if !inherit.selfOK || !inherit.serverOK {
		return "unreadable"
	}
	if !inherit.dumpableOK {
		return "dumpable"
	}
	s := &inherit.server
	// The system calls first, then what /proc has.
	if self, _ := readSelf(); self != inherit.self {
		return "thread attributes" // securebits, personality, signal mask, ...
	}
	if a, err := unix.SchedGetAttr(0, 0); err != nil || sameSize(*a, s.sched) != s.sched {
		return "scheduling"
	}
	if ioprio(0) != s.ioprio {
		return "ioprio"
	}
	if r := limitDiffers(&s.rlim); r >= 0 {
		return "rlimit " + strconv.Itoa(r)
	}
	if statRoot("/") != s.root {
		return "root"
	}
	// The thread's directory once: each path through /proc/thread-self
	// costs a lookup of the process and of the thread.
	thread, err := unix.Open("/proc/thread-self", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "unreadable"
	}
	defer unix.Close(thread)
	if d := statusDiffers(thread, &s.status); d != "" {
		return d
	}
	var buf [1024]byte
	for i, p := range nsPaths {
		if string(readlinkAt(thread, p, buf[:64])) != s.ns[i] {
			return "namespace " + inheritedNS[i]
		}
	}
	if string(pread(inherit.oomFD, buf[:])) != s.oom {
		return "oom_score_adj"
	}
	if string(pread(inherit.cgroupFD, buf[:])) != s.cgroup {
		return "cgroup"
	}
	// A task may set its login UID while it is unset, without privilege.
	if b, _ := readInto(thread, "loginuid", buf[:]); string(b) != s.audit {
		return "loginuid"
	}
	if inherit.hasLSM && (readAttr(thread, "attr/current") != s.lsm[0] ||
		readAttr(thread, "attr/exec") != s.lsm[1]) {
		return "LSM attributes"
	}
	return ""
}

// sameSize returns a with the size of b: the size is what the kernel
// wrote, not an attribute.
func sameSize(a, b unix.SchedAttr) unix.SchedAttr {
	a.Size = b.Size
	return a
}

// sameLimit reports whether an exec'd child, started with limit l of
// resource r, would start with the server's, srv. The Go runtime raises
// the soft RLIMIT_NOFILE at start-up to the hard one less one, and
// os/exec gives a child the original back while the limit is that (see
// syscall's rlimit.go); a program that set that very value itself is
// taken for one that did not.
func sameLimit(r int, l, srv unix.Rlimit) bool {
	if r == unix.RLIMIT_NOFILE && srv.Max > 0 && srv.Cur < srv.Max-1 &&
		l.Cur == srv.Max-1 && l.Max == srv.Max {
		return true
	}
	return l == srv
}

// limitDiffers returns the first resource whose limit an exec'd child
// would start with other than the server's, srv, -1 when none does. One
// read of /proc/self/limits costs less than a prlimit(2) for each: limits
// are the process's, not the thread's; the file prints each as a number
// or "unlimited" (RLIM_INFINITY), which is all it takes to compare them.
func limitDiffers(srv *[rlimits]unix.Rlimit) int {
	var buf [2048]byte
	if lim, ok := parseLimits(pread(inherit.limitsFD, buf[:])); ok {
		for r := range srv {
			if !sameLimit(r, lim[r], srv[r]) {
				return r
			}
		}
		return -1
	}
	var l unix.Rlimit // one, which escapes to the heap once
	for r := range srv {
		if err := unix.Prlimit(0, r, nil, &l); err != nil || !sameLimit(r, l, srv[r]) {
			return r
		}
	}
	return -1
}

// parseLimits reads the rlimits first limits of a /proc/PID/limits file,
// b: a heading, then one line a resource in their order, its name in 25
// columns, a blank, then the soft and the hard limit. ok is false if b is
// not that.
func parseLimits(b []byte) (lim [rlimits]unix.Rlimit, ok bool) {
	const name = 26
	_, b, _ = bytes.Cut(b, []byte{'\n'}) // the heading
	for r := range lim {
		var line []byte
		var found bool
		if line, b, found = bytes.Cut(b, []byte{'\n'}); !found || len(line) < name {
			return lim, false
		}
		line = line[name:]
		if lim[r].Cur, line, ok = limitField(line); !ok {
			return lim, false
		}
		if lim[r].Max, _, ok = limitField(line); !ok {
			return lim, false
		}
	}
	return lim, true
}

// limitField reads the first field of b, after blanks: a limit, or
// "unlimited".
func limitField(b []byte) (v uint64, rest []byte, ok bool) {
	b = bytes.TrimLeft(b, " ")
	n := bytes.IndexByte(b, ' ')
	if n < 0 {
		n = len(b)
	}
	f, rest := b[:n], b[n:]
	if string(f) == "unlimited" {
		return unix.RLIM_INFINITY, rest, true
	}
	v, err := strconv.ParseUint(string(f), 10, 64)
	return v, rest, err == nil && n > 0
}

// readStatus reads the statusFields of a status file into out.
func readStatus(path string, out *[len(statusFields)]string) bool {
	var buf [4096]byte
	b, ok := readInto(unix.AT_FDCWD, path, buf[:])
	if !ok {
		return false
	}
	for i, v := -1, []byte(nil); len(b) > 0; {
		if i, v, b = nextField(b); i >= 0 {
			out[i] = string(v)
		}
	}
	return true
}

// statusDiffers returns the first of the statusFields whose value in the
// status file in the directory dir is not want's, "" when none is.
func statusDiffers(dir int, want *[len(statusFields)]string) string {
	var buf [4096]byte
	b, ok := readInto(dir, "status", buf[:])
	if !ok {
		return "unreadable"
	}
	var seen [len(statusFields)]bool
	for i, v := -1, []byte(nil); len(b) > 0; {
		if i, v, b = nextField(b); i >= 0 {
			if string(v) != want[i] {
				return statusFields[i]
			}
			seen[i] = true
		}
	}
	for i := range seen {
		if !seen[i] && want[i] != "" {
			return statusFields[i]
		}
	}
	return ""
}

// nextField reads the first line of the status file b: i is its index in
// statusFields, -1 if it is none of them, v its value, blanks trimmed, and
// rest the lines after it.
func nextField(b []byte) (i int, v, rest []byte) {
	line := b
	if n := bytes.IndexByte(b, '\n'); n >= 0 {
		line, rest = b[:n], b[n+1:]
	}
	c := bytes.IndexByte(line, ':')
	if c < 0 {
		return -1, nil, rest
	}
	return statusField(line[:c]), bytes.TrimSpace(line[c+1:]), rest
}

// statusField returns the index of key in statusFields, -1 if it is not
// one of them.
func statusField(key []byte) int {
	// Every one of them starts with one of these letters; most lines
	// of the file do not.
	if len(key) == 0 || !strings.ContainsRune("UGSCNMT", rune(key[0])) {
		return -1
	}
	for i, f := range statusFields {
		if string(key) == f {
			return i
		}
	}
	return -1
}

// readInto reads the file at path, relative to the directory dir, into
// buf, or a larger buffer if it does not fit, and returns what it read.
// The files are those of /proc, which give all they have to a read that
// has room for it: a read that does not fill the buffer is the last.
func readInto(dir int, path string, buf []byte) ([]byte, bool) {
	fd, err := unix.Openat(dir, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		n += m
		if m == 0 || n < len(buf) {
			return buf[:n], true
		}
	}
}

// readAll returns the content of a small file, "" when it cannot be read.
func readAll(path string) string {
	var buf [512]byte
	b, _ := readInto(unix.AT_FDCWD, path, buf[:])
	return string(b)
}

// pread reads the whole of the open file fd from its start into buf, or
// a larger buffer if it does not fit; nil on failure.
func pread(fd int, buf []byte) []byte {
	if fd < 0 {
		return nil
	}
	n, err := unix.Pread(fd, buf, 0)
	if err != nil || n == len(buf) {
		// Longer than a buffer (many cgroup v1 hierarchies): read it
		// through.
		b, _ := readInto(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), buf)
		return b
	}
	return buf[:n]
}

// readAttr returns an LSM attribute at path, relative to the directory
// dir, or the name of the error.
func readAttr(dir int, path string) string {
	fd, err := unix.Openat(dir, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return unix.ErrnoName(err.(unix.Errno))
	}
	defer unix.Close(fd)
	var buf [256]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil {
		return unix.ErrnoName(err.(unix.Errno))
	}
	return "=" + string(buf[:n])
}

// readlinkAt returns the target of the namespace link name in the
// directory dir, read into buf, nil when it cannot be read:
// "net:[4026531840]", which names the namespace by its inode in the one
// nsfs.
func readlinkAt(dir int, name string, buf []byte) []byte {
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// statRoot identifies the root directory that path leads to.
func statRoot(path string) rootID {
	var st unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_INO|unix.STATX_MNT_ID|unix.STATX_MNT_ID_UNIQUE, &st)
	if err != nil {
		return rootID{err: err.(unix.Errno)}
	}
	return rootID{mnt: st.Mnt_id, major: st.Dev_major, minor: st.Dev_minor, ino: st.Ino,
		mask: st.Mask & (unix.STATX_MNT_ID | unix.STATX_MNT_ID_UNIQUE)}
}

// ioprio returns the I/O priority of thread or process who (0: the
// calling thread), -1 on failure.
func ioprio(who int) int {
	const whoProcess = 1 // IOPRIO_WHO_PROCESS
	v, _, errno := unix.RawSyscall(unix.SYS_IOPRIO_GET, whoProcess, uintptr(who), 0)
	if errno != 0 {
		return -1
	}
	return int(v)
}
