//go:build cgo

/*
 * The direct start of package nsexec: the calling thread clones itself
 * with CLONE_VM | CLONE_VFORK, as os/exec and posix_spawn(3) start their
 * children, and the child runs the exec step (exec_linux.c) on a stack of
 * this file's. The parent thread is suspended until the child
 * executes the program or exits, so the child inherits exactly what an
 * os/exec child of the same thread would.
 *
 * The child shares the memory of the running Go runtime. It therefore
 * allocates nothing, uses no stdio, writes no global that another start
 * could use at the same time (the Go side serializes starts, which share
 * exec_linux.c's group table and path buffer), never writes environ, and
 * makes raw system calls only: glibc's setuid(2) family would signal the
 * parent's threads. errno is the parent thread's, which is suspended and
 * keeps no value across the call. It leaves by execve(2) or _exit(2).
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "exec.h"
#include "gons.h"
#include "kernel.h"

/* The kernel's struct sigaction, where it has an sa_restorer (x86-64, arm64, riscv64, ...). */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long long mask;
};

#define KSIG_DFL ((void *)0)
#define KSIG_IGN ((void *)1)

/* What the program started with, saved by the constructor before the Go runtime changed them. */
static unsigned long long initial_mask;
static struct krlimit {
	unsigned long long cur, max; /* struct rlimit64 */
} initial_nofile;
static int initial_nofile_ok;

void gons_direct_init(void)
{
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &initial_mask, sizeof(initial_mask));
	initial_nofile_ok = syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &initial_nofile) == 0;
}

/*
 * Sets every handled signal's disposition to the default, keeping ignored
 * ones ignored, as os/exec's child does: no Go handler may run here once
 * the mask is restored. Raw rt_sigaction(2): glibc refuses its own signals.
 */
static void default_handlers(void)
{
	struct ksigaction dfl = { KSIG_DFL, 0, NULL, 0 }, old;

	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, &dfl, &old, sizeof(old.mask)) == 0 &&
		    old.handler == KSIG_IGN)
			syscall(SYS_rt_sigaction, sig, &old, NULL, sizeof(old.mask));
	}
}

/*
 * The Go runtime raises the soft RLIMIT_NOFILE at start to the hard limit
 * less one, and os/exec gives a child the original back while it is that
 * (syscall's rlimit.go). So does this.
 */
static void restore_nofile(void)
{
	struct krlimit now;

	if (!initial_nofile_ok || initial_nofile.max == 0 || initial_nofile.cur >= initial_nofile.max - 1)
		return;
	if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &now) == 0 && now.cur == initial_nofile.max - 1 &&
	    now.max == initial_nofile.max)
		syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &initial_nofile, NULL);
}

/*
 * Puts fds[i] at descriptor i, as os/exec does: first those that a lower
 * slot's dup would overwrite move above the table. Returns 0, or -1 with
 * errno.
 */
static int arrange(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (fds[i] < i) {
			int fd = syscall(SYS_fcntl, fds[i], F_DUPFD_CLOEXEC, n);
			if (fd < 0)
				return -1;
			fds[i] = fd;
		}
	}
	for (int i = 0; i < n; i++) {
		if (fds[i] == i) {
			if (syscall(SYS_fcntl, i, F_SETFD, 0) < 0)
				return -1;
		} else if (syscall(SYS_dup3, fds[i], i, 0) < 0) {
			return -1;
		}
	}
	return 0;
}

/* The child: never returns into the caller's frame. */
static int child(void *arg)
{
	struct gons_direct *d = arg;

	d->shared = 1;
	default_handlers();
	restore_nofile();
	if (arrange(d->fds, d->nfds) < 0) {
		int err = errno;
		gons_fail(&d->rec, GONS_OP_EXEC, -1, err, "(descriptors)");
		_exit(127);
	}
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &initial_mask, NULL, sizeof(initial_mask));
	gons_exec_forked(d->env, d->name, d->argv, &d->rec);
}

/*
 * Returns the inode of the namespace of type t that a child of this thread
 * would start in, or 0 when unknown.
 */
static unsigned long long thread_ns(int t)
{
	static const char *const path[GONS_NTYPES] = {
		[GONS_PID] = "/proc/thread-self/ns/pid_for_children",
		[GONS_TIME] = "/proc/thread-self/ns/time_for_children",
	};

	return path[t] != NULL ? gons_ns_link(path[t]) : 0;
}

/*
 * Returns 1 when the target's namespace of a type in d->check differs from
 * the one a child of this thread would start in, or either is unknown:
 * the child would join it, which it cannot do sharing memory.
 */
static int differs(const struct gons_direct *d)
{
	char dir[32];
	struct gons_ns_id target;
	unsigned long long self;

	gons_stpcpy(gons_utoa(gons_stpcpy(dir, "/proc/"), d->pid), "/ns/");
	for (int t = 0; t < GONS_NTYPES; t++)
		if ((d->check & (1u << t)) &&
		    ((self = thread_ns(t)) == 0 || gons_ns_id_by_pid(d->pidfd, dir, t, &target) < 0 ||
		     target.ino != self))
			return 1;
	return 0;
}

/*
 * The child's stack. Not in the caller's frame: a cgo call runs on the
 * calling thread's own stack, which a thread that C code created may have
 * made small. One is enough, as starts take turns (directMu in
 * direct_linux.go), and the parent waits in clone(2) while the child uses
 * it; in .bss, it costs the binary nothing and a process only the pages a
 * start touches.
 */
#define STACK_SIZE (64 * 1024)
static char child_stack[STACK_SIZE] __attribute__((aligned(16)));

int gons_direct_start(struct gons_direct *d)
{
#if !defined(__x86_64__) && !defined(__aarch64__) && !(defined(__riscv) && __riscv_xlen == 64)
	return GONS_DIRECT_DECLINED; /* struct ksigaction is another there */
#endif
	unsigned long long all = ~0ull, old;

	if (d->check != 0 && differs(d))
		return GONS_DIRECT_DECLINED;
	/* No handler of the runtime may run in the child before it resets them. */
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(all));
	int pid = clone(child, child_stack + STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, d);
	int err = errno;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(old));
	if (pid < 0) {
		errno = err;
		return -1;
	}
	d->pid = pid;
	return GONS_DIRECT_STARTED;
}
