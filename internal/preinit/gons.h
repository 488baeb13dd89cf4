/*
 * The contract between the C files of the constructor, one per step before
 * the Go runtime starts, and the Go shim (preinit_linux.go). They live in
 * package internal/preinit, which both early (whose import opts a program
 * in: optin_linux.c there) and reexec (for its children) link:
 *
 *   preinit_linux.c  the constructor: opt-in, secure check, parse, dispatch
 *   env_linux.c      parsing and stripping the gons_* variables
 *   ns_linux.c       opening namespace files and telling them apart
 *   switch_linux.c   joining namespaces by path, in order
 *   target_linux.c   joining the namespaces of a process, by PID
 *   settle_linux.c   root, working directory, credentials
 *   relay_linux.c    the fork into a PID namespace and the relay
 *
 * The steps take what they work on as arguments (a spec and a record), not
 * globals, so that a caller other than the constructor, a fork server say,
 * can run them once per request. Every global symbol carries the gons_
 * prefix so that the module links next to any other cgo package.
 *
 * The enums are mirrored in status/record.go; TestRecordCodes in package
 * status keeps the two in step.
 */
#ifndef GONS_H
#define GONS_H

/*
 * GCC's -Os still copies small functions into each caller; calling them
 * costs a few cycles next to system calls that cost microseconds, and
 * copying them costs the binary 180 bytes (glibc) to 580 (musl). cgo
 * refuses the flag on its command line, hence the pragma.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-inline-small-functions")
#endif

#include <stddef.h>

/*
 * Everything declared here stays inside the program: hidden, GCC calls
 * and reaches it directly, where -fPIC would otherwise go through the PLT
 * and the GOT for a symbol another module might interpose.
 */
#pragma GCC visibility push(hidden)

/* Namespace types, in the index order of status.typeNames. */
enum gons_type {
	GONS_CGROUP,
	GONS_IPC,
	GONS_MNT,
	GONS_NET,
	GONS_PID,
	GONS_TIME,
	GONS_USER,
	GONS_UTS,
	GONS_NTYPES,
};

/* The gons_* variables: the eight types, then these. */
enum gons_var {
	GONS_VAR_ORDER = GONS_NTYPES,
	GONS_VAR_TARGET,
	GONS_VAR_TARGET_NS,
	GONS_VAR_UID,
	GONS_VAR_GID,
	GONS_VAR_WD,
	GONS_VAR_ROOT,
	GONS_VAR_TARGET_FD,
	GONS_VAR_ERRORS,
	GONS_NVARS,
	GONS_VAR_REEXEC_FD = GONS_NVARS, /* GONS_REEXEC_FD, not a gons_* variable; in records only */
};

/* The step that failed. */
enum gons_op {
	GONS_OP_NONE,
	GONS_OP_PARSE,
	GONS_OP_SECURE,
	GONS_OP_OPEN,
	GONS_OP_CHECK,
	GONS_OP_SETNS,
	GONS_OP_FORK,
	GONS_OP_TARGET,
	GONS_OP_CHROOT,
	GONS_OP_CHDIR,
	GONS_OP_SETGROUPS,
	GONS_OP_SETGID,
	GONS_OP_SETUID,
	GONS_OP_EXEC, /* package nsexec's step: finding or executing the program */
};

