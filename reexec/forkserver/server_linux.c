//go:build cgo

/*
 * The fork server: a process forked by early's constructor before the Go
 * runtime starts, which forks, on request, children that go on as fresh
 * copies of the program (see doc.go).
 *
 * The server is single-threaded and stays so: it never returns into the
 * Go runtime. It holds nothing of the program's but its end of a
 * SOCK_SEQPACKET socketpair, and serves one request at a time. A child is
 * cloned with CLONE_PARENT, so that the program, not the server, is its
 * parent: the program waits for it as for any child, its parent-death
 * signal follows the program, and the server has no children to reap. The
 * child takes its descriptors from the request, waits for the program's
 * go-ahead (its request on reexec's socket, sent once the program has
 * checked what the child inherits), runs the steps an exec'd child runs in
 * early's constructor, with the request's gons_* variables, and returns
 * from the constructor into the start of the Go runtime.
 *
 * No allocation, no stdio: the request is received into a buffer on the
 * stack, and the child's spec points into it until the steps are done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gons.h"
#include "kernel.h"
#include "protocol.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000 /* <linux/sched.h>, Linux 5.2 */
#endif

/* _Fork when the C library has it; see internal/preinit/relay_linux.c. */
#define fs_fork _Fork
#ifdef __GLIBC__
#if !__GLIBC_PREREQ(2, 34)
#undef fs_fork
#define fs_fork fork
#endif
#endif

/* The program's end of the channel, + 1, and the server's PID: 0 while there is no server. */
int gons_forkserver_fd, gons_forkserver_pid;
/* 1 in a child of the server. */
int gons_forkserver_child;

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

/* One arena and the main thread's stack for the children (inherit_linux.c). */
void gons_fs_inherit_prepare(void);

/* What the server keeps of the program it serves. */
struct server {
	int chan;      /* the server's end of the channel */
	pid_t program; /* the program's PID, the parent of every child */
	sigset_t mask; /* the signal mask the program started with */
	int *tid;      /* the C library's record of the thread's ID; NULL: unknown */
};

/*
 * Defined by package nsexec, when the program imports it: runs the steps
 * for the gons_* variables and the marker in env and executes name (see
 * nsexec/exec.h). Without that package, exec requests are refused.
 */
extern void gons_exec_forked(char **env, const char *name, char *const *argv, struct gons_record *rec)
        __attribute__((weak, noreturn));

/* Closes fds[0..n). */
static void close_all(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		syscall(SYS_close, fds[i]);
}

/* Closes every descriptor from lo to hi, inclusive; lo > hi: none. */
static void close_from(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0) < 0)
		for (unsigned fd = lo; fd <= hi && fd < 4096; fd++)
			syscall(SYS_close, fd);
}

/*
 * Receives one message into buf, of size bytes, and the descriptors that
 * came with it into fds (at most GONS_FS_MAX_FDS), their number into
 * *nfds. Returns the message's length, 0 at the end of the channel, or -1
 * with errno set; a message that did not fit (MSG_TRUNC, MSG_CTRUNC) is
 * EMSGSIZE, its descriptors closed.
 */
