//go:build cgo

/*
 * The constructor that joins namespaces before the Go runtime starts.
 *
 * A Go program is multi-threaded before any of its code runs, and the
 * kernel lets only a single-threaded process join a mnt, user or time
 * namespace. A C constructor runs before the runtime, with one thread. It
 * must not allocate, must not call into Go, and records what happened in
 * gons_record for package status instead of printing or exiting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h> /* RLIMIT_CORE */
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gons.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
/* Linux 5.1 and 5.3; the same number on every architecture. */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
/* _IO(0xb7, 0x3) from <linux/nsfs.h>, which musl's headers lack; Linux 4.11. */
#define GONS_NS_GET_NSTYPE 0xb703

extern char **environ;

struct gons_record gons_record;

static const int clone_flag[GONS_NTYPES] = {
	[GONS_CGROUP] = CLONE_NEWCGROUP, [GONS_IPC] = CLONE_NEWIPC, [GONS_MNT] = CLONE_NEWNS,
	[GONS_NET] = CLONE_NEWNET,       [GONS_PID] = CLONE_NEWPID, [GONS_TIME] = CLONE_NEWTIME,
	[GONS_USER] = CLONE_NEWUSER,     [GONS_UTS] = CLONE_NEWUTS,
};

/* A namespace, as the inode of its nsfs file. ino 0: unknown. */
struct ns_id {
	uint32_t dev_major, dev_minor;
	uint64_t ino;
};

/*
 * struct statx of <linux/stat.h> (Linux 4.11), the same on every
 * architecture, which musl's headers lack. statx(2) spares the libc's
 * stat wrappers, which differ between architectures and cost more code.
 */
struct gons_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	uint64_t times[8]; /* atime, btime, ctime, mtime */
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};

#define GONS_STATX_INO 0x100U

/*
 * Reads the namespace identity of path, relative to fd; an empty path
 * means fd itself. Returns 0, or -1 with errno set.
 */
GONS_HOT static int ns_id_of(int fd, const char *path, struct ns_id *id)
{
	struct gons_statx stx;

	if (syscall(SYS_statx, fd, path, *path ? 0 : AT_EMPTY_PATH, GONS_STATX_INO, &stx) < 0)
		return -1;
	*id = (struct ns_id){ stx.dev_major, stx.dev_minor, stx.ino };
	return 0;
}

/* Returns the type whose CLONE_NEW* flag is flag, or -1. */
GONS_COLD static int type_of_flag(long flag)
{
	for (int t = 0; t < GONS_NTYPES; t++)
		if (clone_flag[t] == flag)
			return t;
	return -1;
}

/*
 * Opens the namespace file of type t. Returns the fd, or -1 with rec
 * filled. O_NONBLOCK keeps a FIFO at that path from blocking the open;
 * O_NOCTTY keeps a terminal from becoming the controlling one.
 */
GONS_HOT static int ns_open(const struct gons_spec *spec, int t, struct gons_record *rec)
{
	const char *path = spec->path[t];
	int fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int err = errno;
		gons_fail(rec, GONS_OP_OPEN, t, err, path);
		return -1;
	}
	long got = syscall(SYS_ioctl, fd, GONS_NS_GET_NSTYPE);
	if (got == clone_flag[t])
		return fd;
	int err = errno;
	syscall(SYS_close, fd);
	if (got < 0) {
		gons_fail(rec, GONS_OP_CHECK, t, err, path);
		rec->code = GONS_CODE_NOT_NAMESPACE;
	} else {
		gons_fail(rec, GONS_OP_CHECK, t, EINVAL, path);
		rec->code = GONS_CODE_WRONG_TYPE;
		rec->other = type_of_flag(got);
	}
	return -1;
}

/* PIDFD_GET_<TYPE>_NAMESPACE, _IO(0xFF, n) of <linux/pidfd.h>, Linux 6.11. */
static const unsigned char pidfd_ns_nr[GONS_NTYPES] = {
	[GONS_CGROUP] = 1, [GONS_IPC] = 2,  [GONS_MNT] = 3,  [GONS_NET] = 4,
	[GONS_PID] = 5,    [GONS_TIME] = 7, [GONS_USER] = 9, [GONS_UTS] = 10,
};

