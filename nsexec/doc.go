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
// errors), then execve(2). Without a fork server it is one exec of the
// caller's own binary (/proc/self/exe), whose C constructor finds a marker
// in its environment (GONS_EXEC, with a pipe at its descriptor), runs the
// steps and executes the program: two execs, as with nsenter. With the
// fork server of package [github.com/gonsproject/gons/reexec/forkserver]
// imported, it is one clone of the server, the steps, one execve. A
// child that forks nothing before its execve (no PID namespace to enter,
// or NoFork) shares the server's memory until then, as a vfork(2) child
// does and as os/exec starts its own: no copy of the server's address
// space is made, and the server takes the next request once the program
// runs.
//
// # Errors and exit statuses
//
// Everything before the program runs happens before Start returns: a
// namespace that cannot be opened or joined, a root, directory or
// credential that cannot be taken, a program that is not found or cannot
// be executed. Each is Start's error, a [*status.Error] with the op
// ("open", "setns", "chroot", "chdir", "setgid", "exec", ...), the type,
// the path and the errno, which [errors.Is] finds; the child reports it
// through a close-on-exec pipe that reads EOF once execve succeeded. An
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
// # The fork server and exec
//
// A child of the fork server starts with the server's state, which is the
// program's at its start; an exec'd child with the calling thread's at the
// call. Start therefore runs package reexec's check at each call (the one
// its own fork server path runs; see the table in
// [github.com/gonsproject/gons/reexec/forkserver]) and execs when anything
// differs. The tests run every case both ways.
//
//	property                                     exec path             fork server path
//	-------------------------------------------  --------------------  -------------------------------
//	joins, root, directory, credentials, errors  early's C steps       the same steps, same records
//	how the program starts                       execve(2)             execve(2): setuid bits, file
//	                                                                   capabilities, LSM transitions
//	                                                                   of the program apply alike
//	environment, arguments                       exactly Env, Args     the same
//	descriptors                                  0, 1, 2, ExtraFiles   the same
//	parent; Process, Wait, Cancel, WaitDelay     the caller            the caller (CLONE_PARENT)
//	parent-death signal                          none                  none
//	working directory                            the caller's          passed with the request
//	credentials and groups, capabilities,        the calling thread's  checked*: the server's
//	securebits, no_new_privs, seccomp, umask,
//	signal mask and ignored signals, namespaces,
//	root, cgroup, rlimits, scheduling, I/O
//	priority, affinity, oom_score_adj, LSM
//	attributes, personality
//	Start returns once                           execve(2) took the    the same
//	                                             program, or failed
//	Stdin that is no *os.File                    copied by os/exec     exec path instead
//	arguments and environment over 64 KiB        any up to ARG_MAX     exec path instead
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