static ssize_t receive(int chan, char *buf, size_t size, int *fds, int *nfds)
{
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int) * GONS_FS_MAX_FDS)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = { .msg_iov = &iov,
		              .msg_iovlen = 1,
		              .msg_control = ctl.space,
		              .msg_controllen = sizeof(ctl.space) };
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(chan, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (int i = 0; i < k && *nfds < GONS_FS_MAX_FDS; i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_all(fds, *nfds);
		*nfds = 0;
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

/*
 * Sends the reply to a spawn request: the child's PID, or 0 and err, and
 * the child's pidfd, when there is one (pidfd >= 0), as SCM_RIGHTS: the
 * program then waits for the child, and kills it, through that, never by
 * a PID that another wait in the program may have freed for reuse.
 */
static void reply(int chan, pid_t pid, int err, int pidfd)
{
	struct gons_fs_reply r = { .hdr = { .kind = GONS_FS_SPAWNED, .len = sizeof(r) },
		                   .pid = pid,
		                   .err = err };
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pidfd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.space;
		msg.msg_controllen = sizeof(ctl.space);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pidfd, sizeof(int));
	}
	while (sendmsg(chan, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/*
 * Answers a request once the clone returned: closes the request's
 * descriptors, of which the child has its copies, replies with the child
 * (pid > 0) and its pidfd, or with err, the clone's errno, and closes the
 * pidfd, which the program now holds.
 */
static void cloned(int chan, pid_t pid, int err, int pidfd, const int *fds, int nfds)
{
	close_all(fds, nfds);
	if (pid <= 0) {
		reply(chan, 0, err, -1);
		return;
	}
	reply(chan, pid, 0, pidfd);
	if (pidfd >= 0)
		syscall(SYS_close, pidfd);
}

/*
 * Moves the n descriptors of fds to 0..n-1, where the child expects them
 * (its standard streams, then those exec.Cmd's ExtraFiles would give it),
 * not close-on-exec, and closes every other descriptor. Returns 0, or -1
 * with errno set.
 */
static int install(const int *fds, int n)
{
	int high[GONS_FS_MAX_FDS];

	/* First out of the way of 0..n-1, where received ones may sit. */
	for (int i = 0; i < n; i++) {
		high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, n);
		if (high[i] < 0) {
			int err = errno;
			close_all(high, i);
			errno = err;
			return -1;
		}
	}
	close_all(fds, n);
	for (int i = 0; i < n; i++) {
		if (syscall(SYS_dup3, high[i], i, 0) < 0)
			return -1;
	}
	close_from(n, ~0u);
	return 0;
}

/*
 * Waits until the protocol socket, fd, has data: the program sends the
 * child its request once it has checked that the child inherits what an
 * exec'd one would, a check it runs while the server clones (reexec's
 * startForked). So nothing of the program's runs, nor do the steps, in a
 * child that the check refuses: the program kills it here. Returns 0, or
 * -1 when the program closed the socket without sending anything.
 */
static int await_request(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, -1);
	while (n < 0 && errno == EINTR);
	return n == 1 && (p.revents & POLLIN) ? 0 : -1;
}

/*
 * The request's gons_* variables, NUL-terminated strings packed in vars
 * of len bytes, as an environment array in env (at most GONS_FS_MAX_VARS
 * entries and a NULL). Returns 0, or -1 when they do not fit.
 */
static int split_vars(char *vars, size_t len, char **env)
{
	int n = 0;

	for (size_t i = 0; i < len; n++) {
		if (n == GONS_FS_MAX_VARS)
			return -1;
		env[n] = vars + i;
		i += gons_strnlen(vars + i, len - i) + 1;
	}
	env[n] = NULL;
	return len == 0 || vars[len - 1] == '\0' ? 0 : -1;
}

/*
 * The steps of early's constructor for the request's variables, as an
 * exec'd child with them in its environment would run them. The
 * environment itself is the program's, with no gons_* variables left.
 */
static void steps(char **env, struct gons_record *rec)
{
	int pid_self = -1;

	if (env[0] != NULL && gons_steps(env, rec, &pid_self))
		gons_fork_into_pid(pid_self, rec);
}

/*
 * The child, right after the clone: it dies with the program, unblocks
 * the signals the program had unblocked, takes its descriptors and
 * directory, waits for the program's go-ahead (see await_request),
 * starts from a clean record, and runs the steps. It then
 * returns into the constructor and the Go runtime, which reads the
 * record, the socket's number in it. Returns 0, or -1 when the child
 * cannot go on and must exit.
 */
static int child(const struct server *s, struct gons_fs_spawn *req, char *vars, size_t len, int *fds,
                 int nfds)
{
	char *env[GONS_FS_MAX_VARS + 1];

	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* The program died before that took effect: its children go with it. */
	if (syscall(SYS_getppid) != s->program)
		return -1;
	/* The program's mask at its start, as an exec'd child would have it. */
	sigprocmask(SIG_SETMASK, &s->mask, NULL);
	syscall(SYS_close, s->chan);
	gons_forkserver_fd = gons_forkserver_pid = 0;
	gons_forkserver_child = 1;
	/* The last descriptor is the program's working directory at the call. */
	if (syscall(SYS_fchdir, fds[nfds - 1]) < 0 || install(fds, nfds - 1) < 0)
		return -1;
	if (await_request(req->socket) < 0)
		return -1;
	if (split_vars(vars, len, env) < 0)
		return -1;
	/*
	 * A program that did not opt in to early kept its own gons_* variables;
	 * they are not this child's, whose are the request's.
	 */
	if (gons_record.ran == GONS_RAN_IGNORED)
		environ = gons_strip(environ);
	memset(&gons_record, 0, offsetof(struct gons_record, path));
	gons_record.path[0] = gons_record.detail[0] = '\0';
	gons_record.ran = GONS_RAN_STEERED;
	gons_record.type = -1;
	steps(env, &gons_record);
	gons_record.reexec_fd = req->socket + 1;
	return 0;
}

/*
 * The C library keeps each thread's ID in the thread's descriptor, and
 * tells the kernel where for the first thread (set_tid_address(2)). Its
 * fork has the kernel write the child's ID there (CLONE_CHILD_SETTID); a
 * clone of its own must do the same, or the child's C library would take
 * the server's ID for its own, and pthread calls on pthread_self() of the
 * child's first thread would act on the server. prctl(PR_GET_TID_ADDRESS)
 * says where that is, where the kernel keeps it (CONFIG_CHECKPOINT_RESTORE):
 * glibc's record of the ID, which is used when it holds this thread's ID;
 * musl points it at a lock, and keeps its record where nothing says.
 */
static int *tid_record(void)
{
	int *tid = NULL;

	if (syscall(SYS_prctl, PR_GET_TID_ADDRESS, &tid, 0, 0, 0) < 0 || tid == NULL ||
	    *tid != syscall(SYS_gettid))
		return NULL;
	return tid;
}

/*
 * Clones the server into a child of the program (CLONE_PARENT), with the
 * child's ID written to tid when it is the C library's record of it (see
 * tid_record), as its fork does, and a pidfd of the child in *pidfd
 * (CLONE_PIDFD, Linux 5.2; -1 where the kernel made none); clone3
 * refuses an exit signal with CLONE_PARENT, under which the child takes
 * the server's. Where clone3 is missing or refused, clone(2) makes the
 * child, its ID not on record.
 */
static pid_t clone_child(int *tid, int *pidfd)
{
	/* No exit signal: with CLONE_PARENT the child takes the server's, SIGCHLD. */
	struct gons_clone_args args = { .flags = CLONE_PARENT | CLONE_PIDFD, .pidfd = (uintptr_t)pidfd };

	*pidfd = -1;
	if (tid != NULL) {
		args.flags |= CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
		args.child_tid = (uintptr_t)tid;
	}
	pid_t pid = syscall(SYS_clone3, &args, sizeof(args));
	/* ENOSYS before Linux 5.3, EPERM or ENOSYS from seccomp filters that
	 * know no clone3, EINVAL from emulators (qemu-user): clone says what
	 * it can do, and a failure of its own. Its third argument is where
	 * the pidfd goes, on every architecture but s390; a kernel before
	 * 5.2 ignores the flag (once CLONE_PID) and writes nothing there. */
	if (pid >= 0)
		return pid;
	*pidfd = -1;
	return syscall(SYS_clone, CLONE_PARENT | CLONE_PIDFD | SIGCHLD, 0, pidfd, NULL, 0);
}

/*
 * Checks a spawn request of len bytes in buf, with nfds descriptors.
 * Returns the request, or NULL when it is malformed.
 */
static struct gons_fs_spawn *check_spawn(char *buf, ssize_t len, int nfds)
{
	struct gons_fs_spawn *req = (struct gons_fs_spawn *)buf;

	if (len < (ssize_t)sizeof(*req) || req->hdr.kind != GONS_FS_SPAWN || req->hdr.len != (uint32_t)len)
		return NULL;
	/* The slots, 0 to 2 at least, and the working directory. */
	if (req->nfds < 3 || req->nfds + 1 != (uint32_t)nfds || req->socket >= req->nfds)
		return NULL;
	return req;
}

/* Returns the string after the one at p, which ends before end. */
static char *next(char *p, const char *end)
{
	return p + gons_strnlen(p, end - p) + 1;
}

/*
 * Checks an exec request of len bytes in buf, with nfds descriptors, and
 * splits its strings into ptrs: the arguments, NULL-terminated, then the
 * variables and the environment, NULL-terminated, into *env. ptrs holds
 * a pointer for each byte of a message and two: every string has a NUL.
 * Returns the request, or NULL when it is malformed.
 */
static struct gons_fs_exec *check_exec(char *buf, ssize_t len, int nfds, char **ptrs, char ***env,
                                       char **name)
{
	struct gons_fs_exec *req = (struct gons_fs_exec *)buf;
	char *vars = buf + sizeof(*req), *end = buf + len, *p = vars;
	char **out = ptrs;
	uint32_t i;

	if (len <= (ssize_t)sizeof(*req) || req->hdr.len != (uint32_t)len || req->nfds < 3 ||
	    req->nfds + 1 != (uint32_t)nfds || end[-1] != '\0')
		return NULL;
	for (i = 0; i < req->nvars && p < end; i++)
		p = next(p, end);
	if (i < req->nvars || p >= end)
		return NULL;
	*name = p;
	for (p = next(p, end), i = 0; i < req->nargs && p < end; i++, p = next(p, end))
		*out++ = p;
	if (i < req->nargs)
		return NULL;
	*out++ = NULL;
	*env = out;
	for (char *q = vars; q < *name; q = next(q, end))
		*out++ = q;
	for (; p < end; p = next(p, end))
		*out++ = p;
	*out = NULL;
	return req;
}

/*
 * The child of an exec request: as a spawn request's, but with no
 * parent-death signal (an os/exec child has none), and package nsexec's
 * step, which executes the program or writes why not to its error pipe.
 * Its signal dispositions are the program's as it started, which the
 * caller checked are the calling thread's (reexec's inheritsAsExec).
 * Its record is on its own stack: a child that shares the server's
 * memory (see clone_shared) leaves the server's record as it is.
 * Never returns.
 */
__attribute__((noreturn)) static void exec_child(const struct server *s, int *fds, int nfds, char **env,
                                                 const char *name, char *const *argv)
{
	struct gons_record rec;

	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (syscall(SYS_getppid) != s->program)
		_exit(127);
	syscall(SYS_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0);
	sigprocmask(SIG_SETMASK, &s->mask, NULL);
	syscall(SYS_close, s->chan);
	memset(&rec, 0, offsetof(struct gons_record, path));
	rec.path[0] = rec.detail[0] = '\0';
	rec.ran = 1;
	rec.type = -1;
	/* A failure here is reported through the error pipe, as the steps' are. */
	if (syscall(SYS_fchdir, fds[nfds - 1]) < 0) {
		int err = errno;
		gons_fail(&rec, GONS_OP_CHDIR, -1, err, NULL);
	} else if (install(fds, nfds - 1) < 0) {
		int err = errno;
		gons_fail(&rec, GONS_OP_EXEC, -1, err, NULL);
	}
	gons_exec_forked(env, name, argv, &rec);
}

/* What clone_shared's child is given. */
struct exec_args {
	const struct server *s;
	int *fds, nfds;
	char **env;
	const char *name;
	char *const *argv;
};

static int shared_child(void *arg)
{
	struct exec_args *a = arg;

	exec_child(a->s, a->fds, a->nfds, a->env, a->name, a->argv);
}

/* The stack of a child that shares the server's memory. */
#define SHARED_STACK (256 << 10)

/*
 * Returns the stack of a child that shares the server's memory, mapped at
 * the first exec request with a guard page below it, NULL when there is
 * none: then, or when a signal has a handler, which would run in the
 * child on the server's memory, the server copies itself for each child.
 * The handlers are the program's at its start: the C library's
 * constructors' or none; the server installs none.
 */
static char *shared_stack(void)
{
	static char *top;
	static int known;
	struct sigaction sa;

	if (known)
		return top;
	known = 1;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
			return NULL;
	}
	char *p = mmap(NULL, SHARED_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
	               -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, 4096, PROT_NONE) < 0) {
		munmap(p, SHARED_STACK);
		return NULL;
	}
	top = p + SHARED_STACK;
	return top;
}