/*
 * Opens the namespace of type t of the process pidfd refers to, or, where
 * that fails (before Linux 6.11, or with pidfd -1), dir followed by the
 * type's name: /proc/self/ns/ or /proc/PID/ns/. The ioctl spares the /proc
 * lookup, which costs a new process about as much as a switch. Returns the
 * fd, or -1 with errno set.
 */
GONS_HOT static int ns_of_pid(int pidfd, const char *dir, int t)
{
	char path[48];

#ifndef GONS_TEST_OLD_KERNEL /* tests build with it to take the other way */
	int fd = pidfd >= 0 ? syscall(SYS_ioctl, pidfd, 0xff00 | pidfd_ns_nr[t], 0) : -1;
	if (fd >= 0)
		return fd;
#endif
	gons_stpcpy(gons_stpcpy(path, dir), gons_var_names[t]);
	return syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
}

/* Reads the identity of the namespace ns_of_pid opens. Returns 0, or -1 with errno set. */
GONS_HOT static int ns_id_by_pid(int pidfd, const char *dir, int t, struct ns_id *id)
{
	int fd = ns_of_pid(pidfd, dir, t);

	if (fd < 0)
		return -1;
	int ret = ns_id_of(fd, "", id);
	int err = errno;
	syscall(SYS_close, fd);
	errno = err;
	return ret;
}

/*
 * The types whose own namespace is checked before joining: joining one's
 * own mount namespace resets root and working directory, and one's own
 * PID namespace would fork for nothing. Joining one's own user namespace
 * fails (EINVAL), which is checked only then; joining any other namespace
 * one is in changes nothing. Each check costs a few system calls, or,
 * before Linux 6.11, a /proc lookup, about as much as the switch itself.
 */
#define SELF_CHECKED ((1u << GONS_MNT) | (1u << GONS_PID))

/*
 * Reads which namespaces of the given types the process is in, before the
 * first switch: only a switch of type t changes the namespace of type t,
 * and /proc need not show this process after a mnt switch. A type /proc
 * cannot tell is left unknown and simply joined.
 */
GONS_HOT static void read_self(unsigned types, struct ns_id *self)
{
	int pidfd = types != 0 ? syscall(SYS_pidfd_open, syscall(SYS_getpid), 0) : -1;

	for (int t = 0; t < GONS_NTYPES; t++)
		if (types & (1u << t))
			ns_id_by_pid(pidfd, "/proc/self/ns/", t, &self[t]);
	if (pidfd >= 0)
		syscall(SYS_close, pidfd);
}

/*
 * Opens the PID namespace the process is in, to undo a PID join should the
 * fork fail. Returns the fd, or -1.
 */
static int own_pid_ns(void)
{
	int pidfd = syscall(SYS_pidfd_open, syscall(SYS_getpid), 0);
	int fd = ns_of_pid(pidfd, "/proc/self/ns/", GONS_PID);

	if (pidfd >= 0)
		syscall(SYS_close, pidfd);
	return fd;
}

/* Returns 1 when a and b are the same namespace, 0 when not or unknown. */
GONS_HOT static int same_ns(const struct ns_id *a, const struct ns_id *b)
{
	return a->ino != 0 && a->ino == b->ino && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
}

/* Returns 1 when fd is the namespace self, 0 when not or unknown. */
GONS_HOT static int is_self(int fd, const struct ns_id *self)
{
	struct ns_id id;

	return ns_id_of(fd, "", &id) == 0 && same_ns(self, &id);
}

/*
 * Makes the process non-dumpable before it joins a user namespace, so that
 * root of that namespace cannot ptrace it or open its /proc files once it
 * is a member (cf. CVE-2019-5736). Returns 0, or -1 with rec filled.
 */
GONS_HOT static int undumpable(int type, const char *path, struct gons_record *rec)
{
	if (syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		int err = errno;
		gons_fail(rec, GONS_OP_SETNS, type, err, path);
		return -1;
	}
	return 0;
}

/*
 * Joins the namespace fd of type t. Returns 0, 1 when the process is in
 * that user namespace already, or -1 with rec filled.
 */
