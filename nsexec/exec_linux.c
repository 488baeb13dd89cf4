//go:build cgo

/*
 * The exec step of package nsexec: in a child that the package started,
 * run early's steps (the joins, root and working directory), take the
 * credentials asked for, and execute the program the caller chose, never
 * returning into the Go runtime. What goes wrong before the program runs
 * is written, as a struct gons_record, to an error pipe that execve(2)
 * closes when it succeeds: the parent reads either EOF or the record.
 *
 * It runs in two kinds of process: a child exec'd from /proc/self/exe
 * with the marker GONS_EXEC in its environment (gons_exec_start, called
 * by this file's constructor, ahead of early's), and a child of the fork
 * server (gons_exec_forked, called by the server with what the request
 * holds). No allocation, no
 * stdio, no getenv: both run before any runtime.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "gons.h"
#include "kernel.h"

extern char **environ;

#ifndef SYS_close_range
#define SYS_close_range 436 /* the same number on every architecture */
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

/* The marker's name, with its "=". */
static const char marker[] = "GONS_EXEC=";

/* The supplementary groups asked for; in .bss, which costs the binary nothing. */
static unsigned exec_groups[GONS_EXEC_MAX_GROUPS];

/* Returns s past prefix p, or NULL when s does not start with it. */
static const char *after(const char *s, const char *p)
{
	while (*p != '\0')
		if (*s++ != *p++)
			return NULL;
	return s;
}

/*
 * Reads a decimal number up to max at *s, followed by a comma or the end,
 * and moves *s past both. Returns 0, or -1 when there is none.
 */
static int number(const char **s, unsigned long long max, unsigned long long *n)
{
	const char *p = *s;

	*n = 0;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = *p - '0';
		if (*n > (max - d) / 10)
			return -1;
		*n = *n * 10 + d;
	}
	if (*p != ',' && *p != '\0')
		return -1;
	*s = *p == ',' ? p + 1 : p;
	return 0;
}

/*
 * Parses the marker's value (exec.h) into x and exec_groups. Returns 0, or
 * -1 when it is malformed.
 */
int gons_exec_parse(const char *s, struct gons_exec *x)
{
	/* The maximum of each number; the target's three follow with the flag only. */
	static const unsigned long long max[8] = {
		0x7fffffff, 0x7fffffff, 0x7fffffff, 0xfffffffe,
		0xfffffffe, 0x7fffffff, 0x7fffffff, (1u << GONS_NTYPES) - 1
	};
	unsigned long long v[8] = { 0 };

	for (int i = 0; i < 8; i++)
		if ((i < 5 || (v[1] & GONS_EXEC_TARGET)) && number(&s, max[i], &v[i]) < 0)
			return -1;
	if ((v[1] & GONS_EXEC_TARGET) && (v[5] == 0 || v[7] == 0))
		return -1;
	*x = (struct gons_exec){ .errfd = v[0],
		                 .flags = v[1],
		                 .progfd = v[2],
		                 .uid = v[3],
		                 .gid = v[4],
		                 .target = v[5],
		                 .tfd = v[6],
		                 .ttypes = v[7] };
	while (*s != '\0') {
		if (x->ngroups == GONS_EXEC_MAX_GROUPS || number(&s, 0xfffffffe, &v[0]) < 0)
			return -1;
		exec_groups[x->ngroups++] = v[0];
	}
	return 0;
}

/*
 * Writes rec to the error pipe and exits: the parent reports it as the
 * error of its Start. The status is what nobody reads but a debugger.
 */
