//go:build cgo

/*
 * The constructor that joins namespaces before the Go runtime starts.
 *
 * A Go program is multi-threaded before any of its code runs, and the
 * kernel lets only a single-threaded process join a mnt, user or time
 * namespace. A C constructor runs before the runtime, with one thread. It
 * must not allocate, must not call into Go, and records what happened in
 * gons_record for package status instead of printing or exiting. The steps
 * it dispatches to live in the other C files (see gons.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gons.h"
#include "kernel.h"

extern char **environ;

struct gons_record gons_record;

/*
 * Defined by package reexec/forkserver, when the program imports it: it
 * starts the fork server, in the process that goes on as the program, and
 * returns there and in each child the server forks. Weak: without that
 * package it is NULL, and this costs a program one test.
 */
extern void gons_forkserver_start(struct gons_record *rec) __attribute__((weak));

/*
 * Defined by package early (early/optin_linux.c), when the program imports
 * it: only then do gons_* variables steer the program itself. Weak:
 * without early, in a program that links this constructor through package
 * reexec alone, only the children reexec starts are steered.
 */
extern const char gons_early __attribute__((weak));

/*
 * After a parse failure: closes every descriptor a gons_target_fd of env
 * names. Each was handed over to be closed, and which one the caller meant
 * is anyone's guess.
 */
GONS_COLD static void close_target_fds(char *const *env)
{
	for (; *env != NULL; env++) {
		int fd = gons_target_fd_of(*env);
		if (fd >= 0)
			gons_close(fd);
	}
}

/*
 * The steps the variables of env ask for, up to the PID fork. Shared with
 * the fork server's children, which must run them as an exec'd child does.
 */
GONS_HOT int gons_steps(char **env, struct gons_record *rec, int *pid_self)
{
	struct gons_spec spec = { 0 }; /* on the stack: a first write to .bss costs a page fault */
	int pid = 0, parsed;

	/*
	 * A setuid, setgid or file-capability program must not let its caller
	 * choose its namespaces, nor even parse what the caller wrote.
	 */
	if (getauxval(AT_SECURE)) {
		gons_fail(rec, GONS_OP_SECURE, -1, EPERM, NULL);
		return 0;
	}
	if ((parsed = gons_parse(env, &spec, rec)) > 0) {
		pid = spec.target != 0 ? gons_join_target(&spec, rec, pid_self)
		                       : gons_switch(&spec, rec, pid_self, -1);
		if (rec->op == GONS_OP_NONE)
			gons_settle(&spec, rec);
	}
	/* Handed over to be closed, on every path. */
	if (parsed < 0)
		close_target_fds(env);
	else if (spec.target_fd != 0)
		gons_close(spec.target_fd - 1);
	/*
	 * Asked to drop privileges, the program never runs with them after a
	 * failure of any step, unless it checks for that itself.
	 */
	if (rec->op != GONS_OP_NONE && spec.drop && !spec.errors_status)
		gons_die(&spec, rec);
	return pid;
}

/* The constructor's work once a gons_* variable is there. */
GONS_HOT static void run(char **env, struct gons_record *rec)
{
	int pid_self = -1;
	int pid = gons_steps(env, rec, &pid_self);

	/* Only now: the spec pointed into the values, which this wipes. */
	environ = gons_strip(env);
	if (pid)
		gons_fork_into_pid(pid_self, rec);
}

/*
 * Returns 1 when env marks a child that package reexec started:
 * GONS_REEXEC_FD names a socket, as reexec's own check of it wants. Anyone
 * who sets a program's environment could set the variable too; a socket
 * at that descriptor is harder to come by. 0 otherwise.
 */
static int reexec_child(char *const *env)
{
	int fd = gons_reexec_fd(env);
	struct gons_statx stx;

	return fd >= 0 && syscall(SYS_statx, fd, "", AT_EMPTY_PATH, GONS_STATX_TYPE, &stx) == 0 &&
	       (stx.mode & S_IFMT) == S_IFSOCK;
}

GONS_HOT __attribute__((constructor)) static void gons_preinit(void)
{
	int present = environ != NULL && gons_present(environ);

	/*
	 * Only a program that imports early is steered by its own gons_*
	 * variables. One that links this constructor through reexec alone
	 * leaves them where they are, unread and unreported (status hears
	 * nothing), and is steered only as reexec's child.
	 */
	gons_record.ran = &gons_early != NULL || (present && reexec_child(environ)) ? GONS_RAN_STEERED
	                                                                            : GONS_RAN_IGNORED;
	if (present && gons_record.ran == GONS_RAN_STEERED)
		run(environ, &gons_record);
	if (gons_forkserver_start != NULL)
		gons_forkserver_start(&gons_record);
	/* Back to the Go runtime. */
}
