// Package nsthread runs a Go function inside other namespaces of the
// types a single thread can join (cgroup, ipc, net, uts, and mnt),
// in-process, on a locked OS thread, and returns its result:
//
//	addrs, err := nsthread.Run(func() ([]net.Addr, error) {
//		return net.InterfaceAddrs()
//	}, nsthread.Target(pid, "net"))
//
// A call costs an open, a check and two [setns(2)] per namespace:
// microseconds, where package reexec starts a process (milliseconds; see
// the bench module's Thread figures). The kernel lets one thread of a
// multi-threaded process switch cgroup, ipc, net and uts namespaces: they
// live in the thread's nsproxy. A mount namespace a thread can join once
// it has a filesystem context of its own (setns refuses while the thread
// shares its working directory and root with others, EINVAL): such a call
// runs on a thread that is discarded afterwards, and costs a thread's
// creation too (see "Mount namespaces"). User and time namespaces need a
// single-threaded process (setns fails with EINVAL or EUSERS), and a pid
// namespace applies to children only; those are refused with
// [ErrNotThreadJoinable]: package reexec runs a function in a child that
// joins them before its Go runtime starts.
//
// # Choosing namespaces
//
// [Namespaces] takes a list of [Namespace] values, the type and path of
// reexec.Namespace (nsthread.Namespace(n) converts one). [Target] joins a
// process's namespaces by PID through a pidfd, all at once, so that a
// process that ends during the call, and whoever gets its PID next, is
// never joined; [TargetPidfd] does the same for a pidfd the caller holds.
//
// The answers are a child's (package reexec, whose children switch in
// package early): a namespace the process is in already is skipped, so
// that an unprivileged caller may name its own; a target that has no
// namespaces (a zombie, exited but not reaped, or a kernel thread) is an
// error that wraps ESRCH, never a call in no namespace at all; [Target]
// without types leaves out the types the kernel lacks, as /proc/self/ns
// shows them. A switch that fails with EPERM says what is missing:
// CAP_SYS_ADMIN over the user namespace that owns the namespace, and over
// the caller's own (CAP_SYS_CHROOT too for mnt); when the namespace
// belongs to another user namespace, which a rootless container's do, the
// error says that only a child that joins that user namespace first can
// have it.
//
// # Mount namespaces
//
// A call that names mnt ([Namespaces], or [Target] with "mnt" among the
// types: it never joins one by default), or that sets a [Dir], runs on a
// goroutine of its own, locked to a thread that gets a filesystem context
// of its own ([unshare(2)] CLONE_FS), joins the namespaces, changes to
// the directory of [Dir] if one is given, and calls the function. The
// thread can never share the process's working directory and root again,
// so it is never returned to the Go runtime: the goroutine ends locked to
// it, and the runtime ends the thread with it. The main thread, which the
// runtime would park instead, is never used for such a call. The caller's
// goroutine, free or locked, keeps its thread as it was.
//
// Inside, paths resolve in the mount namespace, from its root (the
// namespace's root is the thread's root, as in a child), and the working
// directory is that root, or [Dir]. The process's working directory and
// root, and every other thread, stay as they were, whatever the function
// does (chdir, unshare, panic). The namespace files of [Namespaces] are
// all opened before the first switch, in the caller's mount namespace. A
// mount namespace the process is in already is skipped, as in a child:
// the function then runs in the process's working directory, like a call
// without mnt.
//
// The traps, besides those below: /proc/self/mounts and
// /proc/self/mountinfo are the main thread's, so the process's mount
// namespace: /proc/thread-self/mountinfo is the namespace's. /proc is the
// proc file system the namespace has mounted there, which may show
// another PID namespace than the process's. os.Getwd trusts $PWD, the
// process's, when that path names the working directory inside the
// namespace too; unix.Getwd asks the kernel. Goroutines the function
// starts resolve paths in the process's mount namespace and working
// directory, not in the namespace's.
//
// # What a call shares with a child
//
// reexec.InProcess moves a typed action from a child to a thread only
// where the answer is the same:
//
//	                               nsthread call                          child of package reexec
//	cgroup, ipc, net, uts, mnt     joined; those the process is in        the same
//	                               already skipped
//	user, time, pid                refused (ErrNotThreadJoinable)         joined; reexec keeps such calls in a child
//	working directory and root     the mount namespace's root, or Dir;    the same
//	                               without mnt, the process's
//	namespace files                opened before the first switch, in     "!" types the same; others right before
//	                               the caller's mount namespace           their own switch (after mnt: inside);
//	                                                                      InProcess keeps such lists in a child
//	a target without namespaces    ESRCH                                  ESRCH
//	a switch the caller may not    EPERM, naming the privilege            EPERM; a child may join the user
//	make                                                                  namespace first (Target with user)
//	credentials, capabilities,     the caller's process's                 the same, inherited
//	seccomp, limits, umask
//	/proc/self                     the process's main thread              the child
//	memory, descriptors, streams   shared with the caller                 the child's own copies
//	goroutines the function starts outside the namespaces                 inside
//	os.Exit, a crash               ends the caller                        ends the child
//	cost                           microseconds; with mnt or Dir, a       a process start
//	                               thread's creation too
//
// # Safety
//
// Every namespace file is opened and its type checked (NS_GET_NSTYPE, see
// [ioctl_ns(2)]), and a target found to have namespaces, before the first
// switch, so a wrong path switches nothing. Afterwards the thread is switched back, in the reverse order,
// into the process's own namespaces: those /proc/self/ns showed when the
// package first switched a type, whose descriptors it keeps open from then
// on (one per type, close-on-exec; opening them for each call would cost
// as much as the two switches). A thread that other code left in a
// foreign namespace of a type the call joins comes back clean too.
//
// # Whose thread
//
//	caller's goroutine              the function runs on       after a panic or a failed switch back
//	free to move between threads    the caller's goroutine     the caller stays locked to the thread; it ends with the caller
//	locked (runtime.LockOSThread)   a fresh goroutine          the fresh goroutine ends, and the thread with it
//	either, the call joins mnt      a fresh goroutine, on a    the fresh goroutine ends, and the thread with it, always
//	or sets Dir                     thread of its own
//
// A goroutine that is free to move has no thread of its own to keep, so
// the function runs on it, locked to its thread for the call and unlocked
// afterwards: handing the function to another goroutine would cost more
// than the switches (the scheduler wakes an idle processor's thread to
// start it and again to hand back). A caller that locked its goroutine to
// a thread keeps that thread exactly as it was, whatever it did with it:
// the function runs on a fresh goroutine, and thread state the caller set
// up is not there in it.
//
// The function runs under 16 more runtime.LockOSThread calls than the
// call's own, so a function that calls runtime.UnlockOSThread (as code
// written for a bare locked thread does, once, twice, or after locking
// again) cannot let the goroutine go: the thread stays with the call until
// it is switched back. A function that unlocks more than 16 times beyond
// its own locks does let go: the runtime may then run other goroutines on
// the thread, in the namespaces, and the goroutine may end on another
// thread. The call finds that out (the thread it ends on, by gettid, and
// whether the goroutine is still locked), switches back the thread it
// ended on, and returns [ErrThreadLost] naming the thread left behind,
// which stays in the namespaces, in the runtime's pool, until it ends. Do
// not unlock what you did not lock.
//
// The thread returns to the Go runtime only when it is back: when
// switching back fails, or the function panics or calls runtime.Goexit,
// the goroutine the function ran on stays locked to the thread, so that
// the runtime never gives the thread to another goroutine and ends it
// with the goroutine; the error says so ([ErrThreadDiscarded]). A panic
// becomes an error ([ErrPanic], [*PanicError]), as it does in reexec, and
// the thread is switched back first. A free caller therefore goes on on
// that thread until it returns: after a panic the thread is back in the
// process's namespaces, but after a failed switch back it is not, and the
// caller should end its goroutine without doing more that depends on
// them (a caller that must never be left there locks its goroutine before
// the call). runtime.Goexit in the function ends the goroutine it runs
// on, as it would anywhere: the caller's own, when it is free.
//
// The function may run on the main thread (never in a call that joins a
// mount namespace or sets [Dir]), which the runtime parks for good
// instead of ending when it has to be discarded. After a panic it is
// switched back first; only a failed switch back leaves it, and
// /proc/self, which shows it, in the namespaces. A program that locks its
// main goroutine in an init function (runtime.LockOSThread) keeps every
// call off the main thread.
//
// # The traps
//
// Only the thread is in the namespaces. Goroutines the function starts,
// and library calls that hand work to other goroutines, run on other
// threads, in the namespaces of the process (see the example). Threads
// the runtime creates while the function runs are cloned from a clean
// template thread, not from the switched one.
//
// /proc/self is the process's main thread: /proc/self/ns/net,
// /proc/self/net/dev and /proc/net (a link to self/net) show the main
// thread's network namespace, not the one the function runs in. Use
// /proc/thread-self. Files the kernel fills in for the reader, such as
// /proc/sys/kernel/hostname, /proc/sysvipc/* and the paths in
// /proc/*/cgroup, follow the calling thread and so are right.
//
// Sockets and other descriptors the function opens stay in the namespace
// they were made in, and may be used anywhere after the call; that is
// the way to hand a namespace's socket to the rest of the program.
//
// The function must not change the thread's namespaces itself (setns,
// unshare): only the types the call joined are put back. In a call that
// joins a mount namespace, or sets [Dir], it may: that thread is
// discarded anyway.
//
// # cgroup namespaces
//
// On this kernel (checked by the tests on Linux 6.18), setns with
// CLONE_NEWCGROUP changes the calling thread only, like the other three
// types: the cgroup namespace is part of the thread's nsproxy, the other
// threads of the process stay where they are, and the function sees cgroup
// paths relative to the joined namespace's root. It does not move the
// thread or the process into another cgroup.
//
// [setns(2)]: https://man7.org/linux/man-pages/man2/setns.2.html
// [unshare(2)]: https://man7.org/linux/man-pages/man2/unshare.2.html
// [ioctl_ns(2)]: https://man7.org/linux/man-pages/man2/ioctl_ns.2.html
package nsthread
