// Package nsexec runs a program, any program, inside other namespaces: a
// Go API shaped like os/exec for what nsenter(1) does from a shell.
//
//	c := nsexec.Command("ip", "-brief", "addr")
//	c.Target = &nsexec.Target{PID: 42, Types: []string{"net"}}
//	out, err := c.Output()
//
// [Command] and [CommandContext] return a [Cmd] whose Path, Args, Env,
// Dir, Stdin, Stdout, Stderr, ExtraFiles, Process, ProcessState, Cancel
// and WaitDelay behave as those of [os/exec.Cmd], with the namespaces to
// join by path ([Namespace], with the "!" order of package early) or of a
// process ([Target], by PID or pidfd: the given types, or every type that
// differs, as nsenter -a), a Root, a working directory, a [Credential] (or
// none: the caller's, as nsenter --preserve-credentials), and for a PID
// namespace a fork and relay (nsenter's default) or none (NoFork, -F).
//
// # How
//
// The child never starts a Go runtime. It joins, settles and executes the
// program in C, with package early's steps (the same code, checks and
// errors), then execve(2). By default it is a clone of the calling thread
// (CLONE_VM|CLONE_VFORK, as os/exec and posix_spawn(3) start their
// children), which runs the steps on a stack of its own and shares the
// caller's memory until its execve; the calling thread waits meanwhile.
// Where that cannot be (see "Routes" below), with the fork server of
// package [github.com/gonsproject/gons/reexec/forkserver] imported, it is
// one clone of the server, the steps, one execve. A child of the server
// that forks nothing before its execve (no PID namespace to enter, or
// NoFork) and joins no time namespace shares the server's memory until
// then, as a vfork(2) child does: no copy of the server's address space is
// made, and the server takes the next request once the program runs.
// Without either it is one exec of the caller's own binary
// (/proc/self/exe), whose C constructor finds a marker in its environment
// (GONS_EXEC, with a pipe at its descriptor), runs the steps and executes
// the program: two execs, as with nsenter.
//
// A [Target] without a Pidfd takes a lighter step than early's: the pidfd
// is Start's own, opened of that PID, so early's check that it is a pidfd
// of the process is left out, and of the types asked for only mnt, pid,
// user and time, whose own namespace must not be joined, are compared with
// the caller's before the one setns(2) of the pidfd. Joining one's own
// cgroup, ipc, net or uts namespace changes nothing. Compared with early's
// step (TestTargetLighterStep, TestTargetUnprivileged):
//
//	same     the namespaces the program runs in; the caller's own left as they are
//	same     a zombie, a kernel thread, a target that exits or whose PID is
//	         reused: ESRCH, never a join in part
//	same     the errors: where the one setns(2) fails (EPERM without the
//	         privilege over one's own namespace), early's step runs from the
//	         start, joins what differs and reports what fails as it does
//	differs  the system calls before the execve: by Types net, 3 instead of 15
//
// # Errors and exit statuses
//
// Everything before the program runs happens before Start returns: a
// namespace that cannot be opened or joined, a root, directory or
// credential that cannot be taken, a program that is not found or cannot
// be executed. Each is Start's error, a [*status.Error] with the op
// ("open", "setns", "chroot", "chdir", "setgid", "exec", ...), the type,
// the path and the errno, which [errors.Is] finds; the child reports it
// through a close-on-exec pipe that reads EOF once execve succeeded (a
// direct child in the memory it shares with the caller). An
// exit status, 127 included, is always the program's own.
//
// # Where the program is found
//
// Path is looked up once the namespaces are joined: in the mount namespace
// joined and under Root, in the PATH of Env (execvp's default,
// /bin:/usr/bin, without one), with execvp's rules (a name with a slash is
// taken as it is; directories where it is missing are passed over; EACCES
// if it was found only where it could not be executed), but without
// execvp's fallback to /bin/sh for a file of no known format (ENOEXEC, as
// os/exec has it). That is nsenter's behaviour: the program is the
// container's.
//
// HostBinary runs a program of the caller's file system instead: Path is
// looked up in the caller's PATH and opened (O_PATH) before the namespaces
// are joined, and executed through its descriptor (execveat(2) with
// AT_EMPTY_PATH). While it runs, the caller's binary is the process's
// /proc/PID/exe inside the container: a process there with enough
// privilege over it (root of the container's user namespace, ptrace
// rights) can read the binary through that link, and, where the binary's
// file is writable to it, reopen it for writing and replace the host's
// program (the CVE-2019-5736 class). Use HostBinary only with a binary the
// container's users cannot write: owned by root outside any user namespace
// the container maps, on a read-only mount, or a copy in a sealed memfd.
// A script cannot run this way (its interpreter would need the closed
// descriptor's /dev/fd path): execveat fails with ENOENT.
//
// # What the program gets
//
// Its environment is exactly Env (the caller's when nil) without gons_*
// and GONS_* entries; its descriptors are 0, 1, 2 and ExtraFiles, nothing
// else (not even what the caller inherited without close-on-exec, which
// os/exec would pass on); its arguments are Args; its signal mask is the
// one the program started with and its ignored signals those ignored at
// the call, as an os/exec child's. The PID relay, a C process, passes on
// signals and exit statuses (re-raising a fatal signal) and stops and
// resumes with the program at a terminal; cancelling the context kills
// the relay, and the program, which dies with it.
//
// # Routes
//
// A direct child is a clone of the calling thread, as an os/exec child
// is: it starts with what an os/exec child of that thread would. It
// blocks every signal around the clone, sets each handled signal's
// disposition to the default (ignored ones stay ignored) before it takes
// the signal mask the program started with, and gives RLIMIT_NOFILE back
// as os/exec does, so that no handler of the Go runtime ever runs in it.
// Starts by this route run one at a time (their children share the exec
// step's buffers and one stack). The kernel refuses a process that shares its memory a
// time namespace (EUSERS), and a PID namespace entered with a fork needs
// a relay that cannot share it: Start takes another route for a time
// namespace named, a PID namespace named without NoFork, a Target without
// Types whose time or PID namespace differs from the calling thread's
// (checked through its pidfd on that thread, right before the clone; a
// target that joins a time namespace in between makes the child fail its
// setns(2) of the pidfd, all or none, and Start takes another route), and
// an ExtraFiles slot that is nil.
//
// Otherwise a child of the fork server starts with the server's state,
// which is the program's at its start; an exec'd child with the calling
// thread's at the call. Start therefore runs package reexec's check at
// each call (the one its own fork server path runs; see the table in
// [github.com/gonsproject/gons/reexec/forkserver]) and execs when
// anything differs. The tests run every case each way.
//
//	property                       exec path             fork server path      direct path
//	-----------------------------  --------------------  --------------------  ----------------------
//	joins, root, directory,        early's C steps       the same steps,       the same steps, same
//	credentials, errors                                  same records          records
//	how the program starts         execve(2)             execve(2): setuid     execve(2), the same
//	                                                     bits, file caps, LSM
//	                                                     transitions alike
//	environment, arguments         exactly Env, Args     the same              the same
//	descriptors                    0, 1, 2, ExtraFiles   the same              the same
//	parent; Process, Wait,         the caller            the caller            the caller
//	Cancel, WaitDelay                                    (CLONE_PARENT)
//	parent-death signal            none                  none                  none
//	working directory              the caller's          passed with the       the calling thread's
//	                                                     request
//	credentials and groups,        the calling thread's  checked*: the         the calling thread's
//	capabilities, securebits,                            server's              (a clone of it)
//	no_new_privs, seccomp, umask,
//	ignored signals, namespaces,
//	root, cgroup, rlimits,
//	scheduling, I/O priority,
//	affinity, oom_score_adj, LSM
//	attributes, personality
//	signal mask                    the program's at its  the same              the same (saved by the
//	                               start (os/exec's)                           constructor)
//	RLIMIT_NOFILE                  os/exec's: the        checked*              os/exec's, but a soft
//	                               original while the                          limit the program set
//	                               runtime's raised one                        to the raised value
//	                               holds                                       itself is given back
//	time namespace; PID namespace  joined                joined, the child     fork server or exec
//	without NoFork                                       not sharing memory    path instead
//	Start returns once             execve(2) took the    the same              the same
//	                               program, or failed
//	Stdin that is no *os.File      copied by os/exec     exec path instead     copied, as os/exec
//	arguments and environment      any up to ARG_MAX     exec path instead     any up to ARG_MAX
//	over 64 KiB
//	ExtraFiles slot that is nil    closed in the program exec path instead     fork server or exec
//	                                                                           path instead
//
// * checked: equal to the calling thread's at the call, or the call execs.
//
// # Requirements
//
// Linux, cgo and external linking (the default for a cgo program), as for
// package early: without them Start returns an error wrapping
// [errors.ErrUnsupported]. Importing this package does not steer the
// program by gons_* variables (that is package early's opt-in); it links
// a constructor of its own, which runs the exec step in its children and
// returns after a scan of the environment elsewhere, and early's steps.
package nsexec