/*
 * Clones the child of an exec request that forks nothing before it
 * executes the program, as posix_spawn(3) and os/exec do: it shares the
 * server's memory and runs on its own stack while the server waits
 * (CLONE_VM | CLONE_VFORK), until it has executed the program or exited;
 * no copy of the server's address space is made. It writes nothing of the
 * server's that the server reads after: its record is its own, the
 * request's buffer and pointers are not read again. Its ID is not written
 * to the C library's record (no CLONE_CHILD_SETTID): that is the
 * server's. Returns the child's PID, -1 with errno set, or 0 when it
 * cannot be done this way (no stack).
 */
static pid_t clone_shared(struct exec_args *a, int *pidfd)
{
	char *stack = shared_stack();

	*pidfd = -1;
	if (stack == NULL)
		return 0;
	return clone(shared_child, stack, CLONE_VM | CLONE_VFORK | CLONE_PARENT | CLONE_PIDFD | SIGCHLD, a,
	             pidfd);
}

/* Serves an exec request: forks its child and replies. */
static void serve_exec(const struct server *s, char *buf, ssize_t n, int *fds, int nfds)
{
	static char *ptrs[GONS_FS_MAX_MSG + 2]; /* in .bss, which costs the binary nothing */
	char *name, **env;
	struct gons_fs_exec *req = check_exec(buf, n, nfds, ptrs, &env, &name);

	int pidfd;

	if (req == NULL || gons_exec_forked == NULL) {
		close_all(fds, nfds);
		reply(s->chan, 0, req == NULL ? EPROTO : ENOSYS, -1);
		return;
	}
	struct exec_args a = { s, fds, nfds, env, name, ptrs };
	pid_t pid = req->flags & GONS_FS_EXEC_SHARE ? clone_shared(&a, &pidfd) : 0;
	/* No stack, or flags the system refuses (emulators): a copy, as for the others. */
	if (pid <= 0) {
		pid = clone_child(s->tid, &pidfd);
		if (pid == 0)
			exec_child(s, fds, nfds, env, name, ptrs);
	}
	cloned(s->chan, pid, errno, pidfd, fds, nfds);
}

