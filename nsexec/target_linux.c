//go:build cgo

/*
 * The Target step of package nsexec when the package opened the pidfd
 * itself, by pidfd_open(2) of Target's PID: a lighter way to the same
 * joins as early's (gons_join_target), which takes any descriptor as
 * gons_target_fd and must first check that it is a pidfd of that process
 * (PIDFD_GET_INFO), then compares each type asked for with the caller's
 * own. Here the pidfd names the process by construction, and a type is
 * compared only where joining one's own namespace is not harmless:
 *
 *   mnt   resets root and working directory
 *   pid   forks the program behind a relay for nothing
 *   user  fails (EINVAL), and with it the whole setns(2)
 *   time  fails in a child that shares the caller's memory (EUSERS)
 *
 * Joining one's own cgroup, ipc, net or uts namespace changes nothing when
 * it succeeds. It fails without the privilege over it (EPERM): whatever
 * the one setns(2) of the pidfd refuses, it refuses whole, and the step
 * then starts over as early's, which finds what to leave out and reports
 * what still fails. The step ends where early's does: a zombie or a kernel
 * thread is no target (gons_target_alive), and a target that exits or
 * whose PID is reused is refused by the setns(2) through its pidfd
 * (ESRCH), never joined in part.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "exec.h"
#include "gons.h"
#include "kernel.h"

/* The types compared with the caller's own before a join. */
#define COMPARED ((1u << GONS_MNT) | (1u << GONS_PID) | (1u << GONS_USER) | (1u << GONS_TIME))

unsigned long long gons_ns_link(const char *path)
{
	char link[48];
	unsigned long long ino = 0;
	long n = syscall(SYS_readlinkat, AT_FDCWD, path, link, sizeof(link) - 1);

	if (n <= 0)
		return 0;
	link[n] = '\0';
	const char *p = link;
	while (*p != '\0' && *p != '[')
		p++;
	if (*p == '\0')
		return 0;
	while (*++p >= '0' && *p <= '9')
		ino = ino * 10 + (*p - '0');
	return *p == ']' ? ino : 0;
}

/*
 * Returns the inode of the caller's namespace of type t, or 0 when
 * unknown. /proc/self is this process in any procfs, or not there
 * (ENOENT).
 */
static unsigned long long own_ns(int t)
{
	char path[32];

	gons_stpcpy(gons_stpcpy(path, "/proc/self/ns/"), gons_var_names[t]);
	return gons_ns_link(path);
}

/*
 * Returns the types of types to join: those whose namespace differs from
 * the caller's, of the types COMPARED, and all the others. -1 when one
 * cannot be told, the kernel's lacking the type among the reasons: early's
 * step sorts those out.
 */
static long to_join(int pid, int pidfd, unsigned types)
{
	char dir[32];
	struct gons_ns_id id;
	unsigned long long own;

	gons_stpcpy(gons_utoa(gons_stpcpy(dir, "/proc/"), pid), "/ns/");
	for (int t = 0; t < GONS_NTYPES; t++) {
		if (!(types & COMPARED & (1u << t)))
			continue;
		/* Through the pidfd, or, before Linux 6.11, /proc (checked alive after). */
		if ((own = own_ns(t)) == 0 || gons_ns_id_by_pid(pidfd, dir, t, &id) < 0)
			return -1;
		if (id.ino == own) /* nsfs numbers every namespace apart */
			types &= ~(1u << t);
	}
	return types;
}

int gons_exec_target(int pid, int pidfd, unsigned types, struct gons_record *rec, int *pid_self)
{
	int flags = 0;
	long join = to_join(pid, pidfd, types);

	rec->target_pid = pid;
	if (join < 0)
		goto early;
	/* The /proc files read were the target's only if it still lives. */
	if (!gons_target_alive(pidfd, rec) || join == 0)
		return 0;
	for (int t = 0; t < GONS_NTYPES; t++)
		if (join & (1u << t))
			flags |= gons_clone_flag[t];
	if ((join & (1u << GONS_USER)) && gons_undumpable(GONS_USER, NULL, rec) < 0)
		return 0;
	if (join & (1u << GONS_PID))
		*pid_self = gons_own_pid_ns();
	if (syscall(SYS_setns, pidfd, flags) == 0) {
		for (int i = 0; i < GONS_NTYPES; i++)
			if (join & (1u << gons_default_order[i]))
				rec->joined[rec->njoined++] = gons_default_order[i];
		return (join >> GONS_PID) & 1;
	}
	if (*pid_self >= 0) {
		gons_close(*pid_self);
		*pid_self = -1;
	}
early:;
	/* All or none was joined: early's step, from the start. */
	struct gons_spec spec = { .target = pid, .target_fd = pidfd + 1, .target_types = types };
	return gons_join_target(&spec, rec, pid_self);
}
