// Command inherit changes one property of its own state after it started,
// then starts an action twice, which reports the state its child
// inherited: once as a call that may go through the fork server, once as
// one that execs (a GOGC of its own). It prints one line of JSON: both
// reports and whether the fork server started the first child.
//
//	inherit CHANGE [ARG]
//
// CHANGE names the property (see changes); ARG is its argument, if any.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	_ "github.com/gonsproject/gons/early" // steered at start-up: the dumpable row joins a user namespace
	"github.com/gonsproject/gons/reexec"
	_ "github.com/gonsproject/gons/reexec/forkserver"
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// The main goroutine keeps the process's first thread: the changes of
// per-thread state apply to it, the calls start from it, and the action
// runs on it in the child.
func init() { runtime.LockOSThread() }

// report is what a child says of its state, by property.
type report map[string]string

// statusLines are the lines of /proc/thread-self/status a child reports.
var statusLines = []string{"Umask", "Uid", "Gid", "Groups", "SigIgn", "SigBlk",
	"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
	"Seccomp_filters", "Cpus_allowed_list", "Mems_allowed_list", "THP_enabled"}

var state = reexec.RegisterFunc("state", func(struct{}) (report, error) {
	r := report{}
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		for _, f := range statusLines {
			if k == f {
				r[k] = strings.TrimSpace(v)
			}
		}
	}
	for _, ns := range []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
		"time", "time_for_children", "user", "uts"} {
		r["ns "+ns], _ = os.Readlink("/proc/thread-self/ns/" + ns)
	}
	var st unix.Statx_t
	err = unix.Statx(unix.AT_FDCWD, "/", 0, unix.STATX_INO|unix.STATX_MNT_ID_UNIQUE, &st)
	r["root"] = fmt.Sprintf("mount %d inode %d %v", st.Mnt_id, st.Ino, err)
	for res := range 16 {
		var l unix.Rlimit
		err := unix.Prlimit(0, res, nil, &l)
		r["rlimit "+strconv.Itoa(res)] = fmt.Sprintf("%d %d %v", l.Cur, l.Max, err)
	}
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	r["priority"] = fmt.Sprint(prio, err)
	if a, err := unix.SchedGetAttr(0, 0); err == nil {
		r["sched"] = fmt.Sprintf("policy %d flags %d priority %d", a.Policy, a.Flags, a.Priority)
	} else {
		r["sched"] = err.Error()
	}
	v, _, errno := unix.RawSyscall(unix.SYS_IOPRIO_GET, 1, 0, 0)
	r["ioprio"] = fmt.Sprint(v, errno)
	r["oom_score_adj"] = readFile("/proc/self/oom_score_adj")
	r["cgroup"] = readFile("/proc/self/cgroup")
	r["loginuid"] = readFile("/proc/self/loginuid")
	v, _, errno = unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	r["personality"] = fmt.Sprint(v, errno)
	for name, op := range map[string]int{"timerslack": unix.PR_GET_TIMERSLACK,
		"securebits": unix.PR_GET_SECUREBITS, "dumpable": unix.PR_GET_DUMPABLE} {
		v, err := unix.PrctlRetInt(op, 0, 0, 0, 0)
		r[name] = fmt.Sprint(v, err)
	}
	k, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 0, 0, 0)
	r["session keyring"] = fmt.Sprint(k, err)
	var mode int32
	_, _, errno = unix.RawSyscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)), 0, 0, 0, 0, 0)
	r["mempolicy"] = fmt.Sprint(mode, errno)
	sid, _ := unix.Getsid(0)
	r["session"] = fmt.Sprint(sid, " ", unix.Getpgrp())
	// A call the seccomp filter of the "seccomp" change refuses.
	var info unix.Sysinfo_t
	r["sysinfo"] = fmt.Sprint(unix.Sysinfo(&info))
	return r, nil
})

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(string(b))
}