/* Why parsing or checking failed, where errno alone does not say. */
enum gons_code {
	GONS_CODE_NONE,
	GONS_CODE_UNKNOWN_VAR,    /* detail: the variable's name */
	GONS_CODE_DUPLICATE_VAR,  /* detail: the variable's name */
	GONS_CODE_EMPTY_ITEM,     /* other: the list variable; index: position, from 1 */
	GONS_CODE_BANG_ALONE,     /* other: the list variable; index: position, from 1 */
	GONS_CODE_UNKNOWN_TYPE,   /* other: the list variable; detail: the item */
	GONS_CODE_DUPLICATE_TYPE, /* other: the list variable; type */
	GONS_CODE_NOT_IN_ORDER,   /* type */
	GONS_CODE_PATH_TOO_LONG,  /* other: the variable; path cut short, err ENAMETOOLONG */
	GONS_CODE_WRONG_TYPE,     /* type, path, other: what the file really is */
	GONS_CODE_NOT_NAMESPACE,  /* type, path, err from NS_GET_NSTYPE */
	GONS_CODE_BAD_NUMBER,     /* other: the variable; detail: its value */
	GONS_CODE_CONFLICT,       /* other: the variable set next to gons_target */
	GONS_CODE_NO_TARGET,      /* other: gons_target_ns or gons_target_fd, set without gons_target */
	GONS_CODE_REUSED_PID,     /* target_pid, want_inode, target_inode; err EINVAL */
	GONS_CODE_NOT_PIDFD,      /* gons_target_fd, index: N, is no pidfd of target_pid; err */
	GONS_CODE_NO_PIDFS,       /* INODE given where pidfds have no inodes of their own */
	GONS_CODE_TARGET_SETNS,   /* target_pid; detail: the types, joined by ","; err */
	GONS_NCODES,
};

/*
 * GONS_HOT marks the functions on the way of a switch: the compiler puts
 * them in .text.hot, which the linker groups, so that a switch faults in
 * as few pages of code as it can; each fault costs about as much as a
 * system call. GONS_COLD marks those of failures, which it moves away.
 */
#define GONS_HOT  __attribute__((hot))
#define GONS_COLD __attribute__((cold))

#define GONS_PATH_MAX   4096 /* PATH_MAX, including the NUL */
#define GONS_DETAIL_MAX 256

/*
 * What happened, for package status. Fixed size, so the constructor never
 * allocates; status reads it in place through a mirror of this layout.
 */
/* Values of gons_record.ran. */
enum gons_ran {
	GONS_RAN_STEERED = 1, /* the constructor ran and the variables were this process's */
	GONS_RAN_IGNORED = 2, /* it ran in a program that did not opt in: they were left alone */
};

struct gons_record {
	int ran;                         /* enum gons_ran once the constructor has run; 0 before */
	int njoined;                     /* entries used in joined */
	int joined[GONS_NTYPES];         /* types joined, in order */
	int op;                          /* enum gons_op; GONS_OP_NONE: no failure */
	int type;                        /* enum gons_type, or -1 */
	int err;                         /* errno, or 0 */
	int code;                        /* enum gons_code */
	int index;                       /* see enum gons_code */
	int other;                       /* see enum gons_code */
	int target_pid;                  /* gons_target's PID, or 0 */
	int reexec_fd;                   /* GONS_REEXEC_FD's N + 1, or 0: none */
	unsigned long long target_inode; /* the inode of the target's pidfd, or 0 */
	unsigned long long want_inode;   /* the inode gons_target asked for, or 0 */
	char path[GONS_PATH_MAX];        /* see enum gons_code; cut short if need be */
	char detail[GONS_DETAIL_MAX];
};

/* What the environment asks for; the paths point into the environment. */
struct gons_spec {
	const char *path[GONS_NTYPES]; /* NULL: not asked for */
	int order[GONS_NTYPES];        /* types to switch, in order */
	int norder;
	unsigned bang; /* bit (1 << type): open before the first switch */

	int target;               /* gons_target's PID; 0: none */
	int target_fd;            /* gons_target_fd's N + 1, a pidfd of target; 0: none */
	unsigned long long inode; /* gons_target's INODE; 0: none */
	unsigned target_types;    /* bit (1 << type): the types to join of the target */
	int set_uid, set_gid;     /* whether gons_uid, gons_gid are set */
	unsigned uid, gid;        /* their values */
	const char *wd, *root;    /* gons_wd, gons_root; NULL: unset */
	int errors_status;        /* gons_errors=status: a failure is the program's to handle */
	int drop;                 /* gons_uid or gons_gid is set, even where parsing failed */
};