__attribute__((noreturn)) static void fail(const struct gons_exec *x, const struct gons_record *rec)
{
	const char *p = (const char *)rec;
	size_t n = sizeof(*rec);

	while (n > 0) {
		long w = syscall(SYS_write, x->errfd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		n -= w;
	}
	_exit(127);
}

/*
 * Returns 1 when setgroups(2) failed with EPERM although the process has
 * CAP_SETGID: the user namespace's /proc/PID/setgroups says "deny", and
 * dropping the groups, which nsenter(1) tolerates there, cannot be done.
 */
static int groups_denied(void)
{
	struct gons_cap_header hdr = { GONS_CAP_VERSION_3, 0 };
	struct gons_cap_data data[2];

	return syscall(SYS_capget, &hdr, data) == 0 && (data[0].effective & (1u << GONS_CAP_SETGID));
}

/*
 * The credentials, last, because taking them may take the right to do the
 * rest: the supplementary groups, the group ID, the user ID. Returns 0, or
 * -1 with rec filled.
 */
static int credentials(const struct gons_exec *x, struct gons_record *rec)
{
	int op = GONS_OP_SETGROUPS;

	if (!(x->flags & GONS_EXEC_NOGROUPS) && syscall(GONS_SYS_SETGROUPS, x->ngroups, exec_groups) < 0 &&
	    !(errno == EPERM && x->ngroups == 0 && groups_denied()))
		goto fail;
	op = GONS_OP_SETGID;
	if (syscall(GONS_SYS_SETRESGID, x->gid, x->gid, x->gid) < 0)
		goto fail;
	op = GONS_OP_SETUID;
	if (syscall(GONS_SYS_SETRESUID, x->uid, x->uid, x->uid) < 0)
		goto fail;
	return 0;
fail:;
	int err = errno;
	gons_fail(rec, op, -1, err, NULL);
	return -1;
}

/*
 * Removes the gons_* entries from env, which the program must not see;
 * what is left is the caller's Cmd.Env. The Go runtime never starts here,
 * so the NULL may move.
 */
static void compact(char **env)
{
	char **out = env;

	for (; *env != NULL; env++)
		if (after(*env, "gons_") == NULL)
			*out++ = *env;
	*out = NULL;
}

/* Returns PATH's value in env, or the C library's default when it is unset. */
static const char *path_of(char *const *env)
{
	for (; *env != NULL; env++) {
		const char *v = after(*env, "PATH=");
		if (v != NULL)
			return v;
	}
	return "/bin:/usr/bin"; /* glibc's _CS_PATH, which its execvp takes */
}

/*
 * Looks name up in the directories of PATH and executes the first that
 * execve(2) takes, as execvp(3) does, without its allocation and without
 * its fallback to /bin/sh for a file without a known format (ENOEXEC is
 * an error here, as in os/exec). Returns only on failure, with rec filled.
 */
static void exec_path(const char *name, char *const *argv, char *const *env, struct gons_record *rec)
{
	static char buf[GONS_PATH_MAX];
	size_t len = gons_strnlen(name, GONS_PATH_MAX);
	int err = ENOENT;

	for (const char *dir = path_of(env);; dir++) {
		const char *end = dir;
		while (*end != '\0' && *end != ':')
			end++;
		size_t n = end - dir;
		if (n + 1 + len < sizeof(buf)) {
			/* An empty entry is the working directory, as in execvp. */
			char *p = buf;
			for (const char *d = dir; d < end; d++)
				*p++ = *d;
			if (n > 0)
				*p++ = '/';
			gons_stpcpy(p, name);
			syscall(SYS_execve, buf, argv, env);
			int e = errno;
			/* As execvp: go on past what is not there; remember what was refused. */
			if (e == EACCES)
				err = EACCES;
			else if (e != ENOENT && e != ENOTDIR && e != ESTALE && e != ENODEV &&
			         e != ETIMEDOUT) {
				gons_fail(rec, GONS_OP_EXEC, -1, e, buf);
				return;
			}
		}
		if (*end == '\0')
			break;
		dir = end;
	}
	gons_fail(rec, GONS_OP_EXEC, -1, err, name);
}

/*
 * Executes the program: through x->progfd when the caller opened it, by
 * name when name holds a slash, else looked up in PATH. Returns only on
 * failure, with rec filled.
 */
static void execute(const char *name, char *const *argv, char *const *env, const struct gons_exec *x,
                    struct gons_record *rec)
{
	size_t len = gons_strnlen(name, GONS_PATH_MAX);
	const char *p = name;

	if (x->flags & GONS_EXEC_BYFD) {
		syscall(SYS_execveat, x->progfd, "", argv, env, AT_EMPTY_PATH);
	} else if (len == 0 || len == GONS_PATH_MAX) {
		errno = len == 0 ? ENOENT : ENAMETOOLONG;
	} else {
		while (*p != '\0' && *p != '/')
			p++;
		if (*p != '/') {
			exec_path(name, argv, env, rec);
			return;
		}
		syscall(SYS_execve, name, argv, env);
	}
	int err = errno;
	gons_fail(rec, GONS_OP_EXEC, -1, err, name);
}

void gons_exec_run(char **env, const char *name, char *const *argv, const struct gons_exec *x,
                   struct gons_record *rec)
{
	int pid_self = -1;

	if (rec->op != GONS_OP_NONE)
		fail(x, rec); /* the fork server's child, which could not take its descriptors */
	int pid = 0, none = -1;
	/* A setuid program joins nothing: early's steps refuse it (gons_steps) first. */
	if ((x->flags & GONS_EXEC_TARGET) && !getauxval(AT_SECURE)) {
		pid = gons_exec_target(x->target, x->tfd, x->ttypes, rec, &pid_self);
		gons_close(x->tfd);
	}
	/*
	 * Root and working directory. With the flag, env sets neither
	 * gons_target nor a path, and early's steps join nothing; they would
	 * close a *pid_self they did not open.
	 */
	if (rec->op == GONS_OP_NONE)
		pid |= gons_steps(env, rec, (x->flags & GONS_EXEC_TARGET) ? &none : &pid_self);
	if (rec->op == GONS_OP_NONE && (x->flags & GONS_EXEC_CRED))
		credentials(x, rec);
	if (rec->op != GONS_OP_NONE) {
		if (pid_self >= 0)
			gons_close(pid_self);
		fail(x, rec);
	}
	compact(env);
	if (pid && !(x->flags & GONS_EXEC_NOFORK)) {
		/* The relay closes its copies of the error pipe and the rest (relay_linux.c). */
		gons_fork_into_pid(pid_self, rec);
		if (rec->op != GONS_OP_NONE)
			fail(x, rec);
	} else if (pid_self >= 0) {
		gons_close(pid_self);
	}
	execute(name, argv, env, x, rec);
	fail(x, rec);
}

/*
 * The arguments the process was started with. On Linux the initial stack
 * holds argc, argv[], NULL, envp[] one after the other, and environ still
 * points at envp[0] when constructors run (musl passes them no arguments):
 * counting back from environ, argc is the first word n slots before
 * argv[0] that equals n. Returns argv, and argc in *argc.
 */
static char **initial_argv(int *argc)
{
	long n = 0;

	while ((long)environ[-n - 2] != n)
		n++;
	*argc = n;
	return &environ[-n - 1];
}

/* Writes a line to standard error and exits. */
__attribute__((noreturn)) static void malformed(void)
{
	static const char msg[] = "gons: GONS_EXEC is malformed\n";

	syscall(SYS_write, 2, msg, sizeof(msg) - 1);
	_exit(127);
}

void gons_exec_forked(char **env, const char *name, char *const *argv, struct gons_record *rec)
{
	char **m = env;
	struct gons_exec x;

	while (*m != NULL && after(*m, marker) == NULL)
		m++;
	if (*m == NULL || gons_exec_parse(*m + sizeof(marker) - 1, &x) < 0)
		malformed();
	/* Out of the program's environment, which is then exactly the caller's Cmd.Env. */
	for (; *m != NULL; m++)
		m[0] = m[1];
	/*
	 * The error pipe comes right after the program's descriptors: it and
	 * every one above, the pidfd, the program's file and whatever the
	 * caller inherited without close-on-exec, are closed by a successful
	 * execve, which EOF on the pipe then tells. close_range(2) needs
	 * Linux 5.11; before, the two known ones are marked.
	 */
	if (syscall(SYS_close_range, x.errfd, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
		syscall(SYS_fcntl, x.errfd, F_SETFD, FD_CLOEXEC);
		if (x.flags & GONS_EXEC_BYFD)
			syscall(SYS_fcntl, x.progfd, F_SETFD, FD_CLOEXEC);
	}
	gons_exec_run(env, name, argv, &x, rec);
}

/*
 * Returns 1 when the marker's error pipe is one: whoever sets a program's
 * environment could set the marker too, and a pipe at that descriptor is
 * harder to come by (package reexec's constructor check asks the same of
 * its socket). 0 otherwise, and the marker is not this package's.
 */
static int is_pipe(const char *value)
{
	struct gons_exec x;
	struct gons_statx stx;

	return gons_exec_parse(value, &x) == 0 &&
	       syscall(SYS_statx, x.errfd, "", AT_EMPTY_PATH, GONS_STATX_TYPE, &stx) == 0 &&
	       (stx.mode & S_IFMT) == S_IFIFO;
}

/*
 * The exec step's own constructor, in the programs that import this
 * package only, ahead of early's (priority 101 runs before the default):
 * in a child this package started, the steps and the program's execve
 * happen here, and neither early's constructor nor the Go runtime ever
 * runs; elsewhere it returns after a scan of the environment.
 */
__attribute__((constructor(101))) static void gons_exec_ctor(void)
{
	gons_direct_init();
	if (environ != NULL)
		gons_exec_start(&gons_record);
}

void gons_exec_start(struct gons_record *rec)
{
	char **m = environ;
	int argc;

	while (*m != NULL && after(*m, marker) == NULL)
		m++;
	if (*m == NULL || !is_pipe(*m + sizeof(marker) - 1))
		return;
	char **argv = initial_argv(&argc);
	if (argc < 2)
		malformed();
	/* argv[0] is the program's name or path, the program's own argv follows. */
	gons_exec_forked(environ, argv[0], argv + 1, rec);
}
