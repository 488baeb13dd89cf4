// Package forkserver makes package [github.com/gonsproject/gons/reexec]
// start its children faster, by fork instead of exec. Import it for its
// side effect, in the main package of a program that runs actions:
//
//	import _ "github.com/gonsproject/gons/reexec/forkserver"
//
// # How
//
// Package early's C constructor, which runs before the Go runtime starts,
// forks a server once the program's own namespace switching is done: a
// single-threaded C process that never starts a Go runtime and holds
// nothing of the program's but its end of a private socketpair. For each
// call of [reexec.RunReexecAction], [reexec.Func.Run] and the like, the
// program sends the server the child's gons_* variables and descriptors
// (standard streams, reexec's socket, any extra files, as SCM_RIGHTS);
// the server clones a child with CLONE_PARENT, so that the child is the
// program's, and replies with its PID. The child takes its descriptors,
// runs the same steps as an exec'd child does in early's constructor
// (namespaces of every type, the join by PID, the fork into a PID
// namespace, root, working directory, credentials), with the same checks
// and errors, and returns into the start of the Go runtime, where
// [reexec.CheckAction] runs the action. It skips execve(2), the mapping
// of the program, the dynamic loader and the C library's start-up.
//
// # What differs from exec
//
// To actions and callers, nothing: parameters, results, typed errors with
// their errno, the Stdout, Stderr, Environment, Namespaces and Target
// options, cancellation, the parent-death signal, the end of standard
// error in errors and reexec/cover's coverage work as with exec. The
// child's parent is the program, and it starts in the program's working
// directory at the call. These differ:
//
//   - The child's runtime starts with the environment and arguments the
//     program started with. This package's initialisation reads the
//     request and sets the environment the call gives the child (the
//     caller's at the call, plus [reexec.Environment]) and os.Args, so the
//     main package's initialisation and main, or TestMain, see those as in
//     an exec'd child; the packages initialised before this one (reexec,
//     os, and what they import) saw the program's.
//   - A call whose child would see other values than the program started
//     with of a variable the Go runtime reads as it starts (GODEBUG,
//     GOMAXPROCS, GOGC, GOMEMLIMIT, GOTRACEBACK, and GOCOVERDIR, which a
//     program built with -cover reads at start-up; not with reexec/cover,
//     in a test binary, which reads it at exit), or of one the dynamic
//     loader or the C library reads (see the table below), goes through
//     exec. So does a call whose environment execve(2) could refuse
//     (E2BIG), so that it fails the same way, a child of a child (only the
//     program has a server), and every call whose child would inherit
//     other process state than an exec'd one: see the table below.
//   - The child holds only the descriptors the call gives it (standard
//     streams, reexec's socket, the files of options). An exec'd child
//     also inherits those the program itself inherited without
//     close-on-exec, which reexec marks close-on-exec before the action
//     runs.
//   - The child runs the image the program started with, even when the
//     program's file has been replaced since. On Linux an exec'd child
//     does too: /proc/self/exe names the file the program runs, even when
//     it has been unlinked or renamed over.
//   - With glibc, the child's C library keeps a single malloc arena, as
//     with M_ARENA_MAX=1 (mallopt(3)), set in the server and inherited,
//     where an exec'd child makes one per thread up to the default limit
//     or that of MALLOC_ARENA_MAX and GLIBC_TUNABLES: C code in an action
//     that allocates from many threads at once contends for one lock. The
//     program's own arenas are as they were.
//   - With glibc, the first call of pthread_getattr_np(3) on the child's
//     main thread, runtime/cgo's as the runtime starts, is answered from
//     what the server learned of the same stack, without reading
//     /proc/self/maps; the attributes carry the stack and its guard size
//     alone, not the thread's CPU affinity. The linker sends every call of
//     pthread_getattr_np in a program that imports this package through a
//     wrapper (-Wl,--wrap); every other call, and every call in the
//     program, goes to the C library. With musl neither applies: runtime/cgo
//     asks musl nothing, and its mallopt does nothing.
//   - [reexec.Command] always execs: its [os/exec.Cmd] is the caller's to
//     use as package os/exec defines it.
//   - The C library keeps a record of each thread's ID. The server clones
//     a child with the kernel writing the child's ID into glibc's record,
//     as glibc's fork does, where the kernel can say where that is
//     (prctl(PR_GET_TID_ADDRESS) and clone3, Linux 5.3). Elsewhere, and
//     always with musl, which keeps its record where nothing says, the
//     child's first thread is on record under the server's ID: C code in
//     the child that calls pthread functions on pthread_self() from that
//     thread (affinity, scheduling) acts on the server, and musl's
//     raise(3) and abort(3) signal the server, which blocks every signal,
//     so that abort ends the child by a crash instead of SIGABRT. Go code
//     is not concerned: the runtime asks the kernel for thread IDs.
//
// # What the child inherits
//
// A child of the server inherits the server's process state, which is
// the program's as it started; an exec'd child inherits that of the
// thread that calls, at the call, which the program may have changed
// since. Each call that may fork compares, on the calling thread with its
// goroutine locked, every property that fork(2) and execve(2) carry over
// with the server's, and goes through exec at the first difference. The
// comparison runs while the server clones the child, which takes its
// descriptors and then waits, before the steps and before any code of the
// program runs, until the call sends it its request: a child that the
// comparison refuses is killed there and reaped, and the call execs. Once
// a comparison found a difference, the next call compares before it asks
// the server, so that a program that changed its state for good does not
// pay for a clone as well at each call. The
// server's state is read once, at the first such call, from the server
// itself (/proc/PID and the system calls that take a PID: what its
// children inherit); what a thread can only read of itself (marked
// "self"), in this package's initialisation on the program's first
// thread. Nothing is passed to the child and applied there but the
// working directory, the descriptors and the environment of the call.
//
//	property                         compared through               when it differs
//	-------------------------------  -----------------------------  -------------------------
//	user and group IDs (real,        /proc/thread-self/status       exec
//	  effective, saved, fs)            Uid, Gid
//	supplementary groups             status Groups                  exec
//	capability sets: inheritable,    status CapInh, CapPrm, CapEff, exec (execve computes the
//	  permitted, effective,            CapBnd, CapAmb                 child's from these, the
//	  bounding, ambient                                               securebits and the file)
//	securebits                       PR_GET_SECUREBITS (self)       exec
//	no_new_privs                     status NoNewPrivs              exec
//	seccomp mode and filters         status Seccomp,                exec (filters are only
//	                                   Seccomp_filters                ever added: the same
//	                                                                  number is the same ones)
//	LSM attributes: current          /proc/thread-self/attr/current exec; skipped where no
//	  context, exec transition         and attr/exec                  module has them
//	dumpable                         PR_GET_DUMPABLE (self, once)   exec, unless it is 1 or
//	                                                                  the program runs in
//	                                                                  secure-execution mode
//	resource limits (all 16)         prlimit(2)                     exec; RLIMIT_NOFILE as
//	                                                                  os/exec gives it (below)
//	umask                            status Umask                   exec
//	nice, scheduling policy,         sched_getattr(2)               exec
//	  priority, flags, deadline
//	  parameters, utilisation clamps
//	I/O priority                     ioprio_get(2)                  exec
//	timer slack                      PR_GET_TIMERSLACK (self)       exec
//	oom_score_adj                    /proc/self/oom_score_adj       exec
//	CPU affinity, memory nodes       status Cpus_allowed_list,      exec
//	                                   Mems_allowed_list
//	NUMA memory policy               get_mempolicy(2) (self)        exec
//	THP disabled, speculation        status THP_enabled,            exec
//	  controls                         Speculation_*
//	memory-deny-write-execute        PR_GET_MDWE (self)             exec
//	personality                      personality(2) (self)          exec
//	session keyring                  KEYCTL_GET_KEYRING_ID (self)   exec
//	session and process group        getsid(2), getpgrp(2) (self)   exec
//	ignored signals                  status SigIgn                  exec (see below)
//	signal mask                      rt_sigprocmask(2) (self)       exec
//	caught signals                   -                              same: those C constructors
//	                                                                  install, in both (execve
//	                                                                  resets them, and the
//	                                                                  same loader variables run
//	                                                                  the same constructors)
//	root directory                   statx(2) of /: mount, inode    exec
//	namespaces of the thread:        /proc/thread-self/ns/*         exec
//	  cgroup, ipc, mnt, net, uts,
//	  pid and time for children
//	user namespace                   -                              same: no thread of a Go
//	                                                                  program can change it
//	cgroup                           /proc/self/cgroup              exec
//	loader and C library variables:  the call's environment         exec
//	  LD_*, GLIBC_TUNABLES, MALLOC_*
//	Go runtime variables (above)     the call's environment         exec
//	working directory                -                              passed: the program's
//	                                                                  at the call
//	environment, arguments           -                              passed (see above)
//	descriptors                      -                              passed (see above)
//	process name (comm)              -                              differs: "exe" exec'd, the
//	                                                                  program's name forked
//	audit login UID (and session)    /proc/thread-self/loginuid     exec
//	Landlock domains                 - (the kernel shows them       differs: see below
//	                                   nowhere)
//	PR_SET_TSC, PR_SET_MEMORY_MERGE, -                              not compared
//	  PR_SET_IO_FLUSHER
//
// Notes on rows:
//
//   - Ignored signals are compared with the program's at start-up, before
//     the Go runtime installed its handlers: a program started with
//     signals ignored other than SIGHUP and SIGINT, which the runtime
//     leaves ignored (SIGPIPE under systemd's IgnoreSIGPIPE, say), goes
//     through exec on every call, as its children would otherwise start
//     with those ignored.
//   - The signal mask is compared with the first thread's as this
//     package initialises: the program's at start-up, less the signals
//     the runtime unblocks on every thread, in both children.
//   - The Go runtime raises the soft RLIMIT_NOFILE at start-up, and
//     os/exec gives a child the original back while the limit is the one
//     the runtime set; a program that sets that very value itself is taken
//     for one that did not.
//   - An LSM policy's own transition on exec of the program's file is not
//     compared: a policy that moves the program's domain to another on
//     exec of its own file gives the exec'd child that domain.
//   - A program that joined a user namespace at start-up (gons_user) is
//     not dumpable; an exec'd child would be, so its calls go through
//     exec. So do those of a program whose server's /proc entries it
//     cannot read.
//   - A thread that restricts itself with Landlock must have no_new_privs
//     set, which the check sees unless the program started with it, or
//     CAP_SYS_ADMIN. In those two cases the check cannot see the domain,
//     and the server's children would start outside it: such a program
//     calls [Stop] once it has restricted itself, and every later call
//     execs.
//   - TestInherit in this package changes the properties in a running
//     program and compares what its two children inherit.
//   - The check reads /proc/thread-self/status, seven namespace links
//     and some thirty system calls: see BenchmarkForkDiffers in package
//     reexec for what it costs, next to a round trip of about 1.8 ms; it
//     runs while the server clones the child.
//
// # Lifecycle
//
// The server gets SIGKILL when the program ends, however it ends
// ([PR_SET_PDEATHSIG], checked against a race at its start), and ends
// when its socket reports the end of the program's side. It blocks the
// signals of the program's process group (a terminal's SIGINT, say), which
// each child unblocks. Its socket is close-on-exec on the program's side,
// so no process the program starts, by reexec, os/exec or otherwise,
// inherits it, and only the program can talk to it. Requests from many
// goroutines take turns on the socket; the server forks each child at
// once and does not wait for it.
//
// A child is a child of the program's first thread, which forked the
// server before the runtime started (CLONE_PARENT): its parent-death
// signal fires when the program ends, never because a thread the runtime
// ends (after a locked goroutine exits) happens to have asked for it,
// also when the caller's goroutine was locked to a thread that then ends,
// whose exec'd child would die with it (see reexec's Lifecycle). The
// server clones it with CLONE_PIDFD and sends the pidfd with its reply;
// the program kills and waits for the child through it, and keeps a pidfd
// of the server, opened at its start, so that no wait elsewhere in the
// program (a reaper calling wait4(-1)) can make it signal another process
// that took a freed PID. Before Linux 5.2 (CLONE_PIDFD) and 5.3
// (pidfd_open) children and server are signalled and waited for by PID.
//
// A call waits for its turn and the server's reply no longer than its
// context allows: when the context ends, it returns with the context's
// error at once, and the reply is read in the background, holding the
// turn, the child it names killed and reaped (it never gets its request:
// the call closed its protocol socket). A server that does not reply
// within 10 s of a request, stopped (SIGSTOP, a frozen cgroup, a tracer)
// or stuck, is given up: stopped, the pidfd of a child it cloned and did
// not report taken from it (pidfd_getfd(2), Linux 5.6, which needs the
// right to trace it), killed and reaped through its pidfd, with that
// child. The call that waited execs its child, with a protocol socket of
// its own, so that the action runs once. When the server is gone
// (killed, say), the next call notices (EPIPE, ECONNRESET or the end of
// the socket), reaps it, and that call and every later one start their
// child by exec. Where a child cloned by a server given up cannot be
// taken (no pidfd_getfd, no right to trace the server), it reads the end
// of its socket and exits, left as a zombie of the program.
//
// # Costs
//
// A program that imports the package forks the server at start-up, before
// its runtime starts, and keeps it for its life: one process, with the
// pages the program had touched at that point shared with it
// (copy-on-write). A program that does not import it pays one test in
// early's constructor. The bench module measures what it costs and saves,
// next to exec, the exec floor and thediveo/gons (bench/README.md, the
// "Fork server" tables): on its 2-core machine the server adds a fork, a
// few per cent, to the start of a program that exits at once, and its
// pages are the program's, shared until either writes them; a round trip
// takes less time and fewer system calls than by exec, and 16 goroutines
// at once complete more of them a second. The child's Go runtime still
// starts from nothing, which is most of a round trip.
//
// # Requirements
//
// Linux, cgo and external linking, as for package early. Without them the
// package does nothing and reexec execs.
//
// [PR_SET_PDEATHSIG]: https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html
package forkserver
