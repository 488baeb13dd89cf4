//go:build cgo

/*
 * Opening namespace files and telling them apart: by the type the kernel
 * gives them, and by the inode of their nsfs file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "gons.h"
#include "kernel.h"

const int gons_clone_flag[GONS_NTYPES] = {
	[GONS_CGROUP] = CLONE_NEWCGROUP, [GONS_IPC] = CLONE_NEWIPC, [GONS_MNT] = CLONE_NEWNS,
	[GONS_NET] = CLONE_NEWNET,       [GONS_PID] = CLONE_NEWPID, [GONS_TIME] = CLONE_NEWTIME,
	[GONS_USER] = CLONE_NEWUSER,     [GONS_UTS] = CLONE_NEWUTS,
};

GONS_HOT void gons_close(int fd)
{
	syscall(SYS_close, fd);
}

/*
 * Reads the namespace identity of fd. statx(2) with an empty path spares
 * the libc's stat wrappers.
 */
GONS_HOT int gons_ns_id_of(int fd, struct gons_ns_id *id)
{
	struct gons_statx stx;

	if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH, GONS_STATX_INO, &stx) < 0)
		return -1;
	*id = (struct gons_ns_id){ stx.dev_major, stx.dev_minor, stx.ino };
	return 0;
}

/* Returns the type whose CLONE_NEW* flag is flag, or -1. */
GONS_COLD static int type_of_flag(long flag)
{
	for (int t = 0; t < GONS_NTYPES; t++)
		if (gons_clone_flag[t] == flag)
			return t;
	return -1;
}

/* Returns s past the prefix p, or NULL when s does not start with it. */
GONS_HOT static const char *past(const char *s, const char *p)
{
	while (*p != '\0')
		if (*s++ != *p++)
			return NULL;
	return s;
}

/*
 * Returns 1 when path is /proc/PID/ns/NAME (PID digits, self or
 * thread-self; NAME one component, not a dot or two): an entry of a
 * process's ns directory of procfs, which holds nothing but links to nsfs
 * files. 0 otherwise.
 */
GONS_HOT static int proc_ns_path(const char *path)
{
	const char *s = past(path, "/proc/"), *q;

	if (s == NULL)
		return 0;
	if ((q = past(s, "self/")) == NULL && (q = past(s, "thread-self/")) == NULL) {
		for (q = s; *q >= '0' && *q <= '9'; q++)
			;
		if (q == s || q - s > 10 || *q++ != '/')
			return 0;
	}
	if ((s = past(q, "ns/")) == NULL || *s == '\0' || *s == '.')
		return 0;
	while (*s != '\0')
		if (*s++ == '/')
			return 0;
	return 1;
}

/*
 * Opening a device node can have effects (a watchdog, a tape), and an
 * ioctl on it more: the path is opened only once statfs(2) says it is on
 * nsfs. That second lookup of the path costs about as much as the switch;
 * a /proc/PID/ns/NAME path, which procfs only ever links to nsfs, is
 * spared it. The kernel refuses the ioctl, and setns(2), on an O_PATH fd,
 * which would otherwise spare it for every path. O_NONBLOCK and O_NOCTTY
 * still keep a FIFO or a terminal swapped in meanwhile from blocking the
 * open or becoming the controlling one.
 */
GONS_HOT int gons_ns_open(const struct gons_spec *spec, int t, struct gons_record *rec)
{
	const char *path = spec->path[t];
	struct statfs fs;
	int op = GONS_OP_OPEN, fd = -1;
	long got = -1;

	if (!proc_ns_path(path)) {
		if (gons_statfs(path, &fs) < 0)
			goto fail;
		op = GONS_OP_CHECK;
		errno = ENOTTY; /* what NS_GET_NSTYPE says of other files */
		if (fs.f_type != GONS_NSFS_MAGIC)
			goto fail;
		op = GONS_OP_OPEN;
	}
	if ((fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		goto fail;
	op = GONS_OP_CHECK;
	if ((got = syscall(SYS_ioctl, fd, GONS_NS_GET_NSTYPE)) == gons_clone_flag[t])
		return fd;
fail:;
	int err = errno;
	if (fd >= 0)
		gons_close(fd);
	gons_fail(rec, op, t, got < 0 ? err : EINVAL, path);
	if (op == GONS_OP_CHECK) {
		rec->code = got < 0 ? GONS_CODE_NOT_NAMESPACE : GONS_CODE_WRONG_TYPE;
		rec->other = got < 0 ? -1 : type_of_flag(got);
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
	int fd = pidfd >= 0 ? syscall(SYS_ioctl, pidfd, GONS_PIDFD_GET_NS(pidfd_ns_nr[t]), 0) : -1;
	if (fd >= 0)
		return fd;
#endif
	gons_stpcpy(gons_stpcpy(path, dir), gons_var_names[t]);
	return syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
}

GONS_HOT int gons_ns_id_by_pid(int pidfd, const char *dir, int t, struct gons_ns_id *id)
{
	int fd = ns_of_pid(pidfd, dir, t);

	if (fd < 0)
		return -1;
	int ret = gons_ns_id_of(fd, id);
	int err = errno;
	gons_close(fd);
	errno = err;
	return ret;
}

/*
 * Called before the first switch: only a switch of type t changes the
 * namespace of type t, and /proc need not show this process after a mnt
 * switch.
 */
GONS_HOT void gons_read_self(unsigned types, struct gons_ns_id *self)
{
	int pidfd = types != 0 ? syscall(SYS_pidfd_open, syscall(SYS_getpid), 0) : -1;

	for (int t = 0; t < GONS_NTYPES; t++)
		if (types & (1u << t))
			gons_ns_id_by_pid(pidfd, "/proc/self/ns/", t, &self[t]);
	if (pidfd >= 0)
		gons_close(pidfd);
}

/* Kept to undo a PID join should the fork fail. */
GONS_HOT int gons_own_pid_ns(void)
{
	int pidfd = syscall(SYS_pidfd_open, syscall(SYS_getpid), 0);
	int fd = ns_of_pid(pidfd, "/proc/self/ns/", GONS_PID);

	if (pidfd >= 0)
		gons_close(pidfd);
	return fd;
}

GONS_HOT int gons_same_ns(const struct gons_ns_id *a, const struct gons_ns_id *b)
{
	return a->ino != 0 && a->ino == b->ino && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor;
}

GONS_HOT int gons_is_self(int fd, const struct gons_ns_id *self)
{
	struct gons_ns_id id;

	return gons_ns_id_of(fd, &id) == 0 && gons_same_ns(self, &id);
}
