/*
 * The exec step of package nsexec (exec_linux.c), shared with the fork
 * server, which runs it in its children. The flags and the marker's
 * layout are mirrored in nsexec/start_linux.go.
 */
#ifndef GONS_EXEC_H
#define GONS_EXEC_H

#include "gons.h"

/* Flags of the marker. */
enum {
	GONS_EXEC_CRED = 1,     /* take gid and uid, and the groups unless NOGROUPS */
	GONS_EXEC_NOGROUPS = 2, /* leave the supplementary groups as they are */
	GONS_EXEC_NOFORK = 4,   /* a PID namespace joined: no fork, only the program's children enter it */
	GONS_EXEC_BYFD = 8,     /* execute progfd, opened by the caller, not a path */
	GONS_EXEC_TARGET = 16,  /* join the namespaces of target through tfd, a pidfd the caller opened */
};

#define GONS_EXEC_MAX_GROUPS 65536 /* NGROUPS_MAX */

/* What the marker asks for besides early's gons_* variables. */
struct gons_exec {
	int errfd;  /* the error pipe's write end */
	int flags;  /* GONS_EXEC_* */
	int progfd; /* the program, with GONS_EXEC_BYFD */
	unsigned uid, gid;
	int target, tfd; /* with GONS_EXEC_TARGET: the PID, and the pidfd the caller opened of it */
	unsigned ttypes; /* with GONS_EXEC_TARGET: bits (1 << type), the types to join */
	int ngroups;     /* the groups are in exec_linux.c's table */
};

/*
 * Parses the marker's value, "ERRFD,FLAGS,PROGFD,UID,GID[,TARGET,TFD,TTYPES][,GROUP...]"
 * (TARGET... with GONS_EXEC_TARGET), into x. Returns 0, or -1 when malformed.
 */
int gons_exec_parse(const char *s, struct gons_exec *x);

/*
 * Joins the namespaces of the types types (bits 1 << type; all of them:
 * every one the kernel has) of process pid, through pidfd, which the
 * caller opened of it (target_linux.c): early's gons_join_target, lighter.
 * Leaves pidfd open. Returns and leaves *pid_self as gons_switch does;
 * failures are in rec.
 */
int gons_exec_target(int pid, int pidfd, unsigned types, struct gons_record *rec, int *pid_self);

/*
 * Returns the inode of the namespace the link path of /proc names,
 * "TYPE:[INODE]", or 0 when unknown (target_linux.c). Reading the link
 * spares the nsfs file that opening it (or PIDFD_GET_<TYPE>_NAMESPACE)
 * makes, which costs a few microseconds more; nsfs numbers every
 * namespace apart.
 */
unsigned long long gons_ns_link(const char *path);

/*
 * Runs the Target step of x, then early's steps for the gons_* variables
 * of env, takes the credentials, removes the gons_* entries from env,
 * forks into a PID namespace joined unless x says not to, and executes
 * name with argv and env. Never returns: a failure is written to x->errfd and the process
 * exits.
 */
void gons_exec_run(char **env, const char *name, char *const *argv, const struct gons_exec *x,
                   struct gons_record *rec) __attribute__((noreturn));

/*
 * Takes package nsexec's marker out of env, which also holds the gons_*
 * variables and the program's environment, and runs gons_exec_run for
 * it; rec may hold a failure already, which is then reported. Called by
 * the fork server's child. Never returns.
 */
void gons_exec_forked(char **env, const char *name, char *const *argv, struct gons_record *rec)
        __attribute__((noreturn));

/* Called by this package's constructor, ahead of early's (exec_linux.c). */
void gons_exec_start(struct gons_record *rec);

/*
 * A start from the calling thread (direct_linux.c): the block Go fills,
 * in C memory, which the child shares until it executes the program.
 */
struct gons_direct {
	char **env;       /* early's variables, the marker, the program's environment */
	const char *name; /* the program */
	char **argv;
	int *fds; /* the program's descriptors 0, 1, 2, 3... (the child rearranges them) */
	int nfds;
	int check;  /* bits (1 << type): decline when the target's namespace of that type differs */
	int pidfd;  /* the target's, for check */
	int pid;    /* the target's PID, for check; out: the child's */
	int shared; /* set by the child: its memory is the caller's (qemu-user makes a fork of it) */
	struct gons_record rec; /* the child's failure, read in place */
};

/* Values of gons_direct_start. */
enum {
	GONS_DIRECT_STARTED = 0,  /* the program runs, or rec says why not */
	GONS_DIRECT_DECLINED = 1, /* a type of check differs: nothing was started */
};

/*
 * Clones the calling thread, sharing its memory until the child executes
 * the program or exits, as vfork(2). Returns a GONS_DIRECT_* value, or -1
 * with errno when the clone failed.
 */
int gons_direct_start(struct gons_direct *d);

/* Saves what the program started with, for the direct children (the constructor calls it). */
void gons_direct_init(void);

#endif
