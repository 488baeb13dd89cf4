//go:build cgo

/*
 * Joining the namespaces of a process named by PID (gons_target), through
 * a pidfd, which refers to that one process for good: should it exit and
 * its PID be reused, the pidfd never refers to the new process, and
 * joining through it fails (ESRCH).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "gons.h"
#include "kernel.h"

int gons_target_alive(int pidfd, struct gons_record *rec)
{
	/*
	 * A zombie and a kernel thread have no memory, which
	 * process_madvise(2) with no ranges reports as ESRCH (Linux 5.10):
	 * neither has namespaces of its own to join. Where it cannot tell
	 * (EPERM without the right to look at the target's memory, ENOSYS),
	 * signal 0 checks existence; EPERM there means it exists.
	 */
	if (syscall(SYS_process_madvise, pidfd, NULL, 0, GONS_MADV_COLD, 0) < 0 &&
	    (errno == ESRCH || (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 && errno == ESRCH))) {
		gons_fail(rec, GONS_OP_TARGET, -1, ESRCH, NULL);
		return 0;
	}
	return 1;
}

/* /proc/PID/ns/TYPE of the target, for each type. */
typedef char ns_paths[GONS_NTYPES][40];

/* Writes /proc/pid/ns/ to buf, which holds at least 32 bytes. */
static void ns_dir_of(int pid, char *buf)
{
	gons_stpcpy(gons_utoa(gons_stpcpy(buf, "/proc/"), pid), "/ns/");
}

/*
 * The namespace of type t of the target could not be looked up (errno).
 * Where it is not there (ENOENT, ESRCH) although the caller has one of
 * that type (has), the target has none left: a zombie, or a process that
 * exited, whose namespaces went with it. That is no empty join but a
 * target gone (ESRCH). Where the caller has none either, the kernel lacks
 * the type: skipped when all types were asked for, refused (ENOENT) when
 * it was asked for by name. Returns -1 with rec filled, or 0 to skip.
 */
GONS_COLD static long no_ns(const struct gons_spec *spec, int t, int has, const char *path,
                            struct gons_record *rec)
{
	int err = errno;

	if (has && (err == ENOENT || err == ESRCH)) {
		gons_fail(rec, GONS_OP_TARGET, -1, ESRCH, NULL);
		return -1;
	}
	if (err == ENOENT && spec->target_types == (1u << GONS_NTYPES) - 1)
		return 0;
	gons_fail(rec, GONS_OP_OPEN, t, err, path);
	return -1;
}

/*
 * Returns the types of spec->target_types to join: those whose namespace
 * differs from the caller's, or whose identity is unknown. Joining one the
 * caller is in changes nothing, could only fail (EPERM without the
 * privilege, EINVAL for one's own user namespace, which fails the whole
 * setns(2) of a pidfd), and would be reported as joined. The namespaces
 * are looked up through the pidfds (PIDFD_GET_<TYPE>_NAMESPACE) or in
 * /proc: a type the kernel lacks is left out, unless the caller asked for
 * it by name. Returns -1 with rec filled on failure.
 */
static long target_types(const struct gons_spec *spec, int pidfd, ns_paths paths, struct gons_record *rec)
{
	struct gons_ns_id self[GONS_NTYPES] = { { 0 } }, id;
	unsigned types = 0;
	char dir[32];

	gons_read_self(spec->target_types, self);
	ns_dir_of(spec->target, dir);
	for (int t = 0; t < GONS_NTYPES; t++) {
		gons_stpcpy(gons_stpcpy(paths[t], dir), gons_var_names[t]);
		if (!(spec->target_types & (1u << t)))
			continue;
		if (gons_ns_id_by_pid(pidfd, dir, t, &id) < 0) {
			if (no_ns(spec, t, self[t].ino != 0, paths[t], rec) < 0)
				return -1;
			continue;
		}
		if (!gons_same_ns(&self[t], &id))
			types |= 1u << t;
	}
	return types;
}

/*
 * Records that the setns(2) of the target's pidfd for types failed with
 * err, naming the types, in the default order, in the detail.
 */
GONS_COLD static void setns_failed(struct gons_record *rec, unsigned types, int err)
{
	char *p = rec->detail;

	gons_fail(rec, GONS_OP_SETNS, -1, err, NULL);
	rec->code = GONS_CODE_TARGET_SETNS;
	for (int i = 0; i < GONS_NTYPES; i++)
		if (types & (1u << gons_default_order[i]))
			p = gons_stpcpy(gons_stpcpy(p, gons_var_names[gons_default_order[i]]), ",");
	p[-1] = '\0'; /* types is never empty */
}

/*
 * Joins the namespaces of types of the process pidfd refers to in one
 * setns(2) (Linux 5.8), all or none. Before 5.8 the kernel takes no pidfd
 * there (EINVAL); then it joins them one by one through /proc/PID/ns, as if
 * named by gons_* paths. Returns and leaves *pid_self as gons_switch does.
 */
