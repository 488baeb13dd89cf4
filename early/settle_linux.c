//go:build cgo

/*
 * What comes after the switches: root, working directory, credentials.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "gons.h"
#include "kernel.h"

/*
 * gons_root, then gons_wd (resolved in the mount namespace joined), then
 * the credentials, which come last because dropping them may take the
 * right to do the rest.
 */
/*
 * Returns 1 when setgroups(2) failed with EPERM although the process has
 * CAP_SETGID in its user namespace: the namespace's /proc/PID/setgroups
 * says "deny", to everybody, and the groups stay as they are. 0 otherwise.
 */
GONS_COLD static int groups_denied(void)
{
	struct gons_cap_header hdr = { GONS_CAP_VERSION_3, 0 };
	struct gons_cap_data data[2];

	return syscall(SYS_capget, &hdr, data) == 0 && (data[0].effective & (1u << GONS_CAP_SETGID));
}

GONS_HOT void gons_settle(const struct gons_spec *spec, struct gons_record *rec)
{
	const char *wd = spec->wd != NULL ? spec->wd : spec->root != NULL ? "/" : NULL;

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
	/* Drop the supplementary groups, where the user namespace allows it. */
	if (syscall(SYS_setgroups, 0, NULL) < 0 && !(errno == EPERM && groups_denied())) {
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

GONS_COLD void gons_die(const struct gons_spec *spec, const struct gons_record *rec)
{
	static const char ops[][10] = { "setgroups", "setgid", "setuid" };
	char line[64];
	int op = rec->op, err = rec->err;
	char *p = gons_stpcpy(gons_stpcpy(line, "gons: "), ops[op - GONS_OP_SETGROUPS]);

	if (op != GONS_OP_SETGROUPS)
		p = gons_utoa(gons_stpcpy(p, " "), op == GONS_OP_SETGID ? spec->gid : spec->uid);
	p = gons_stpcpy(p, ": ");
	if (err == EPERM || err == EINVAL)
		p = gons_stpcpy(p, err == EPERM ? "EPERM" : "EINVAL");
	else
		p = gons_utoa(gons_stpcpy(p, "errno "), err);
	*p++ = '\n';
	syscall(SYS_write, 2, line, p - line);
	_exit(125);
}
