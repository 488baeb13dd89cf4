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
//     in a test binary, which reads it at exit), or with credentials other
//     than those the program started with, goes through exec. So does a
//     call whose environment execve(2) could refuse (E2BIG), so that it
//     fails the same way, and a child of a child: only the program has a
//     server.
//   - The child starts in the namespaces, root, cgroup, resource limits,
//     umask and capability sets the program had when it started, where an
//     exec'd child starts in those of the calling thread at the call. A
//     program that changes these while it runs, other than through
//     reexec's own options, should not import this package.
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
// once and does not wait for it. When the server is gone (killed, say),
// the next call notices (EPIPE, ECONNRESET or the end of the socket), reaps
// it, and that call and every later one start their child by exec.
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