GONS_HOT static int join(int fd, int t, const char *path, struct gons_record *rec)
{
	if (t == GONS_USER && undumpable(t, path, rec) < 0)
		return -1;
	if (syscall(SYS_setns, fd, clone_flag[t]) < 0) {
		int err = errno;
		if (err == EINVAL && t == GONS_USER) {
			struct ns_id self[GONS_NTYPES] = { { 0 } };
			read_self(1u << t, self);
			if (is_self(fd, &self[t]))
				return 1;
		}
		gons_fail(rec, GONS_OP_SETNS, t, err, path);
		return -1;
	}
	rec->joined[rec->njoined++] = t;
	return 0;
}

GONS_HOT static void close_all(int *fd)
{
	for (int t = 0; t < GONS_NTYPES; t++)
		if (fd[t] >= 0) {
			syscall(SYS_close, fd[t]);
			fd[t] = -1;
		}
}

/*
 * Reports whether the process pidfd refers to still lives. Returns 1, or 0
 * with rec filled.
 */
static int target_alive(int pidfd, struct gons_record *rec)
{
	/* Signal 0 checks existence; EPERM means it exists. */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 && errno == ESRCH) {
		gons_fail(rec, GONS_OP_TARGET, -1, ESRCH, NULL);
		return 0;
	}
	return 1;
}

/*
 * Joins the namespaces of spec in order, stopping at the first failure,
 * which it records. With a pidfd (>= 0), the paths are the /proc/PID/ns
 * files of that process, which must still live once they are open. Every
 * fd it opens is closed on return, but for *pid_self: when it joins a PID
 * namespace, it returns 1 and leaves there an fd of the one the process
 * is in (or -1), for fork_into_pid. It returns 0 otherwise.
 */
GONS_HOT static int switch_all(const struct gons_spec *spec, struct gons_record *rec, int *pid_self,
                               int pidfd)
{
	int pid = 0;
	struct ns_id self[GONS_NTYPES] = { { 0 } };
	int fd[GONS_NTYPES];
	unsigned types = 0;

	if (spec->norder == 0)
		return 0; /* every variable was empty */
	for (int t = 0; t < GONS_NTYPES; t++)
		fd[t] = -1;
	for (int i = 0; i < spec->norder; i++)
		types |= 1u << spec->order[i];
	read_self(types & SELF_CHECKED, self);
	/*
	 * Open and check every "!" path first, while paths resolve as the
	 * caller sees them; if one is bad, nothing has been switched yet.
	 */
	for (int i = 0; i < spec->norder; i++) {
		int t = spec->order[i];
		if ((spec->bang & (1u << t)) && (fd[t] = ns_open(spec, t, rec)) < 0)
			goto out;
	}
	/* A PID reused after the opens would have failed this. */
	if (pidfd >= 0 && !target_alive(pidfd, rec))
		goto out;
	for (int i = 0; i < spec->norder; i++) {
		int t = spec->order[i];
		if (fd[t] < 0 && (fd[t] = ns_open(spec, t, rec)) < 0)
			goto out;
		if ((SELF_CHECKED & (1u << t)) && is_self(fd[t], &self[t])) {
			syscall(SYS_close, fd[t]);
			fd[t] = -1;
			continue;
		}
		if (t == GONS_PID)
			*pid_self = own_pid_ns();
		if (join(fd[t], t, spec->path[t], rec) < 0)
			goto out;
		pid |= t == GONS_PID;
		syscall(SYS_close, fd[t]);
		fd[t] = -1;
	}
out:
	close_all(fd);
	if (!pid && *pid_self >= 0) {
		syscall(SYS_close, *pid_self);
		*pid_self = -1;
	}
	return pid;
}

/* /proc/PID/ns/TYPE of the target, for each type. */
typedef char ns_paths[GONS_NTYPES][40];

/* Writes /proc/pid/ns/ to buf, which holds at least 32 bytes. */
static void ns_dir_of(int pid, char *buf)
{
	char digits[12];
	int n = 0;

	buf = gons_stpcpy(buf, "/proc/");
	do
		digits[n++] = '0' + pid % 10;
	while ((pid /= 10) != 0);
	while (n > 0)
		*buf++ = digits[--n];
	gons_stpcpy(buf, "/ns/");
}

