// Package reexec runs a named piece of the program, an action, in a
// re-executed copy of itself, optionally inside other namespaces, and
// brings its result back.
//
// A Go program cannot join a mount, user or time namespace once its runtime
// runs, because it is multi-threaded by then ([setns(2)] fails with EINVAL
// or EUSERS). Package [github.com/gonsproject/gons/early] switches before the
// runtime starts, driven by gons_* environment variables; reexec starts
// /proc/self/exe with those variables set, so that the child is already in
// the target namespaces when the action runs.
//
// An action is registered in an init function, and the program calls
// [CheckAction] first thing in main (or TestMain), which runs the action
// when the process is such a child:
//
//	var mounts = reexec.RegisterFunc("mounts", func(struct{}) (string, error) {
//		b, err := os.ReadFile("/proc/self/mountinfo")
//		return string(b), err
//	})
//
//	func main() {
//		reexec.CheckAction()
//		info, err := mounts.Run(ctx, struct{}{}, reexec.Namespaces([]reexec.Namespace{
//			{Type: "!mnt", Path: "/proc/42/ns/mnt"},
//		}))
//		...
//	}
//
// # Two kinds of actions
//
// [RegisterFunc] registers a typed function: its parameter and its result,
// or its error, travel as JSON over a socket of their own (descriptor 3 in
// the child), so the action may print or log freely. Decoding is strict:
// unknown fields and trailing data are errors. An error keeps its message
// and its [syscall.Errno], if it wraps one.
//
// A parameter or result whose type is plain travels in a compact binary
// form instead, at a few per cent of JSON's cost, and arrives as the
// JSON round trip would give it. Plain are bool, the integer types except
// uintptr, float32, float64, string, and structs whose exported fields
// are all plain, none embedded and none with a tag; no type on the way
// may have a MarshalJSON, UnmarshalJSON, MarshalText or UnmarshalText
// method (on the value or the pointer), and json.Number is not plain.
// Any other type travels as JSON. A plain value that JSON treats
// specially travels as JSON too:
//
//	                               compact form    JSON
//	value that arrives             the same, floats to the bit (-0 too)
//	unexported fields              left out, zero on arrival
//	NaN or infinite float          (travels as JSON) json.Marshal's error
//	string not valid UTF-8         (travels as JSON) bytes become U+FFFD
//	a Result target of another     decoded from the JSON of the result
//	type (an action run by name)
//	cost of a small struct         ~1 µs           ~3.5 µs warm, several
//	(encode and decode)                            times that cold
//
// Both ends are the same program; the payload says which form it holds.
// The same holds for [Func.Run], [Func.RunIn] and [InProcess].
//
// [Register] registers a plain func(), as in thediveo/gons: its standard
// output is its result, decoded as JSON into the [Result] target, and it
// reads its [Param] with [DecodeParam] or, as JSON, from its standard
// input. To fail, it writes to standard error and exits with a non-zero
// status. It succeeds when it returns, when it calls os.Exit(0) after
// printing a complete JSON result, and when it prints one and then goes
// quiet without returning: such a child is killed after [ResultGrace].
//
// An action that calls [runtime.Goexit] fails with [ErrGoexit]; one that
// panics, with [ErrPanic]. An action may run actions itself, up to
// [MaxDepth] children deep: beyond that, runs fail with [ErrTooDeep].
//
// # Commands
//
// [Command] runs an action as [exec.Cmd] runs a program: with arguments
// (the child's os.Args[1:]), the standard input, output and error of the
// caller's choosing, Start and Wait, in the same namespaces and with the
// same options. It is what moby/sys/reexec.Command and
// containers/storage/pkg/reexec.Command give, with typed errors.
//
// # Standing children
//
// [Start] starts a child once, in the namespaces and with the options of a
// run, and [Func.RunIn] runs typed actions in it, many times and from many
// goroutines at once, until [Standing.Close]: a call then costs a message
// each way instead of a process, a few per cent of a run's round trip. All
// calls share that one process, and what earlier calls left in it;
// [Standing] has the table of what differs from a run in a fresh child. A
// crash fails the calls in flight with [ErrGone], as it does every later
// call.
//
// With [ResultFirst], a run of a typed action returns as soon as its result
// is in, and the child is reaped in the background; what only its exit
// status would have shown is lost.
//
// # The child
//
// The child is /proc/self/exe with os.Args[0] unchanged and no further
// arguments on its command line. The program must call [CheckAction]
// first thing in main: before it did, runs fail at once with
// [ErrNotChecked], and a child that ends before it gets there is
// reported with the same error. The child learns what to run over a
// socket whose descriptor is in GONS_REEXEC_FD, the only variable reexec
// adds: the action's name, its arguments and its parameter travel there.
// It dies with the parent (see Lifecycle). It inherits the parent's environment without any gons_*
// variable, so an empty [Namespaces] list means the parent's namespaces,
// and [Environment] adds variables. Its standard input is /dev/null (for
// a plain action with a [Param], the parameter; for a [Command], the
// caller's choice), and it marks every inherited descriptor from 3 on
// close-on-exec before the action runs, so that processes the action
// starts inherit none of them.
//
// Besides [Namespaces], the child may join the namespaces of a process by
// PID ([Target]), change its root and working directory ([Root], [Dir])
// and drop its credentials ([Credential]), all before its runtime starts.
//
// A child that joins a PID namespace is two processes: early forks once,
// and the process reexec started relays signals and the exit status of the
// one that runs the action inside the namespace. Cancelling the context
// kills the relay; the action's process dies with it.
//
// A program that imports [github.com/gonsproject/gons/reexec/forkserver]
// gets its children forked, before their runtime starts, from a server
// that package early starts with the program, instead of exec'd: the same
// steps, options and errors, a shorter round trip; its documentation says
// what differs.
//
// # Lifecycle
//
// Every wait is bounded by the call's context: the start, the wait for
// the child, and, with the fork server, the wait for the server's turn
// and reply. When the context ends, the call returns an [*Error] with Op
// "context" that wraps ctx.Err(), and the child, if it started, is killed
// and reaped first.
//
// A child is killed and waited for through a pidfd, never by its PID,
// which another wait in the program (a reaper calling wait4(-1)) may have
// freed for another process: an exec'd child through the pidfd that
// os.Process holds, a forked one through the pidfd the fork server's
// clone made (CLONE_PIDFD). Before Linux 5.3 (no pidfd_open) both are
// signalled and waited for by PID, as os/exec does there.
//
// A child gets SIGKILL when its parent dies ([PR_SET_PDEATHSIG]). The
// kernel sends it when the thread that forked the child ends, not the
// process, and the Go runtime ends a thread whenever a goroutine locked
// to it exits (as package nsthread does with a thread it could not switch
// back). So reexec forks exec'd children from starter threads that stay
// locked for the life of the program, whatever other threads end; a child
// of the fork server is a child of the program's first thread, which the
// runtime never ends. A caller whose goroutine is locked to its thread
// ([runtime.LockOSThread]) may have changed that thread (joined a network
// namespace, say) for the child to inherit: its exec'd child is forked
// from that thread, as from a plain fork, inherits the thread's state,
// and dies when that thread ends. The PID namespace is the exception: a
// thread whose children start in another one than its own (setns(2)
// into one, or unshare(2) once its first child has exited) cannot start
// a child there, which does not see its parent and so takes it for dead;
// such a call fails with Op "start" and [ErrThreadPIDNamespace], naming
// both namespaces. [Namespaces] with a pid entry runs the action in one.
//
// # Errors
//
// Every failure is an [*Error] naming the action, the step that failed and
// the last [StderrMax] bytes of the child's standard error. Options the
// caller got wrong are Op "option", and no child starts. A child that
// breaks the protocol (a frame over the limit of 1 GiB, of the wrong kind,
// or one that stops half-way for 5 s) is killed and reaped, and the error
// says why. A namespace switch, or a root, directory or credential step,
// that failed in the child unwraps to the child's *[status.Error], with
// its Op, Type, Path and errno, so that errors.As and errors.Is work as
// they would in the child.
//
// # cgo and early
//
// On Linux with cgo, reexec links the constructor of package early in, so
// that its children switch without further imports. The program itself is
// not steered by gons_* variables in its own environment unless it imports
// early too; reexec passes none of them on to its children. Built with
// CGO_ENABLED=0, actions still run, but a run with [Namespaces] fails with
// an error that wraps [status.ErrNotRun].
//
// [setns(2)]: https://man7.org/linux/man-pages/man2/setns.2.html
// [PR_SET_PDEATHSIG]: https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html
package reexec
