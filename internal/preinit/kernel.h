/*
 * Numbers and structures of the kernel for the C files of the switch. The
 * system call numbers, CLONE_NEW* flags and ioctl encodings come from the
 * C library's headers (glibc 2.36 and musl 1.2.3 have them all), which
 * know the architecture: ioctl numbers differ between architectures
 * (_IOC_NONE is 1 on mips and powerpc, 0 elsewhere), and so do system
 * call numbers (mips adds 4000, 5000 or 6000). What those headers lack
 * (musl has none of the kernel's linux/ headers) is written out below in
 * types of fixed size only, so that its layout is the same on every
 * architecture, and the _Static_asserts hold each layout to the kernel's
 * ABI wherever it is compiled; cross-compiling checks the other
 * architectures (see CONTRIBUTING.md).
 */
#ifndef GONS_KERNEL_H
#define GONS_KERNEL_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

/*
 * On 32-bit x86 and arm, setresuid(2), setresgid(2) and setgroups(2) take
 * 16-bit IDs; their ...32 variants take the full ones that the plain
 * names take elsewhere (the C library's wrappers pick them the same way).
 */
#ifdef SYS_setresuid32
#define GONS_SYS_SETRESUID SYS_setresuid32
#define GONS_SYS_SETRESGID SYS_setresgid32
#define GONS_SYS_SETGROUPS SYS_setgroups32
#else
#define GONS_SYS_SETRESUID SYS_setresuid
#define GONS_SYS_SETRESGID SYS_setresgid
#define GONS_SYS_SETGROUPS SYS_setgroups
#endif

/*
 * The first fields of struct clone_args of <linux/sched.h> (Linux 5.3),
 * CLONE_ARGS_SIZE_VER0: all that clone3(2) needs to clone a process, in
 * one layout on every architecture, where clone(2)'s arguments come in
 * one of three orders.
 */
struct gons_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};
_Static_assert(sizeof(struct gons_clone_args) == 64, "struct clone_args, CLONE_ARGS_SIZE_VER0, is 64 bytes");

#ifndef SYS_clone3
#define SYS_clone3 435 /* the same number on every architecture */
#endif

#ifndef SYS_process_madvise
#define SYS_process_madvise 440 /* the same number on every architecture */
#endif
#define GONS_MADV_COLD 20 /* <sys/mman.h>, Linux 5.4 */

/* NS_GET_NSTYPE of <linux/nsfs.h> (Linux 4.11). */
#define GONS_NS_GET_NSTYPE _IO(0xb7, 0x3)

/* PIDFD_GET_<TYPE>_NAMESPACE of <linux/pidfd.h> (Linux 6.11): _IO(0xFF, nr). */
#define GONS_PIDFD_GET_NS(nr) (_IO(0xFF, 0) | (nr))

/*
 * struct statx of <linux/stat.h> (Linux 4.11). statx(2) spares the C
 * library's stat wrappers, which differ between architectures.
 */
struct gons_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	uint64_t times[8]; /* atime, btime, ctime, mtime: s64 seconds, u32 ns, s32 */
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};
_Static_assert(sizeof(struct gons_statx) == 256 && offsetof(struct gons_statx, ino) == 32 &&
                       offsetof(struct gons_statx, dev_major) == 136,
               "struct statx is 256 bytes, stx_ino at 32, stx_dev_major at 136");

#define GONS_STATX_TYPE 0x1U   /* STATX_TYPE */
#define GONS_STATX_INO  0x100U /* STATX_INO */

/*
 * struct pidfd_info of <linux/pidfd.h> as of Linux 6.13
 * (PIDFD_INFO_SIZE_VER0); the kernel fills what fits the size that
 * PIDFD_GET_INFO carries.
 */
struct gons_pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid, spare0;
};
_Static_assert(sizeof(struct gons_pidfd_info) == 64 && offsetof(struct gons_pidfd_info, pid) == 16,
               "struct pidfd_info is 64 bytes (PIDFD_INFO_SIZE_VER0), pid at 16");

#define GONS_PIDFD_GET_INFO _IOWR(0xFF, 11, struct gons_pidfd_info)
#define GONS_PIDFD_INFO_PID 1

/* capget(2)'s header and data of <linux/capability.h>. */
struct gons_cap_header {
	uint32_t version;
	int32_t pid;
};
struct gons_cap_data {
	uint32_t effective, permitted, inheritable;
};
_Static_assert(sizeof(struct gons_cap_header) == 8 && sizeof(struct gons_cap_data) == 12,
               "capget(2) takes two 32-bit words, then three per set");

#define GONS_CAP_VERSION_3 0x20080522 /* _LINUX_CAPABILITY_VERSION_3: two gons_cap_data */
#define GONS_CAP_SETGID    6

/* f_type of nsfs and of pidfs (Linux 6.9): NSFS_MAGIC, PID_FS_MAGIC of <linux/magic.h>. */
#define GONS_NSFS_MAGIC   0x6e736673
#define GONS_PID_FS_MAGIC 0x50494446

/*
 * statfs(2) and fstatfs(2) into the C library's struct statfs. Where there
 * is no statfs64 system call (64-bit architectures), glibc and musl pass
 * that struct to the system call as it is, and so does this: musl's
 * statfs(3) and fstatfs(3) live in one object with statvfs(3), which a
 * static program then links too. Elsewhere the C library's struct and the
 * kernel's differ, and the C library converts.
 */
#ifdef SYS_statfs64
#define gons_statfs(path, buf) statfs(path, buf)
#define gons_fstatfs(fd, buf)  fstatfs(fd, buf)
#else
#define gons_statfs(path, buf) syscall(SYS_statfs, path, buf)
#define gons_fstatfs(fd, buf)  syscall(SYS_fstatfs, fd, buf)
#endif

#endif