// changes make the change the command line names; arg is its argument.
// A change may add options to both calls.
var changes = map[string]func(arg string, opts *[]reexec.Option) error{
	"none": func(string, *[]reexec.Option) error { return nil },
	"seccomp": func(string, *[]reexec.Option) error {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return err
		}
		return denySysinfo()
	},
	"no_new_privs": func(string, *[]reexec.Option) error {
		return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	},
	// syscall's, not unix's: they change every thread, as a program
	// that means to drop them does.
	"groups": func(string, *[]reexec.Option) error { return syscall.Setgroups(nil) },
	"gid":    func(string, *[]reexec.Option) error { return syscall.Setresgid(10, 10, 10) },
	"capabilities": func(string, *[]reexec.Option) error {
		return capset(func(d *[2]unix.CapUserData) {
			d[0].Effective &^= 1 << unix.CAP_NET_RAW
			d[0].Permitted &^= 1 << unix.CAP_NET_RAW
		})
	},
	"bounding": func(string, *[]reexec.Option) error {
		return unix.Prctl(unix.PR_CAPBSET_DROP, unix.CAP_NET_RAW, 0, 0, 0)
	},
	"ambient": func(string, *[]reexec.Option) error {
		if err := capset(func(d *[2]unix.CapUserData) { d[0].Inheritable |= 1 << unix.CAP_NET_RAW }); err != nil {
			return err
		}
		return unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, unix.CAP_NET_RAW, 0, 0)
	},
	"securebits": func(string, *[]reexec.Option) error {
		return unix.Prctl(unix.PR_SET_SECUREBITS, 1 /* SECBIT_NOROOT */, 0, 0, 0)
	},
	"umask": func(string, *[]reexec.Option) error { unix.Umask(0o077); return nil },
	"rlimit-nofile": func(string, *[]reexec.Option) error {
		return unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 77, Max: 77})
	},
	"rlimit-msgqueue": func(string, *[]reexec.Option) error {
		return unix.Setrlimit(unix.RLIMIT_MSGQUEUE, &unix.Rlimit{Cur: 4096, Max: 4096})
	},
	"nice": func(string, *[]reexec.Option) error { return unix.Setpriority(unix.PRIO_PROCESS, 0, 13) },
	"sched": func(string, *[]reexec.Option) error {
		return unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_BATCH}, 0)
	},
	"oom_score_adj": func(string, *[]reexec.Option) error {
		return os.WriteFile("/proc/self/oom_score_adj", []byte("500"), 0)
	},
	"sighup": func(string, *[]reexec.Option) error { signal.Ignore(unix.SIGHUP); return nil },
	"sigmask": func(string, *[]reexec.Option) error {
		var set unix.Sigset_t
		set.Val[0] = 1 << (unix.SIGUSR2 - 1)
		return unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil)
	},
	"preload": func(so string, opts *[]reexec.Option) error {
		*opts = append(*opts, reexec.Environment([]string{"LD_PRELOAD=" + so}))
		return nil
	},
	"namespace": func(typ string, _ *[]reexec.Option) error {
		flags := map[string]int{"uts": unix.CLONE_NEWUTS, "ipc": unix.CLONE_NEWIPC, "net": unix.CLONE_NEWNET,
			"mnt": unix.CLONE_NEWNS, "cgroup": unix.CLONE_NEWCGROUP, "time": unix.CLONE_NEWTIME}
		f, ok := flags[typ]
		if !ok {
			return fmt.Errorf("unknown namespace type %q", typ)
		}
		return unix.Unshare(f)
	},
	"cgroup": func(dir string, _ *[]reexec.Option) error {
		return os.WriteFile(dir+"/cgroup.procs", []byte("0"), 0)
	},
	"root": func(dir string, _ *[]reexec.Option) error {
		// The process runs in a mount namespace of its own, made
		// private (unshare -m): a recursive bind mount of / on dir is
		// a new root with /proc in it.
		if err := unix.Mount("/", dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return err
		}
		if err := unix.Chroot(dir); err != nil {
			return err
		}
		return unix.Chdir("/")
	},
	"personality": func(string, *[]reexec.Option) error {
		const addrNoRandomize = 0x0040000
		_, _, errno := unix.RawSyscall(unix.SYS_PERSONALITY, addrNoRandomize, 0, 0)
		if errno != 0 {
			return errno
		}
		return nil
	},
	"affinity": func(string, *[]reexec.Option) error {
		var set unix.CPUSet
		set.Set(0)
		return unix.SchedSetaffinity(0, &set)
	},
	"ioprio": func(string, *[]reexec.Option) error {
		const classBE, whoProcess = 2, 1
		_, _, errno := unix.RawSyscall(unix.SYS_IOPRIO_SET, whoProcess, 0, classBE<<13|7)
		if errno != 0 {
			return errno
		}
		return nil
	},
	"timerslack": func(string, *[]reexec.Option) error {
		return unix.Prctl(unix.PR_SET_TIMERSLACK, 123456, 0, 0, 0)
	},
	"keyring": func(string, *[]reexec.Option) error {
		_, err := unix.KeyctlJoinSessionKeyring("gons-inherit")
		return err
	},
	"mempolicy": func(string, *[]reexec.Option) error {
		const mpolPreferred = 1
		mask := uint64(1)
		_, _, errno := unix.RawSyscall(unix.SYS_SET_MEMPOLICY, mpolPreferred, uintptr(unsafe.Pointer(&mask)), 64)
		if errno != 0 {
			return errno
		}
		return nil
	},
	"pgid": func(string, *[]reexec.Option) error { return unix.Setpgid(0, 0) },
	"loginuid": func(string, *[]reexec.Option) error {
		return os.WriteFile("/proc/thread-self/loginuid", []byte("4242"), 0)
	},
	"thp": func(string, *[]reexec.Option) error {
		return unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0)
	},
}