/* A namespace, as the inode of its nsfs file. ino 0: unknown. */
struct gons_ns_id {
	unsigned dev_major, dev_minor;
	unsigned long long ino;
};

/*
 * The types whose own namespace is checked before joining: joining one's
 * own mount namespace resets root and working directory, and one's own
 * PID namespace would fork for nothing. Joining one's own user namespace
 * fails (EINVAL), which is checked only then; joining any other namespace
 * one is in changes nothing. Each check costs a few system calls, or,
 * before Linux 6.11, a /proc lookup, about as much as the switch itself.
 */
#define GONS_SELF_CHECKED ((1u << GONS_MNT) | (1u << GONS_PID))

/* What the constructor did, for package status (preinit_linux.c). */
extern struct gons_record gons_record;

/* env_linux.c: the variables, parsing and stripping. */
extern const char gons_var_names[GONS_NVARS][10];
extern const int gons_default_order[GONS_NTYPES];

/* Returns 1 when env holds a gons_* variable or GONS_REEXEC_FD, 0 otherwise. */
int gons_present(char *const *env);
/* Returns GONS_REEXEC_FD's N, or -1 when env has none or it is no such number. */
int gons_reexec_fd(char *const *env);
/*
 * Reads the gons_* variables of env into spec, which must be zeroed, and
 * GONS_REEXEC_FD into rec->reexec_fd. Returns 0 when there are no gons_*
 * variables, 1 when spec holds what they ask for, -1 when they or
 * GONS_REEXEC_FD are malformed and rec says why; then spec still says
 * whether a drop was asked for (drop) and gons_errors=status.
 */
int gons_parse(char *const *env, struct gons_spec *spec, struct gons_record *rec);
/*
 * Returns the descriptor N of s, when s is gons_target_fd=N and N a number
 * that variable takes; -1 otherwise. After a parse failure the constructor
 * closes each such descriptor of the environment: which one the caller
 * meant is not known, and each was handed over to be closed.
 */
int gons_target_fd_of(const char *s);
/*
 * Removes the gons_* and GONS_REEXEC_FD entries from env in place and
 * overwrites their values;
 * env keeps its length, with empty strings in front. Returns the first
 * kept entry: env without those fillers.
 */
char **gons_strip(char **env);
/* Records a failure of op for type (or -1) with err, on path (or NULL). */
void gons_fail(struct gons_record *rec, int op, int type, int err, const char *path);
/* Copies len bytes of src to dst of size bytes, NUL-terminated, cut with "...". */
void gons_copy(char *dst, int size, const char *src, int len);
/* Returns the length of s, but at most max. */
size_t gons_strnlen(const char *s, size_t max);
/* Copies src with its NUL to dst. Returns the end of dst, at its NUL. */
char *gons_stpcpy(char *dst, const char *src);
/* Writes n in decimal to dst, without a NUL. Returns the end. */
char *gons_utoa(char *dst, unsigned n);

/* ns_linux.c: namespace files. */

/* Closes fd: one function for the many places that close costs less code than a syscall(2) at each. */
void gons_close(int fd);

/* The CLONE_NEW* flag of each type. */
extern const int gons_clone_flag[GONS_NTYPES];

/* Reads the identity of the namespace file fd. Returns 0, or -1 with errno set. */
int gons_ns_id_of(int fd, struct gons_ns_id *id);
/*
 * Opens spec's path of type t and checks that it is a namespace of that
 * type. Returns the fd, or -1 with rec filled.
 */
int gons_ns_open(const struct gons_spec *spec, int t, struct gons_record *rec);
/*
 * Reads the identity of the namespace of type t of the process pidfd
 * refers to, or, where the kernel cannot tell through a pidfd, of dir
 * followed by the type's name (dir: /proc/self/ns/ or /proc/PID/ns/).
 * Returns 0, or -1 with errno set.
 */
int gons_ns_id_by_pid(int pidfd, const char *dir, int t, struct gons_ns_id *id);
/*
 * Reads which namespaces of the given types (bits 1 << type) the process
 * is in into self; one it cannot tell stays unknown (ino 0).
 */
