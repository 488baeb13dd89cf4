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
GONS_HOT void gons_settle(const struct gons_spec *spec, struct gons_record *rec)
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
