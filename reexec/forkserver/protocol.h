/*
 * The messages between a program and its fork server, over a
 * SOCK_SEQPACKET socket: one message per request and per reply, each a
 * header (kind, length of the whole message) and the fields of its kind,
 * in the host's byte order. Descriptors travel as SCM_RIGHTS, never by
 * number: the child's with the request, the child's pidfd with the reply. reexec/internal/spawn mirrors this
 * layout; the checks in forkserver_linux.go keep the two in step.
 */
#ifndef GONS_FS_PROTOCOL_H
#define GONS_FS_PROTOCOL_H

#include <stdint.h>

enum gons_fs_kind {
	GONS_FS_SPAWN = 1,   /* program: fork a child */
	GONS_FS_SPAWNED = 2, /* server: the child's PID, or why there is none */
	GONS_FS_EXEC = 3,    /* program: fork a child that executes a program (package nsexec) */
};

struct gons_fs_hdr {
	uint32_t kind; /* enum gons_fs_kind */
	uint32_t len;  /* of the whole message, header included */
};

/*
 * A spawn request. Its descriptors: the child's 0 to nfds-1 in order
 * (standard input, output and error, then what exec.Cmd.ExtraFiles would
 * pass), then the program's working directory. After the fields, the
 * gons_* variables of the child, each "name=value" and a NUL. The child
 * takes its descriptors, then waits until its socket (descriptor socket)
 * has data before it runs the steps for the variables and starts the
 * program's runtime; it exits when the socket ends without any.
 */
struct gons_fs_spawn {
	struct gons_fs_hdr hdr;
	uint32_t nfds;   /* descriptors the child keeps, 3 or more */
	uint32_t socket; /* which of them is reexec's protocol socket */
};

/*
 * An exec request, answered as a spawn request is. Its descriptors: the
 * child's 0 to nfds-1, then the program's working directory. After the
 * fields, NUL-terminated strings: nvars gons_* variables and package
 * nsexec's marker, the program's name, nargs arguments, and the rest of
 * the message is the program's environment.
 */
struct gons_fs_exec {
	struct gons_fs_hdr hdr;
	uint32_t nfds;
	uint32_t nvars;
	uint32_t nargs;
	uint32_t flags; /* GONS_FS_EXEC_* */
};

/*
 * The child of the exec request forks nothing before it executes the
 * program (it enters no PID namespace): the server may clone it sharing
 * its memory, and wait until it has executed the program or exited, as
 * vfork(2) does, without a copy of its address space.
 */
#define GONS_FS_EXEC_SHARE 1u

/*
 * The reply to a spawn or an exec request. With it, as SCM_RIGHTS, the
 * child's pidfd where the kernel made one (CLONE_PIDFD, Linux 5.2).
 */
struct gons_fs_reply {
	struct gons_fs_hdr hdr;
	int32_t pid; /* the child's PID, a child of the program; 0: none */
	int32_t err; /* errno of the failure when pid is 0 */
};

#define GONS_FS_MAX_FDS  64         /* descriptors of a request, the directory included */
#define GONS_FS_MAX_VARS 32         /* gons_* variables of a request */
#define GONS_FS_MAX_MSG  (64 << 10) /* bytes of a request */

#endif