/*
 * Serves spawn requests until the program closes its end or dies.
 * Returns 0 in a child, which goes on as the program; the server itself
 * never returns.
 */
static int serve(const struct server *s)
{
	/* The largest request: eight paths, the other variables, the header. */
	char buf[GONS_FS_MAX_MSG] __attribute__((aligned(8)));
	int fds[GONS_FS_MAX_FDS], nfds, pidfd;

	for (;;) {
		ssize_t n = receive(s->chan, buf, sizeof(buf), fds, &nfds);
		if (n == 0 || (n < 0 && errno != EMSGSIZE))
			_exit(0); /* the program is gone */
		if (n > 0 && ((struct gons_fs_hdr *)buf)->kind == GONS_FS_EXEC) {
			serve_exec(s, buf, n, fds, nfds);
			continue;
		}
		struct gons_fs_spawn *req = n > 0 ? check_spawn(buf, n, nfds) : NULL;
		if (req == NULL) {
			close_all(fds, nfds);
			reply(s->chan, 0, EPROTO, -1);
			continue;
		}
		pid_t pid = clone_child(s->tid, &pidfd);
		if (pid == 0) {
			if (child(s, req, buf + sizeof(*req), n - sizeof(*req), fds, nfds) < 0)
				_exit(127);
			return 0;
		}
		cloned(s->chan, pid, errno, pidfd, fds, nfds);
	}
}

