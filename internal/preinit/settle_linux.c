//go:build cgo

/*
 * What comes after the switches: root, working directory, credentials.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
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
 * The steps, in order: gons_root, then "/" right after it, so that nothing
 * after the chroot resolves against a directory outside the new root (a
 * relative gons_wd would otherwise start from the caller's directory, and
 * reach outside), then gons_wd (resolved in the mount namespace joined,
 * under the root), then the credentials, which come last because dropping
 * them may take the right to do the rest. Each is one system call that
 * takes its one argument three times: chroot and chdir ignore the others,
 * setgroups(0, NULL) drops the supplementary groups, and setresgid and
 * setresuid set all three IDs. One table and one loop cost less code than
 * a branch for each.
 */
static const struct {
	unsigned char op;
	short nr;
} steps[] = {
	{ GONS_OP_CHROOT, SYS_chroot },         { GONS_OP_CHDIR, SYS_chdir },
	{ GONS_OP_CHDIR, SYS_chdir },           { GONS_OP_SETGROUPS, GONS_SYS_SETGROUPS },
	{ GONS_OP_SETGID, GONS_SYS_SETRESGID }, { GONS_OP_SETUID, GONS_SYS_SETRESUID },
};

/* The steps that take a path: root, "/", wd. */
#define PATH_STEPS 3

/*
 * A change of credentials clears the parent-death signal, and a caller
 * that dies then leaves the process running, an orphan with the
 * credentials it asked for. Sets the signal sig again and, where the
 * parent, ppid, died before that took effect, dies as the signal would
 * have made it: SIGKILL, which nothing blocks, as the relay's child does.
 */
static void keep_pdeathsig(int sig, long ppid)
{
	if (sig == 0)
		return;
	syscall(SYS_prctl, PR_SET_PDEATHSIG, sig, 0, 0, 0);
	if (syscall(SYS_getppid) != ppid)
		syscall(SYS_kill, syscall(SYS_getpid), SIGKILL);
}

GONS_HOT void gons_settle(const struct gons_spec *spec, struct gons_record *rec)
{
	long arg[] = { (long)spec->root, (long)"/", (long)spec->wd, 0, spec->gid, spec->uid };
	int creds = spec->set_uid || spec->set_gid;
	int on[] = { spec->root != NULL, spec->root != NULL, spec->wd != NULL, creds,
		     spec->set_gid,      spec->set_uid };
	int sig = 0;
	long ppid = 0;

	if (creds) {
		syscall(SYS_prctl, PR_GET_PDEATHSIG, &sig, 0, 0, 0);
		ppid = syscall(SYS_getppid);
	}
	for (int i = 0; i < (int)(sizeof(steps) / sizeof(steps[0])); i++) {
		if (!on[i] || syscall(steps[i].nr, arg[i], arg[i], arg[i]) == 0)
			continue;
		int err = errno;
		/* The supplementary groups are dropped where the user namespace allows it. */
		if (steps[i].op == GONS_OP_SETGROUPS && err == EPERM && groups_denied())
			continue;
		gons_fail(rec, steps[i].op, -1, err, i < PATH_STEPS ? (const char *)arg[i] : NULL);
		break;
	}
	/* After a failed drop too: setresgid may have changed the group. */
	keep_pdeathsig(sig, ppid);
}

/* Writes err to p as EPERM, EINVAL or "errno N". Returns the end. */
GONS_COLD static char *errno_name(char *p, int err)
{
	if (err == EPERM || err == EINVAL)
		return gons_stpcpy(p, err == EPERM ? "EPERM" : "EINVAL");
	return gons_utoa(gons_stpcpy(p, "errno "), err);
}

GONS_COLD void gons_die(const struct gons_spec *spec, const struct gons_record *rec)
{
	/* The names of the ops from GONS_OP_PARSE on, one after the other: no padding. */
	static const char ops[] = "parse\0secure\0open\0check\0setns\0fork\0"
	                          "target\0chroot\0chdir\0setgroups\0setgid\0setuid";
	char line[96];
	int op = rec->op, err = rec->err;
	const char *name = ops;

	for (int i = GONS_OP_PARSE; i < op; i++)
		name += gons_strnlen(name, sizeof(ops)) + 1;
	char *p = gons_stpcpy(gons_stpcpy(line, "gons: "), name);

	if (op == GONS_OP_SETGID || op == GONS_OP_SETUID)
		p = gons_utoa(gons_stpcpy(p, " "), op == GONS_OP_SETGID ? spec->gid : spec->uid);
	else if (rec->type >= 0)
		p = gons_stpcpy(gons_stpcpy(p, " "), gons_var_names[rec->type]);
	if (err != 0)
		p = errno_name(gons_stpcpy(p, ": "), err);
	else if (op == GONS_OP_PARSE)
		p = gons_stpcpy(p, ": bad gons_* variables");
	/* A step before the drop failed: say that the drop did not happen. */
	if (op < GONS_OP_SETGROUPS)
		p = gons_stpcpy(p, "; privileges not dropped");
	*p++ = '\n';
	syscall(SYS_write, 2, line, p - line);
	_exit(125);
}
