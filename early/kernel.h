/*
 * Numbers and structures of the kernel that the C library's headers may
 * lack (musl's lack several), for the C files of the switch. Each is the
 * same on every architecture Linux runs on; where a header has the name,
 * the header's value wins.
 */
#ifndef GONS_KERNEL_H
#define GONS_KERNEL_H

#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
/* Linux 5.1 and 5.3; the same number on every architecture. */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
/* _IO(0xb7, 0x3) from <linux/nsfs.h>, which musl's headers lack; Linux 4.11. */
#define GONS_NS_GET_NSTYPE 0xb703

/*
 * struct statx of <linux/stat.h> (Linux 4.11), the same on every
 * architecture, which musl's headers lack. statx(2) spares the libc's
 * stat wrappers, which differ between architectures and cost more code.
 */
struct gons_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, spare0;
	uint64_t ino, size, blocks, attributes_mask;
	uint64_t times[8]; /* atime, btime, ctime, mtime */
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};

#define GONS_STATX_INO 0x100U

/*
 * struct pidfd_info of <linux/pidfd.h> as of Linux 6.13 (PIDFD_INFO_SIZE_VER0,
 * 64 bytes, the same on every architecture); the kernel fills what fits the
 * size the request carries.
 */
struct gons_pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid, spare0;
};

/*
 * capget(2)'s header and data of <linux/capability.h>, which musl's
 * headers lack: plain 32-bit words on every architecture.
 */
struct gons_cap_header {
	uint32_t version;
	int pid;
};
struct gons_cap_data {
	uint32_t effective, permitted, inheritable;
};
#define GONS_CAP_VERSION_3 0x20080522 /* two gons_cap_data */
#define GONS_CAP_SETGID    6

/* f_type of nsfs, NSFS_MAGIC of <linux/magic.h>. */
#define GONS_NSFS_MAGIC 0x6e736673

/* f_type of pidfs (Linux 6.9), PID_FS_MAGIC of <linux/magic.h>. */
#define GONS_PID_FS_MAGIC 0x50494446

/* PIDFD_GET_INFO; _IOWR encodes it for the architecture. */
#define GONS_PIDFD_GET_INFO _IOWR(0xFF, 11, struct gons_pidfd_info)
#define GONS_PIDFD_INFO_PID 1

#endif
