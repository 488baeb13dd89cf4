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

/*
 * The steps, in order: gons_root, then gons_wd (resolved in the mount
 * namespace joined), then the credentials, which come last because
 * dropping them may take the right to do the rest. Each is one system
 * call that takes its one argument three times: chroot and chdir ignore
 * the others, setgroups(0, NULL) drops the supplementary groups, and
 * setresgid and setresuid set all three IDs. One table and one loop cost
 * less code than a branch for each.
 */
static const struct {
	unsigned char op;
	short nr;
} steps[] = {
	{ GONS_OP_CHROOT, SYS_chroot },
	{ GONS_OP_CHDIR, SYS_chdir },
	{ GONS_OP_SETGROUPS, GONS_SYS_SETGROUPS },
	{ GONS_OP_SETGID, GONS_SYS_SETRESGID },
	{ GONS_OP_SETUID, GONS_SYS_SETRESUID },
};

GONS_HOT void gons_settle(const struct gons_spec *spec, struct gons_record *rec)
{
	const char *wd = spec->wd != NULL ? spec->wd : spec->root != NULL ? "/" : NULL;
	long arg[] = { (long)spec->root, (long)wd, 0, spec->gid, spec->uid };
	int on[] = { spec->root != NULL, wd != NULL, spec->set_uid || spec->set_gid, spec->set_gid,
		     spec->set_uid };

	for (int i = 0; i < (int)(sizeof(steps) / sizeof(steps[0])); i++) {
		if (!on[i] || syscall(steps[i].nr, arg[i], arg[i], arg[i]) == 0)
			continue;
		int err = errno;
		/* The supplementary groups are dropped where the user namespace allows it. */
		if (steps[i].op == GONS_OP_SETGROUPS && err == EPERM && groups_denied())
			continue;
		gons_fail(rec, steps[i].op, -1, err, i < 2 ? (const char *)arg[i] : NULL);
		return;
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
