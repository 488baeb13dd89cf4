// Package early joins existing Linux namespaces named by environment
// variables, before the Go runtime starts. Import it for its side effect:
//
//	import _ "github.com/gonsproject/gons/early"
//
// and read what happened from package [github.com/gonsproject/gons/status].
//
// # Why
//
// A Go program is multi-threaded before any of its code runs, and the
// kernel lets only a single-threaded process join a mount or user namespace
// (EINVAL otherwise) or a time namespace (EUSERS). early links a C
// constructor that runs before the runtime, while the process still has one
// thread, and calls [setns(2)] there. It neither creates namespaces nor
// re-executes the program; for a PID namespace it forks once (see below).
//
// # Protocol
//
// Namespaces by path, one variable per type:
//
//	gons_cgroup, gons_ipc, gons_mnt, gons_net,
//	gons_pid, gons_time, gons_user, gons_uts   path of a namespace file, such as
//	                                          /proc/42/ns/net or a bind mount of one
//	gons_order                                comma-separated types in switch order;
//	                                          "!type" opens its path before the first switch
//
// or the namespaces of a process, by PID:
//
//	gons_target                               PID, or PID:INODE: join the namespaces of
//	                                          process PID that differ from the caller's;
//	                                          INODE, the inode of a pidfd of the process
//	                                          (Linux 6.9), refuses a reused PID
//	gons_target_ns                            comma-separated types to join of the target
//	                                          (default: all)
//	gons_target_fd                            N, 3 or above: a pidfd of process PID that
//	                                          the caller opened and left open, used
//	                                          instead of opening one; closed on every path
//	                                          (after a parse failure, every one named)
//
// and, after the switches, in this order:
//
//	gons_root                                 chroot(2) there, then chdir(2) to its "/"
//	gons_wd                                   chdir(2) there, resolved in the mount
//	                                          namespace joined; under gons_root, if set,
//	                                          a relative path from the root's "/"
//	gons_gid, gons_uid                        drop supplementary groups, then setresgid(2)
//	                                          and setresuid(2) to these IDs (as seen
//	                                          in the user namespace joined)
//	gons_errors                               "status": a failure does not end a program
//	                                          asked to drop privileges, which checks
//	                                          status.Err itself
//
// and one that package [github.com/gonsproject/gons/reexec] sets in the
// children it starts:
//
//	GONS_REEXEC_FD                            N, the descriptor of reexec's socket: removed
//	                                          like the others and handed to reexec; not a
//	                                          number from 0 to 2147483646: a parse error
//
// The gons_* names are lowercase. An empty value counts as unset. Without
// gons_order the order is !user,!mnt,!cgroup,!ipc,!net,!uts,!time,!pid:
// every path is opened before the first switch, and the user namespace,
// which may own the others, is joined first. In an explicit order, a type
// without "!" has its path opened right before its own switch; after a mnt
// switch, paths resolve in the new mount namespace, and root and working
// directory are that namespace's root. Blanks around items are ignored.
//
// gons_target opens a pidfd of the process ([pidfd_open(2)], Linux 5.3),
// compares each namespace to join with the caller's, and joins those that
// differ, and only those, at once with [setns(2)] on that pidfd (Linux
// 5.8): all or none, and never those of another process that reused the
// PID. status.Joined reports them; a caller that shares them all joins
// nothing and needs no privilege for it. A target that has no namespace of
// a type the caller has one of (/proc/self/ns) has none left: it exited
// and is a zombie not yet reaped, and is refused as gone (ESRCH), never
// joined as "nothing differs". A type the caller has no namespace of either
// is one the kernel lacks, and is left out (unless gons_target_ns names
// it). A kernel thread, such as kthreadd, has no process of its own to
// join either (no memory, which process_madvise(2) tells in one system
// call): it is refused as gone (ESRCH), as package nsthread refuses it,
// although /proc/PID/ns shows the initial namespaces. Should that
// setns(2) fail, the
// error names the process and the types. On kernels whose setns(2) takes
// no pidfd it opens /proc/PID/ns/TYPE for each type, checks that the
// pidfd's process still lives, and then joins them one by one in the
// default order. gons_target next to gons_<type> or gons_order is an
// error.
//
// With gons_target_fd the caller names the process from its own call on:
// a pidfd refers to one process for good. Should that process exit, its
// PID may be reused, but never for the pidfd, so the join then fails
// (ESRCH) instead of reaching the new process. The constructor checks
// that N is a pidfd of process PID (PIDFD_GET_INFO, Linux 6.13; before,
// only that it is a pidfd of a live process) and closes it, whatever
// happens, unless secure-execution mode keeps it from reading the
// variables at all. Only pidfs (Linux 6.9) gives each pidfd an inode of
// its process's own; before, all share one, so INODE is refused
// (EOPNOTSUPP) and [github.com/gonsproject/gons/status.Target] reports
// inode 0.
//
// # Semantics
//
//   - Only a program that imports early is steered by gons_* variables.
//     Package reexec links the same constructor, for the children it
//     starts, which it marks with GONS_REEXEC_FD on the descriptor of a
//     socket; the constructor steers such a child whether or not it
//     imports early. A program that imports reexec alone leaves gons_*
//     variables it finds in its own environment where they are: nothing
//     is switched, parsed, removed or checked, status hears nothing
//     ([github.com/gonsproject/gons/status.Ran] reports false, and Err,
//     with gons_* set, says that early is not linked), and reexec passes
//     none of them on to its children, whose variables are those of the
//     call. A daemon that uses reexec can so not be steered by whoever
//     sets its environment.
//   - Nothing set: the constructor scans the environment and returns.
//   - Secure-execution mode (setuid, setgid, file capabilities;
//     getauxval(AT_SECURE)) with any gons_* variable or GONS_REEXEC_FD set:
//     nothing is switched, nothing handed to reexec, and status reports Op
//     "secure". Otherwise any caller could steer a privileged program into
//     namespaces, or into a reexec action, of its choosing.
//   - Before the first switch the constructor validates everything it can:
//     the order's syntax, unknown or repeated types, a variable an explicit
//     order leaves out, unknown gons_* names (typos), paths longer than
//     PATH_MAX, and, for "!" types, that the path opens and is a namespace
//     of that type (NS_GET_NSTYPE, Linux 4.11). Any failure: nothing is
//     switched.
//   - A path is opened only once statfs(2) says it is on nsfs: a device
//     node, a FIFO or a regular file named by mistake is refused ("not a
//     namespace file", ENOTTY) without being opened, since opening a device
//     can have effects. That costs a second lookup of the path, which
//     paths of the form /proc/PID/ns/NAME (PID digits, self or
//     thread-self) are spared: procfs links them to nsfs files only.
//   - A namespace the process is already in is no error. With gons_target
//     it is never joined (see above). By path, for user, mnt and
//     pid it is skipped and not reported as joined: joining one's own user
//     namespace fails, one's own mount namespace resets root and working
//     directory, one's own PID namespace would fork for nothing. Other
//     types are joined again, which changes nothing and spares a lookup per
//     switch. The lookup goes through a pidfd of the process
//     (PIDFD_GET_<TYPE>_NAMESPACE, Linux 6.11) and, on older kernels,
//     through /proc/self/ns, which costs a new process about as much as
//     the switch itself.
//   - Switching stops at the first failure; status reports the types joined
//     before it and the op, type, path and errno of the failure. After a
//     failure, gons_root, gons_wd, gons_uid and gons_gid are not applied
//     (and a program asked to drop privileges does not start; see below).
//   - gons_uid and gons_gid drop the supplementary groups with
//     setgroups(2); in a user namespace whose /proc/PID/setgroups says
//     "deny" nobody can, and the groups stay as they are (joined or not:
//     EPERM is taken for that where the process has CAP_SETGID).
//   - A privilege drop fails closed: where gons_uid or gons_gid is set, the
//     program never starts after a failure of any step, parsing included,
//     whether the drop itself failed (setgroups(2), setresgid(2),
//     setresuid(2)) or a step before it left the privileges in place. The
//     constructor writes one line to stderr and exits with status 125: for
//     a failed drop "gons: setuid 1000: EINVAL" say (the op, the ID for
//     setgid and setuid, and EPERM, EINVAL or "errno N"), for an earlier
//     step "gons: open net: errno 2; privileges not dropped" say (the op,
//     the type if any, the errno if any). With gons_errors=status, wherever
//     it stands among the variables, it records the failure instead, and
//     the program must check [github.com/gonsproject/gons/status.Err];
//     package reexec sets it for its children, whose errors it reports.
//     Secure-execution mode reads no variable at all (see above) and so
//     fails nothing.
//   - A change of credentials clears the parent-death signal
//     ([PR_SET_PDEATHSIG]); the constructor sets the one in force before
//     (a reexec child's SIGKILL, say) again after it, and, where the parent
//     died meanwhile, dies of it, so that a child still dies with its
//     caller, and so does the PID relay.
//   - Every fd is opened O_CLOEXEC and closed before the constructor
//     returns, on every path; so is every fd gons_target_fd hands over,
//     parse failures included.
//   - The gons_* variables and GONS_REEXEC_FD are removed from the
//     environment in place, so neither the program ([os.Getenv],
//     [os.Environ]) nor its children, Go or C, see them. In place means in
//     the array environ points to, which is the one the Go runtime reads,
//     unless a C constructor that ran before this one replaced it (by
//     setenv(3), say). The array keeps its
//     length, with empty entries in front, which Go skips; the C library's
//     environ points past them, so system(3) and execve(2) with environ
//     pass none on. Their values are overwritten with NULs where the kernel
//     put them, once the constructor is done with them: /proc/PID/environ
//     then shows "gons_wd=" followed by NULs, say, which as an environment
//     counts as unset.
//   - Before joining a user namespace the process makes itself
//     non-dumpable ([PR_SET_DUMPABLE]), so that root of that namespace
//     cannot ptrace it or open its /proc files.
//   - pid: after setns(CLONE_NEWPID) only children enter the namespace, and
//     the kernel refuses new threads to the process. The constructor forks
//     once, at its end: the child runs the Go program inside the PID
//     namespace and dies with its parent (PR_SET_PDEATHSIG); the parent never
//     starts the runtime and relays for the child (see "The PID relay"). In
//     the program, os.Getppid() is 0: its parent is outside the namespace.
//   - time: the program sees the namespace's CLOCK_MONOTONIC and
//     CLOCK_BOOTTIME offsets.
//
// # The PID relay
//
// With gons_pid the process the caller started stays outside the PID
// namespace and stands in for the program, the way util-linux's unshare
// --fork stands in for its child, and a small init for its own:
//
//   - Signals a process sends to the relay ([kill(2)], [sigqueue(3)]) are
//     passed on to the program. The kernel's are passed on only where they
//     did not reach the program already: those of the terminal (^C, ^\, ^Z,
//     a change of window size) go to the whole foreground process group,
//     which holds the program unless it left it; the SIGHUP of a hangup
//     goes to the session leader alone, and is passed on when the relay
//     leads the session (setsid, ssh -t, docker run -it). A signal sent
//     to the whole process group with kill(2) reaches the program twice,
//     directly and through the relay: nothing the relay receives tells it
//     from one sent to the relay alone. SIGKILL kills the relay and, through
//     PR_SET_PDEATHSIG, the program; SIGSTOP stops the relay alone.
//   - When the program stops (^Z, SIGSTOP, SIGTTIN, SIGTTOU), the relay
//     stops with the same signal, so that a shell reports the job stopped
//     and takes the terminal back. Once resumed (a shell's fg and bg send
//     SIGCONT to the whole process group), it sends SIGCONT to the program
//     if the program is still stopped (which, when the relay runs before
//     the group's SIGCONT reached the program, makes a second one).
//   - It resets SIGCHLD to its default before the fork: an inherited
//     "ignore" would let the kernel reap the program unseen.
//   - It exits with the program's code, or dies of the program's signal
//     with core dumps off, so that a crash leaves one core, the program's;
//     as the init of a PID namespace, which the kernel shields from such a
//     signal, it exits with 128 plus the signal's number.
//
// At a terminal this gives what unshare --fork --pid gives (util-linux
// 2.38, compared by the tests): ^Z stops the job and returns the prompt
// with status 148, fg resumes it, ^C ends it with status 130; when the
// terminal of a session the relay leads hangs up, the program and the
// relay die of SIGHUP. The differences: unshare passes no signal on (it
// blocks SIGINT and SIGTERM while it waits); it stops on the terminal's ^Z
// itself, even when its child ignores SIGTSTP and keeps running, where
// the relay stops only when the program does; its child is the init of the
// new namespace, which the kernel shields from signals it has no handler
// for (^C and ^Z among them), where a program with gons_pid joins a
// namespace that has an init already; and it exits 1 when its child dies
// of SIGKILL.
//
// # Requirements
//
// Linux, cgo, and external linking, which is the default for a program with
// cgo packages other than the standard library's: with
// -ldflags=-linkmode=internal the constructor does not run, and
// [github.com/gonsproject/gons/status.Ran] reports false. Dynamic, static
// glibc (-ldflags '-linkmode external -extldflags -static') and static musl
// (CC=musl-gcc) builds work. Joining namespaces needs CAP_SYS_ADMIN in the
// namespace's owning user namespace (and CAP_SYS_CHROOT for mnt), or
// membership of the owning user namespace through gons_user.
//
// On other systems and with CGO_ENABLED=0 the package builds and does
// nothing; status then reports why, if gons_* variables are set.
//
// [setns(2)]: https://man7.org/linux/man-pages/man2/setns.2.html
// [PR_SET_DUMPABLE]: https://man7.org/linux/man-pages/man2/PR_SET_DUMPABLE.2const.html
// [PR_SET_PDEATHSIG]: https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html
// [pidfd_open(2)]: https://man7.org/linux/man-pages/man2/pidfd_open.2.html
// [kill(2)]: https://man7.org/linux/man-pages/man2/kill.2.html
// [sigqueue(3)]: https://man7.org/linux/man-pages/man3/sigqueue.3.html
package early
