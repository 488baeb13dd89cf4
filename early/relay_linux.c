//go:build cgo

/*
 * The fork after a PID join, and the relay. After setns(CLONE_NEWPID) only
 * children enter the namespace, and the kernel refuses new threads to the
 * process, so the Go program continues in a child while this process
 * relays signals and ends as the child ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h> /* RLIMIT_CORE */
#include <sys/wait.h>
#include <unistd.h>

#include "gons.h"
#include "kernel.h"

/*
 * _Fork (glibc 2.34, musl 1.2.3) forks without running atfork handlers.
 * None are needed: the parent only relays and never uses the state they
 * would reset, and only one thread exists. It spares the several KiB of
 * fork()'s atfork machinery in a static binary.
 */
#define gons_fork _Fork
#ifdef __GLIBC__
#if !__GLIBC_PREREQ(2, 34)
#undef gons_fork
#define gons_fork fork
#endif
#endif

/* The child of the PID relay, for the signal handler. */
static volatile pid_t relay_child;

/*
 * Passes a signal on to the child. Signals the kernel sends (from the
 * terminal, say) go to the whole process group, so the child has them
 * already.
 */
static void forward(int sig, siginfo_t *info, void *ctx)
{
	int saved = errno;

	(void)ctx;
	if (info->si_code != SI_KERNEL)
		syscall(SYS_kill, relay_child, sig);
	errno = saved;
}

/* Dies of sig, as the child did, without dumping core a second time. */
static void __attribute__((noreturn)) die_of(int sig)
{
	uint64_t none[2] = { 0, 0 }; /* struct rlimit64 */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	syscall(SYS_prlimit64, 0, RLIMIT_CORE, none, NULL);
	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	syscall(SYS_kill, syscall(SYS_getpid), sig);
	_exit(128 + sig);
}

/*
 * The parent after the PID fork: it stays outside the namespace, passes
 * signals on to the child, and ends as the child ended. It never returns
 * and never starts the Go runtime.
 */
static void __attribute__((noreturn)) relay(pid_t child, const sigset_t *mask)
{
	struct sigaction sa = { .sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART };
	int status;

	relay_child = child;
	sigfillset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			sigaction(sig, &sa, NULL); /* fails for the libc's own signals, as it should */
	sigprocmask(SIG_SETMASK, mask, NULL);
	while (syscall(SYS_wait4, child, &status, 0, NULL) < 0)
		if (errno != EINTR)
			_exit(127);
	if (WIFSIGNALED(status))
		die_of(WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

/*
 * Undoes the PID join after a failed fork, through self, an fd of the PID
 * namespace the process is in (or -1): a Go runtime cannot start threads
 * otherwise. Returns 0, or -1 when that is impossible.
 */
static int leave_pid(int self, struct gons_record *rec)
{
	int n = 0;

	for (int i = 0; i < rec->njoined; i++)
		if (rec->joined[i] != GONS_PID)
			rec->joined[n++] = rec->joined[i];
	rec->njoined = n;
	return self >= 0 && syscall(SYS_setns, self, CLONE_NEWPID) == 0 ? 0 : -1;
}

/*
 * After setns(CLONE_NEWPID) only children enter the namespace, and the
 * kernel refuses new threads to the process, so the Go program continues
 * in a child while this process relays. self is an fd of the PID namespace
 * the process itself is in, or -1.
 */
GONS_HOT void gons_fork_into_pid(int self, struct gons_record *rec)
{
	sigset_t all, old;

	/* Blocked until the relay's handlers are in place, so no signal is lost. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	/*
	 * An ignored SIGCHLD survives execve, and with it the kernel reaps the
	 * child itself: the relay's wait would fail and lose its status. Reset
	 * before the fork, so that even a child that ends at once is waited for;
	 * the child keeps the default too, as util-linux's unshare and nsenter
	 * leave it (the Go runtime installs its own handler anyway).
	 */
	sigaction(SIGCHLD, &(struct sigaction){ .sa_handler = SIG_DFL }, NULL);
	pid_t child = gons_fork();
	int err = errno;
	if (child > 0) {
		if (self >= 0)
			syscall(SYS_close, self);
		relay(child, &old);
	}
	if (child < 0) {
		/* A failure recorded earlier, after the PID join, stays the one reported. */
		if (rec->op == GONS_OP_NONE)
			gons_fail(rec, GONS_OP_FORK, GONS_PID, err, NULL);
		if (leave_pid(self, rec) < 0)
			_exit(127);
	}
	if (child == 0) {
		syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		/*
		 * The parent is outside the namespace, so getppid() is 0 while it
		 * lives; anything else means it died before PDEATHSIG was set.
		 */
		if (syscall(SYS_getppid) != 0)
			syscall(SYS_kill, syscall(SYS_getpid), SIGKILL);
	}
	if (self >= 0)
		syscall(SYS_close, self);
	sigprocmask(SIG_SETMASK, &old, NULL);
}