static int setns_target(int pidfd, unsigned types, ns_paths tp, struct gons_record *rec, int *pid_self)
{
	struct gons_spec paths = { 0 };
	int flags = 0;

	for (int t = 0; t < GONS_NTYPES; t++)
		if (types & (1u << t))
			flags |= gons_clone_flag[t];
	if ((types & (1u << GONS_USER)) && gons_undumpable(GONS_USER, NULL, rec) < 0)
		return 0;
#ifndef GONS_TEST_OLD_KERNEL /* tests build with it to take the other way */
	if (types & (1u << GONS_PID))
		*pid_self = gons_own_pid_ns();
	if (syscall(SYS_setns, pidfd, flags) == 0) {
		for (int i = 0; i < GONS_NTYPES; i++)
			if (types & (1u << gons_default_order[i]))
				rec->joined[rec->njoined++] = gons_default_order[i];
		return (types >> GONS_PID) & 1;
	}
	int err = errno;
	if (*pid_self >= 0) {
		gons_close(*pid_self);
		*pid_self = -1;
	}
	if (err != EINVAL) {
		setns_failed(rec, types, err);
		return 0;
	}
#endif
	/* One by one, as if named by paths, all opened before the first switch. */
	paths.bang = types;
	for (int i = 0; i < GONS_NTYPES; i++) {
		int t = gons_default_order[i];
		if (types & (1u << t)) {
			paths.path[t] = tp[t];
			paths.order[paths.norder++] = t;
		}
	}
	return gons_switch(&paths, rec, pid_self, pidfd);
}

/*
 * Returns 1 when fd is a file of pidfs (Linux 6.9), where a pidfd's inode
 * names one process for the boot's lifetime; before, every pidfd shares
 * the one inode of anon_inodefs. 0 otherwise.
 */
static int on_pidfs(int fd)
{
	struct statfs fs;

#ifdef GONS_TEST_OLD_KERNEL /* tests build with it to take the other way */
	return (void)fd, (void)fs, 0;
#endif
	return gons_fstatfs(fd, &fs) == 0 && fs.f_type == GONS_PID_FS_MAGIC;
}

/*
 * Checks that fd, from gons_target_fd, is a pidfd of process pid. Where the
 * kernel cannot tell which process a pidfd refers to (PIDFD_GET_INFO, Linux
 * 6.13, asked of pidfs files only: fd might be any file), it checks that fd
 * is a pidfd of a live process. Returns 0, or -1 with rec filled.
 */
static int check_target_fd(int fd, int pid, int pidfs, struct gons_record *rec)
{
	struct gons_pidfd_info info = { .mask = GONS_PIDFD_INFO_PID };
	int err = EINVAL;

	if (pidfs && syscall(SYS_ioctl, fd, GONS_PIDFD_GET_INFO, &info) == 0) {
		if ((int)info.pid == pid)
			return 0;
	} else if (syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0 || (err = errno) == EPERM) {
		return 0; /* EPERM: it lives */
	}
	gons_fail(rec, GONS_OP_TARGET, -1, err, NULL);
	if (err != ESRCH) { /* ESRCH: the right process, but gone */
		rec->code = GONS_CODE_NOT_PIDFD;
		rec->index = fd;
	}
	return -1;
}

GONS_HOT int gons_join_target(const struct gons_spec *spec, struct gons_record *rec, int *pid_self)
{
	struct gons_ns_id id;
	int pid = 0, pidfd = spec->target_fd - 1;

	rec->target_pid = spec->target;
	rec->want_inode = spec->inode;
	if (pidfd < 0 && (pidfd = syscall(SYS_pidfd_open, spec->target, 0)) < 0) {
		int err = errno;
		gons_fail(rec, GONS_OP_TARGET, -1, err, NULL);
		return 0;
	}
	int pidfs = on_pidfs(pidfd);
	if (spec->target_fd != 0 && check_target_fd(pidfd, spec->target, pidfs, rec) < 0)
		goto out;
	if (pidfs && gons_ns_id_of(pidfd, &id) == 0)
		rec->target_inode = id.ino;
	if (spec->inode != 0 && spec->inode != rec->target_inode) {
		gons_fail(rec, GONS_OP_TARGET, -1, pidfs ? EINVAL : EOPNOTSUPP, NULL);
		rec->code = pidfs ? GONS_CODE_REUSED_PID : GONS_CODE_NO_PIDFS;
		goto out;
	}
	ns_paths tp;
	long types = target_types(spec, pidfd, tp, rec);
	/* The /proc/PID files read were the target's only if it still lives. */
	if (types < 0 || !gons_target_alive(pidfd, rec) || types == 0)
		goto out;
	pid = setns_target(pidfd, types, tp, rec, pid_self);
out:
	if (spec->target_fd == 0)
		gons_close(pidfd);
	return pid;
}