/*
 * The server, right after the fork: it dies with the program, blocks the
 * signals the program's process group may receive (a child restores the
 * mask), keeps only its end of the channel and leaves the program's
 * working directory. Returns 0 in a child; see serve.
 */
static int server(struct server *s)
{
	sigset_t all;

	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (syscall(SYS_getppid) != s->program)
		_exit(0);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &s->mask);
	close_from(0, s->chan - 1);
	close_from(s->chan + 1, ~0u);
	if (syscall(SYS_chdir, "/") < 0)
		_exit(0);
	s->tid = tid_record();
	gons_fs_inherit_prepare();
	return serve(s);
}

/*
 * Called by early's constructor once its own steps are done, in the
 * process that goes on as the program: starts the server, unless this
 * process is itself a child that reexec started by exec, whose calls then
 * exec in turn. It returns in the program and, once per request, in a
 * child of the server; a failure leaves the program without a server.
 */
void gons_forkserver_start(struct gons_record *rec)
{
	struct server s = { .program = syscall(SYS_getpid) };
	int sv[2];

	if (rec->reexec_fd != 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	pid_t pid = fs_fork();
	if (pid == 0) {
		syscall(SYS_close, sv[0]);
		s.chan = sv[1];
		server(&s);
		return;
	}
	syscall(SYS_close, sv[1]);
	if (pid < 0) {
		syscall(SYS_close, sv[0]);
		return;
	}
	gons_forkserver_fd = sv[0] + 1;
	gons_forkserver_pid = pid;
}
