//go:build cgo

/*
 * Joining namespaces by path, in the order the caller gives: every "!"
 * path is opened and checked before the first switch, the others right
 * before their own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "gons.h"
#include "kernel.h"

/*
 * Non-dumpable, root of the user namespace joined cannot ptrace the
 * process or open its /proc files once it is a member (cf. CVE-2019-5736).
 */
GONS_HOT int gons_undumpable(int type, const char *path, struct gons_record *rec)
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
	if (t == GONS_USER && gons_undumpable(t, path, rec) < 0)
		return -1;
	if (syscall(SYS_setns, fd, gons_clone_flag[t]) < 0) {
		int err = errno;
		if (err == EINVAL && t == GONS_USER) {
			struct gons_ns_id self[GONS_NTYPES] = { { 0 } };
			gons_read_self(1u << t, self);
			if (gons_is_self(fd, &self[t]))
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
			gons_close(fd[t]);
			fd[t] = -1;
		}
}

/*
 * Opens and checks every "!" path of spec, while paths resolve as the
 * caller sees them, into fd; if one is bad, nothing has been switched yet.
 * Returns 0, or -1 with rec filled.
 */
GONS_HOT static int open_bang(const struct gons_spec *spec, int *fd, struct gons_record *rec)
{
	for (int i = 0; i < spec->norder; i++) {
		int t = spec->order[i];
		if ((spec->bang & (1u << t)) && (fd[t] = gons_ns_open(spec, t, rec)) < 0)
			return -1;
	}
	return 0;
}

GONS_HOT int gons_switch(const struct gons_spec *spec, struct gons_record *rec, int *pid_self, int pidfd)
{
	int pid = 0;
	struct gons_ns_id self[GONS_NTYPES] = { { 0 } };
	int fd[GONS_NTYPES];
	unsigned types = 0;

	if (spec->norder == 0)
		return 0; /* every variable was empty */
	for (int t = 0; t < GONS_NTYPES; t++)
		fd[t] = -1;
	for (int i = 0; i < spec->norder; i++)
		types |= 1u << spec->order[i];
	gons_read_self(types & GONS_SELF_CHECKED, self);
	if (open_bang(spec, fd, rec) < 0)
		goto out;
	/* A PID reused after the opens would have failed this. */
	if (pidfd >= 0 && !gons_target_alive(pidfd, rec))
		goto out;
	for (int i = 0; i < spec->norder; i++) {
		int t = spec->order[i];
		if (fd[t] < 0 && (fd[t] = gons_ns_open(spec, t, rec)) < 0)
			goto out;
		if ((GONS_SELF_CHECKED & (1u << t)) && gons_is_self(fd[t], &self[t])) {
			gons_close(fd[t]);
			fd[t] = -1;
			continue;
		}
		if (t == GONS_PID)
			*pid_self = gons_own_pid_ns();
		if (join(fd[t], t, spec->path[t], rec) < 0)
			goto out;
		pid |= t == GONS_PID;
		gons_close(fd[t]);
		fd[t] = -1;
	}
out:
	close_all(fd);
	if (!pid && *pid_self >= 0) {
		gons_close(*pid_self);
		*pid_self = -1;
	}
	return pid;
}
