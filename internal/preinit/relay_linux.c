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

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* The child of the PID relay, for the signal handler. */
static volatile pid_t relay_child;

/*
 * All zeros, never written: SIG_DFL with no flags, and an empty signal
 * set in sa_mask. In .bss, where it costs no byte of the binary.
 */
static struct sigaction dfl;

/*
 * Passes a signal on to the child, unless the child has it already. A
 * signal from a process (si_code <= 0: kill, sigqueue, tgkill) was meant
 * for the program. One from the kernel (the terminal's ^C, ^Z, window
 * size) went to the whole foreground process group, which holds the child
 * unless the program left it; but the kernel sends a hangup's SIGHUP to
 * the session leader alone (ssh -t, docker run -it, setsid).
 */
static void forward(int sig, siginfo_t *info, void *ctx)
{
	int saved = errno;

	(void)ctx;
	if (info->si_code <= 0 || syscall(SYS_getpgid, relay_child) != syscall(SYS_getpgid, 0) ||
	    (sig == SIGHUP && syscall(SYS_getsid, 0) == syscall(SYS_getpid)))
		syscall(SYS_kill, relay_child, sig);
	errno = saved;
}

/*
 * Takes sig's default action: dies or stops of it, unless the kernel
 * discards it (a stop signal in an orphaned process group, any signal to
 * the init of a PID namespace).
 */
static void take_default(int sig)
{
	sigaction(sig, &dfl, NULL);
	syscall(SYS_kill, syscall(SYS_getpid), sig);
}

/* Dies of sig, as the child did, without dumping core a second time. */
static void __attribute__((noreturn)) die_of(int sig)
{
	uint64_t none[2] = { 0, 0 }; /* struct rlimit64 */

	syscall(SYS_prlimit64, 0, RLIMIT_CORE, none, NULL);
	take_default(sig);
	_exit(128 + sig);
}

/*
 * The parent after the PID fork: it stays outside the namespace, passes
 * signals on to the child, stops when the child stops, and ends as the
 * child ended. It never returns and never starts the Go runtime.
 */
static void __attribute__((noreturn)) relay(pid_t child)
{
	struct sigaction sa = { .sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART };
	int status, opts = WUNTRACED;
	long got;

	relay_child = child;
	sigfillset(&sa.sa_mask);
	/*
	 * SIGCONT keeps its default: it resumes the relay, which then resumes
	 * the child if need be (below). Setting KILL, STOP and the libc's own
	 * signals fails, as it should.
	 */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGCHLD && sig != SIGCONT)
			sigaction(sig, &sa, NULL);
	/* Nothing blocked: a signal held back here would never be passed on. */
	pthread_sigmask(SIG_SETMASK, &dfl.sa_mask, NULL);
	for (;;) {
		got = syscall(SYS_wait4, child, &status, opts, NULL);
		/* Every handler has SA_RESTART: wait4 fails only without a child. */
		if (got < 0)
			_exit(127);
		/*
		 * Resumed, with the child still stopped: the SIGCONT was sent to
		 * the relay alone (a shell's fg sends it to the whole group).
		 */
		if (got == 0)
			syscall(SYS_kill, child, SIGCONT);
		opts = WUNTRACED;
		if (got == 0 || WIFCONTINUED(status))
			continue;
		if (!WIFSTOPPED(status))
			break;
		/*
		 * The child stopped (^Z, say): stop as well, with the same
		 * signal, so that the shell sees the job stopped and takes the
		 * terminal back. Then look once, without waiting, whether the
		 * child was resumed too.
		 */
		take_default(WSTOPSIG(status));
		sigaction(WSTOPSIG(status), &sa, NULL);
		opts = WUNTRACED | WCONTINUED | WNOHANG;
	}
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

	/*
	 * Blocked until the relay's handlers are in place, so no signal is
	 * lost. pthread_sigmask, which the Go runtime links anyway, does what
	 * sigprocmask does in a process of one thread, without a copy of its own.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/*
	 * An ignored SIGCHLD survives execve, and with it the kernel reaps the
	 * child itself: the relay's wait would fail and lose its status. Reset
	 * before the fork, so that even a child that ends at once is waited for;
	 * the child keeps the default too, as util-linux's unshare and nsenter
	 * leave it (the Go runtime installs its own handler anyway).
	 */
	sigaction(SIGCHLD, &dfl, NULL);
	pid_t child = gons_fork();
	int err = errno;
	if (child > 0) {
		if (self >= 0)
			gons_close(self);
		/*
		 * The relay needs no descriptor but the standard streams: it
		 * holds none of the program's open, a pipe that must see its end
		 * once the child exits or executes (nsexec's error pipe) among
		 * them.
		 */
		syscall(SYS_close_range, 3, ~0u, 0);
		relay(child);
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
		gons_close(self);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}
