/*
 * Declarations shared by the constructor (preinit_linux.c), the parser
 * (env_linux.c) and the Go shim (early_linux.go). Every global symbol
 * carries the gons_ prefix so that the module links next to any other cgo
 * package.
 *
 * The enums are mirrored in status/record.go; TestRecordCodes in package
 * early keeps the two in step.
 */
#ifndef GONS_H
#define GONS_H

#include <stddef.h>

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
	GONS_NVARS,
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
	GONS_CODE_NO_TARGET,      /* gons_target_ns without gons_target */
	GONS_CODE_REUSED_PID,     /* target_pid, want_inode, target_inode; err EINVAL */
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
struct gons_record {
	int ran;                 /* 1 once the constructor has run */
	int njoined;             /* entries used in joined */
	int joined[GONS_NTYPES]; /* types joined, in order */
	int op;                  /* enum gons_op; GONS_OP_NONE: no failure */
	int type;                /* enum gons_type, or -1 */
	int err;                 /* errno, or 0 */
	int code;                /* enum gons_code */
	int index;               /* see enum gons_code */
	int other;               /* see enum gons_code */
	int target_pid;          /* gons_target's PID, or 0 */
	int pad;
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
	unsigned long long inode; /* gons_target's INODE; 0: none */
	unsigned target_types;    /* bit (1 << type): the types to join of the target */
	int set_uid, set_gid;     /* whether gons_uid, gons_gid are set */
	unsigned uid, gid;        /* their values */
	const char *wd, *root;    /* gons_wd, gons_root; NULL: unset */
};

extern struct gons_record gons_record;
extern const char gons_var_names[GONS_NVARS][10];
extern const int gons_default_order[GONS_NTYPES];

int gons_present(char *const *env);
int gons_parse(char *const *env, struct gons_spec *spec, struct gons_record *rec);
void gons_strip(char **env);
void gons_fail(struct gons_record *rec, int op, int type, int err, const char *path);
void gons_copy(char *dst, int size, const char *src, int len);
size_t gons_strnlen(const char *s, size_t max);
char *gons_stpcpy(char *dst, const char *src);

#endif