// capset changes the calling thread's capability sets with edit.
func capset(edit func(*[2]unix.CapUserData)) error {
	h := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var d [2]unix.CapUserData
	if err := unix.Capget(&h, &d[0]); err != nil {
		return err
	}
	edit(&d)
	return unix.Capset(&h, &d[0])
}

// denySysinfo installs a seccomp filter on every thread (TSYNC) that
// makes sysinfo(2) fail with EPERM.
func denySysinfo() error {
	const (
		ld, jeq, ret = 0x00 | 0x00 | 0x20, 0x05 | 0x10 | 0x00, 0x06 // BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
		retAllow     = 0x7fff0000                                   // SECCOMP_RET_ALLOW
		retErrno     = 0x00050000                                   // SECCOMP_RET_ERRNO
	)
	prog := []unix.SockFilter{
		{Code: ld, K: 0}, // seccomp_data.nr
		{Code: jeq, Jt: 0, Jf: 1, K: unix.SYS_SYSINFO},
		{Code: ret, K: retErrno | uint32(unix.EPERM)},
		{Code: ret, K: retAllow},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, 1 /* SECCOMP_SET_MODE_FILTER */, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return errno
	}
	return nil
}

// outcome is what the program prints.
type outcome struct {
	Fork, Exec report
	Forked     bool // the fork server started the first child
	Err        string
}

func main() {
	reexec.CheckAction()
	var o outcome
	defer func() {
		b, _ := json.Marshal(o)
		fmt.Println(string(b))
	}()
	change := changes[os.Args[1]]
	if change == nil {
		o.Err = "unknown change " + os.Args[1]
		return
	}
	var opts []reexec.Option
	if err := change(strings.Join(os.Args[2:], " "), &opts); err != nil {
		o.Err = fmt.Sprintf("%s: %v", os.Args[1], err)
		return
	}
	before := spawn.Spawned()
	var err error
	if o.Fork, err = state.Run(context.Background(), struct{}{}, opts...); err != nil {
		o.Err = err.Error()
		return
	}
	o.Forked = spawn.Spawned() > before
	opts = append(opts, reexec.Environment([]string{"GOGC=" + strconv.Itoa(101+os.Getpid()%7)}))
	if o.Exec, err = state.Run(context.Background(), struct{}{}, opts...); err != nil {
		o.Err = err.Error()
	}
}