/*
 * Returns the types of spec->target_types to join: those of SKIPPED_OWN
 * only where the target's namespace differs from the caller's (see
 * SELF_CHECKED; in one setns(2) of a pidfd, one's own user namespace fails
 * the whole call), the others as they are. The types in checked are looked
 * up in /proc/PID/ns: one the kernel lacks is left out, unless the caller
 * asked for it by name. Returns -1 with rec filled on failure.
 */
/* The types of the target skipped where they are the caller's. */
#define SKIPPED_OWN (SELF_CHECKED | (1u << GONS_USER))

static long target_types(const struct gons_spec *spec, int pidfd, unsigned checked, ns_paths paths,
                         struct gons_record *rec)
{
	struct ns_id self[GONS_NTYPES] = { { 0 } }, id;
	unsigned types = spec->target_types & ~checked;
	char dir[32];

	checked &= spec->target_types;
	read_self(checked, self);
	ns_dir_of(spec->target, dir);
	for (int t = 0; t < GONS_NTYPES; t++) {
		gons_stpcpy(gons_stpcpy(paths[t], dir), gons_var_names[t]);
		if (!(checked & (1u << t)))
			continue;
		if (ns_id_by_pid(pidfd, dir, t, &id) < 0) {
			int err = errno;
			if (err == ENOENT && spec->target_types == (1u << GONS_NTYPES) - 1)
				continue;
			gons_fail(rec, GONS_OP_OPEN, t, err, paths[t]);
			return -1;
		}
		if (!(SKIPPED_OWN & (1u << t)) || !same_ns(&self[t], &id))
			types |= 1u << t;
	}
	return types;
}

/*
 * Joins the namespaces of types of the process pidfd refers to in one
 * setns(2) (Linux 5.8), all or none. Before 5.8 the kernel takes no pidfd
 * there (EINVAL); then it joins them one by one through /proc/PID/ns, as if
 * named by gons_* paths. Returns and leaves *pid_self as switch_all does.
 */
static int setns_target(const struct gons_spec *spec, int pidfd, unsigned types, ns_paths tp,
                        struct gons_record *rec, int *pid_self)
{
	struct gons_spec paths = { 0 };
	int flags = 0;

	for (int t = 0; t < GONS_NTYPES; t++)
		if (types & (1u << t))
			flags |= clone_flag[t];
	if ((types & (1u << GONS_USER)) && undumpable(GONS_USER, NULL, rec) < 0)
		return 0;
#ifndef GONS_TEST_OLD_KERNEL /* tests build with it to take the other way */
	if (types & (1u << GONS_PID))
		*pid_self = own_pid_ns();
	if (syscall(SYS_setns, pidfd, flags) == 0) {
		for (int i = 0; i < GONS_NTYPES; i++)
			if (types & (1u << gons_default_order[i]))
				rec->joined[rec->njoined++] = gons_default_order[i];
		return (types >> GONS_PID) & 1;
	}
	int err = errno;
	if (*pid_self >= 0) {
		syscall(SYS_close, *pid_self);
		*pid_self = -1;
	}
	if (err != EINVAL) {
		gons_fail(rec, GONS_OP_SETNS, -1, err, NULL);
		return 0;
	}
#endif
	/* One by one, each type checked: the kernel may lack some, too. */
	long all = target_types(spec, pidfd, (1u << GONS_NTYPES) - 1, tp, rec);
	if (all <= 0)
		return 0;
	paths.bang = all;
	for (int i = 0; i < GONS_NTYPES; i++) {
		int t = gons_default_order[i];
		if (all & (1u << t)) {
			paths.path[t] = tp[t];
			paths.order[paths.norder++] = t;
		}
	}
	return switch_all(&paths, rec, pid_self, pidfd);
}

/*
 * Joins the namespaces of the process gons_target names. Returns and
 * leaves *pid_self as switch_all does.
 */
