// Package nsthread runs a Go function inside other namespaces of the
// types a single thread can join (cgroup, ipc, net, uts), in-process, on a
// locked OS thread, and returns its result:
//
//	addrs, err := nsthread.Run(func() ([]net.Addr, error) {
//		return net.InterfaceAddrs()
//	}, nsthread.Target(pid, "net"))
//
// A call costs an open, a check and two [setns(2)] per namespace:
// microseconds, where package reexec starts a process
// (milliseconds; see the bench module's Thread figures). The
// kernel lets one thread of a multi-threaded process switch these types:
// they live in the thread's nsproxy. Mount, user and time namespaces
// need a single-threaded process (setns fails with EINVAL or EUSERS), and
// a pid namespace applies to children only; those are refused with
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
// # Safety
//
// Every namespace file is opened and its type checked (NS_GET_NSTYPE, see
// [ioctl_ns(2)]) before the first switch, so a wrong path switches
// nothing. Afterwards the thread is switched back, in the reverse order,
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
// The function may run on the main thread, which the runtime parks for
// good instead of ending when it has to be discarded. After a panic it is
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
// unshare): only the types the call joined are put back.
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
// [ioctl_ns(2)]: https://man7.org/linux/man-pages/man2/ioctl_ns.2.html
package nsthread