void gons_read_self(unsigned types, struct gons_ns_id *self);
/* Opens the PID namespace the process is in. Returns the fd, or -1. */
int gons_own_pid_ns(void);
/* Returns 1 when a and b are the same namespace, 0 when not or unknown. */
int gons_same_ns(const struct gons_ns_id *a, const struct gons_ns_id *b);
/* Returns 1 when fd is the namespace self, 0 when not or unknown. */
int gons_is_self(int fd, const struct gons_ns_id *self);

/* switch_linux.c: joins by path. */

/*
 * Makes the process non-dumpable before it joins a user namespace. Returns
 * 0, or -1 with rec filled (op setns, type, path).
 */
int gons_undumpable(int type, const char *path, struct gons_record *rec);
/*
 * Joins the namespaces of spec in spec's order, stopping at the first
 * failure, which it records in rec. pidfd: -1, or a pidfd of the process
 * whose /proc/PID/ns files spec's paths are, which must still live once
 * they are open. Closes every fd it opens, but for *pid_self (-1 on
 * entry): returns 1 when it joined a PID namespace, with *pid_self an fd
 * of the PID namespace the process was in (or -1), for
 * gons_fork_into_pid; returns 0 otherwise.
 */
int gons_switch(const struct gons_spec *spec, struct gons_record *rec, int *pid_self, int pidfd);

/* target_linux.c: joins by PID. */

/*
 * Reports whether the process pidfd refers to still lives. Returns 1, or 0
 * with rec filled (op target, ESRCH).
 */
int gons_target_alive(int pidfd, struct gons_record *rec);
/*
 * Joins the namespaces of spec->target's process of the types
 * spec->target_types, those that differ from the caller's, through
 * spec->target_fd (checked, left open: the caller closes it) or a pidfd it
 * opens. Returns and leaves *pid_self as gons_switch does; failures are in
 * rec.
 */
int gons_join_target(const struct gons_spec *spec, struct gons_record *rec, int *pid_self);

/* settle_linux.c */

/*
 * After the switches: spec's root (and "/" in it), working directory and
 * credentials, in that order, stopping at the first failure, which it
 * records in rec. Sets the parent-death signal again after a change of
 * credentials, which clears it.
 */
void gons_settle(const struct gons_spec *spec, struct gons_record *rec);
/*
 * After a step failed where a privilege drop was asked for: writes one
 * line to stderr, "gons: <op> <ID>: <errno>" for a failed drop, "gons: <op>
 * [<type>][: <errno>]; privileges not dropped" for a step before it, and
 * exits with status 125. Never returns.
 */
void gons_die(const struct gons_spec *spec, const struct gons_record *rec) __attribute__((noreturn));

/* preinit_linux.c */

/*
 * Runs the steps the gons_* variables of env ask for, as the constructor
 * does: the secure-mode refusal, parsing, the joins, then root, working
 * directory and credentials (exiting where any step failed and a privilege
 * drop was asked for, unless gons_errors=status), and closes
 * gons_target_fd (every one named, after a parse failure). Records what happened in
 * rec. Returns 1 when a PID namespace was joined, with *pid_self as
 * gons_switch leaves it, for gons_fork_into_pid; 0 otherwise.
 */
int gons_steps(char **env, struct gons_record *rec, int *pid_self);

/* relay_linux.c */

/*
 * Forks after a PID join: the child returns and goes on in the namespace;
 * the parent relays signals to it and exits as it does, never returning.
 * self is an fd of the PID namespace the process was in, or -1, which it
 * closes. When the fork fails, it records that in rec (unless rec holds a
 * failure already), leaves the PID namespace again and returns, or exits
 * with 127 where it cannot leave. The relay closes every descriptor from
 * 3 up: it holds none of the program's open.
 */
void gons_fork_into_pid(int self, struct gons_record *rec);

#pragma GCC visibility pop

#endif