static int join_target(const struct gons_spec *spec, struct gons_record *rec, int *pid_self)
{
	struct ns_id id;
	int pid = 0;

	rec->target_pid = spec->target;
	rec->want_inode = spec->inode;
	/* The pidfd pins the process: its PID cannot be reused while we check it. */
	int pidfd = syscall(SYS_pidfd_open, spec->target, 0);
	if (pidfd < 0) {
		int err = errno;
		gons_fail(rec, GONS_OP_TARGET, -1, err, NULL);
		return 0;
	}
	/* Since Linux 6.9 (pidfs) a pidfd's inode names one process for the boot's lifetime. */
	if (ns_id_of(pidfd, "", &id) == 0)
		rec->target_inode = id.ino;
	if (spec->inode != 0 && spec->inode != rec->target_inode) {
		gons_fail(rec, GONS_OP_TARGET, -1, EINVAL, NULL);
		rec->code = GONS_CODE_REUSED_PID;
		goto out;
	}
	ns_paths tp;
	long types = target_types(spec, pidfd, SKIPPED_OWN, tp, rec);
	/* The /proc/PID files read were the target's only if it still lives. */
	if (types < 0 || !target_alive(pidfd, rec) || types == 0)
		goto out;
	pid = setns_target(spec, pidfd, types, tp, rec, pid_self);
out:
	syscall(SYS_close, pidfd);
	return pid;
}

/*
 * After the switches: gons_root, then gons_wd (resolved in the mount
 * namespace joined), then the credentials, which come last because
 * dropping them may take the right to do the rest. Stops at the first
 * failure, which it records.
 */
GONS_HOT static void settle(const struct gons_spec *spec, struct gons_record *rec)
{
	const char *wd = spec->wd != NULL ? spec->wd : spec->root != NULL ? "/" : NULL;
	int user = 0;

	if (spec->root != NULL && syscall(SYS_chroot, spec->root) < 0) {
		int err = errno;
		gons_fail(rec, GONS_OP_CHROOT, -1, err, spec->root);
		return;
	}
	if (wd != NULL && syscall(SYS_chdir, wd) < 0) {
		int err = errno;
		gons_fail(rec, GONS_OP_CHDIR, -1, err, wd);
		return;
	}
	if (!spec->set_uid && !spec->set_gid)
		return;
	for (int i = 0; i < rec->njoined; i++)
		user |= rec->joined[i] == GONS_USER;
	/*
	 * Drop the supplementary groups. A user namespace whose setgroups file
	 * says "deny" refuses that (EPERM) to everybody; the groups stay.
	 */
	if (syscall(SYS_setgroups, 0, NULL) < 0 && !(errno == EPERM && user)) {
		int err = errno;
		gons_fail(rec, GONS_OP_SETGROUPS, -1, err, NULL);
		return;
	}
	if (spec->set_gid && syscall(SYS_setresgid, spec->gid, spec->gid, spec->gid) < 0) {
		int err = errno;
		gons_fail(rec, GONS_OP_SETGID, -1, err, NULL);
		return;
	}
	if (spec->set_uid && syscall(SYS_setresuid, spec->uid, spec->uid, spec->uid) < 0) {
		int err = errno;
		gons_fail(rec, GONS_OP_SETUID, -1, err, NULL);
	}
}

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
static void fork_into_pid(int self, struct gons_record *rec)
{
	sigset_t all, old;

	/* Blocked until the relay's handlers are in place, so no signal is lost. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
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

/* The constructor's work once a gons_* variable is there. */
GONS_HOT static void run(char **env, struct gons_record *rec)
{
	struct gons_spec spec = { 0 }; /* on the stack: a first write to .bss costs a page fault */

	/*
	 * A setuid, setgid or file-capability program must not let its caller
	 * choose its namespaces, nor even parse what the caller wrote.
	 */
	if (getauxval(AT_SECURE)) {
		gons_strip(env);
		gons_fail(rec, GONS_OP_SECURE, -1, EPERM, NULL);
		return;
	}
	int ok = gons_parse(env, &spec, rec) > 0;
	gons_strip(env);
	if (!ok)
		return;
	int pid_self = -1;
	int pid =
	        spec.target != 0 ? join_target(&spec, rec, &pid_self) : switch_all(&spec, rec, &pid_self, -1);
	if (rec->op == GONS_OP_NONE)
		settle(&spec, rec);
	if (pid)
		fork_into_pid(pid_self, rec);
}

GONS_HOT __attribute__((constructor)) static void gons_preinit(void)
{
	gons_record.ran = 1;
	if (environ != NULL && gons_present(environ))
		run(environ, &gons_record);
	/* Nothing asked for: back to the Go runtime. */
}
