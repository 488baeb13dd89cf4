/*
 * floor: the physical floor of a namespace switch at start-up. It makes the
 * system calls that a switch cannot do without and nothing else: for each
 * argument "type=path", in the order given, open(2) the path before the
 * first switch (as the default gons_order does with its "!" items), then
 * setns(2) into each and close(2) it. Joining a PID namespace only takes
 * effect for children, so with pid among the types it also forks once and
 * waits for the child, which is what any program must do to run inside it.
 *
 * With no argument it switches nothing: the baseline of the floor.
 *
 * With -checked before the arguments it also makes the calls of the checks
 * that early adds to a switch (see internal/preinit/ns_linux.c and preinit_linux.c): an
 * ioctl(NS_GET_NSTYPE) of each opened fd, and a statfs(2) before opening a
 * path that is not of the form /proc/PID/ns/NAME (a bind mount, say), as
 * early makes them; for mnt and pid the identity of
 * its own namespace of the type (a pidfd of itself, PIDFD_GET_*_NAMESPACE
 * and fstat(2) of what that returns) and an fstat(2) of the fd, to skip a
 * namespace the process is in already; for pid its own PID namespace the
 * same way, kept open to undo the switch should the fork fail; and before
 * joining a user namespace making itself non-dumpable. That is the floor of early's design, as
 * opposed to the floor of a switch.
 *
 * With -target PID instead it joins every namespace of process PID at once:
 * pidfd_open(2), one setns(2) of the pidfd with all eight CLONE_NEW* flags,
 * close(2), and the fork for pid: the floor of gons_target.
 *
 * The benchmarks build it linked as the Go subjects it is compared with
 * (dynamic with -z now, static glibc, static musl), so that the floor and
 * the subjects pay the same for their C library and none pays for lazy
 * binding between its marks.
 *
 * Like the Go subjects (see testdata/mark), it prints the nanoseconds from
 * a .preinit_array mark to the point where it runs in the target
 * namespaces: after the last close, or in the forked child for pid.
 * Exit status: 0 on success, 1 on a failed call (reported on stderr).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* NS_GET_NSTYPE of <linux/nsfs.h>, which musl's headers do not carry. */
#define NS_GET_NSTYPE _IO(0xb7, 0x3)

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define MAXNS 8

static struct timespec mark;

static void take_mark(void)
{
	clock_gettime(CLOCK_REALTIME, &mark);
}

__attribute__((section(".preinit_array"), used)) static void (*preinit)(void) = take_mark;

/* musl runs no .preinit_array: there the first constructor takes the mark,
 * as in testdata/mark. */
__attribute__((constructor(101))) static void first_constructor(void)
{
	if (!mark.tv_sec)
		take_mark();
}

/* Prints the nanoseconds since the mark; returns 0, or 1 if it failed. */
static int print_elapsed(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return printf("%lld\n", (now.tv_sec - mark.tv_sec) * 1000000000LL + (now.tv_nsec - mark.tv_nsec)) < 0;
}

static const struct {
	const char *name;
	int flag;
} types[] = {
	{ "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "mnt", CLONE_NEWNS },
	{ "net", CLONE_NEWNET },       { "pid", CLONE_NEWPID }, { "time", CLONE_NEWTIME },
	{ "user", CLONE_NEWUSER },     { "uts", CLONE_NEWUTS },
};

/* Returns the index in types of the type that arg starts with, and sets
 * *path to what follows the '='; returns -1 for an unknown type. */
static int parse(const char *arg, const char **path)
{
	for (int i = 0; i < (int)(sizeof(types) / sizeof(types[0])); i++) {
		size_t n = strlen(types[i].name);
		if (strncmp(arg, types[i].name, n) == 0 && arg[n] == '=') {
			*path = arg + n + 1;
			return i;
		}
	}
	return -1;
}

/* Opens the process's own namespace of type flag through a pidfd of
 * itself (PIDFD_GET_*_NAMESPACE, Linux 6.11), as early does. */
static int own_ns(int flag)
{
	int nr = flag == CLONE_NEWNS ? 3 : 5; /* mnt, pid */
	int pidfd = syscall(SYS_pidfd_open, getpid(), 0);
	int fd = ioctl(pidfd, _IO(0xff, nr), 0);

	close(pidfd);
	return fd;
}

/* Whether early checks for its own namespace of type index t. */
static int self_checked(int t)
{
	return types[t].flag == CLONE_NEWNS || types[t].flag == CLONE_NEWPID;
}

/* The checks of -checked for fd, of type index t, whose own namespace is
 * self: returns 0 when fd is a namespace of that type other than self,
 * 1 when it is self, -1 on a failed call. */
static int check(int fd, int t, const struct stat *self)
{
	struct stat st;

	if (ioctl(fd, NS_GET_NSTYPE) != types[t].flag)
		return -1;
	if (!self_checked(t))
		return 0;
	if (fstat(fd, &st) < 0)
		return -1;
	return st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

/* Whether early spares path the statfs(2) before opening it: whether it
 * is /proc/PID/ns/NAME (PID digits, self or thread-self). */
static int proc_ns_path(const char *path)
{
	const char *s = path + strlen("/proc/"), *slash;

	if (strncmp(path, "/proc/", strlen("/proc/")) != 0 || (slash = strchr(s, '/')) == NULL)
		return 0;
	if (strspn(s, "0123456789") != (size_t)(slash - s) &&
	    strncmp(s, "self/", 5) != 0 && strncmp(s, "thread-self/", 12) != 0)
		return 0;
	s = slash + 1;
	return strncmp(s, "ns/", 3) == 0 && s[3] != '\0' && s[3] != '.' && strchr(s + 3, '/') == NULL;
}

/* Waits for a child that prints the elapsed time; returns the exit status. */
static int fork_and_print(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(print_elapsed() || fflush(stdout));
	if (waitpid(pid, &status, 0) < 0 || status != 0)
		return 1;
	return 0;
}

/* -target PID: all namespaces of PID through one setns(2) of a pidfd. */
static int target(const char *arg)
{
	int flags = 0;
	int pidfd = syscall(SYS_pidfd_open, atoi(arg), 0);

	for (int i = 0; i < (int)(sizeof(types) / sizeof(types[0])); i++)
		flags |= types[i].flag;
	if (pidfd < 0 || setns(pidfd, flags) < 0) {
		perror("pidfd");
		return 1;
	}
	close(pidfd);
	return fork_and_print();
}

int main(int argc, char **argv)
{
	int fds[MAXNS], idx[MAXNS], n = 0, forks = 0, checked = 0;
	const char *paths[MAXNS];
	struct stat self[MAXNS];

	if (argc > 2 && strcmp(argv[1], "-target") == 0)
		return target(argv[2]);
	if (argc > 1 && strcmp(argv[1], "-checked") == 0) {
		checked = 1;
		argv++;
		argc--;
	}
	for (int i = 1; i < argc && n < MAXNS; i++, n++) {
		idx[n] = parse(argv[i], &paths[n]);
		if (idx[n] < 0) {
			fprintf(stderr, "floor: bad argument %s\n", argv[i]);
			return 1;
		}
		if (checked && self_checked(idx[n])) {
			int own = own_ns(types[idx[n]].flag);
			if (own < 0 || fstat(own, &self[n]) < 0) {
				perror("own namespace");
				return 1;
			}
			close(own);
		}
	}
	for (int i = 0; i < n; i++) {
		struct statfs fs;

		forks |= types[idx[i]].flag == CLONE_NEWPID;
		if (checked && !proc_ns_path(paths[i]) && statfs(paths[i], &fs) < 0) {
			perror(paths[i]);
			return 1;
		}
		fds[i] = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0 || (checked && check(fds[i], idx[i], &self[i]) != 0)) {
			perror(paths[i]);
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		if (checked && types[idx[i]].flag == CLONE_NEWUSER && prctl(PR_SET_DUMPABLE, 0) < 0) {
			perror("prctl");
			return 1;
		}
		int own = -1;
		if (checked && types[idx[i]].flag == CLONE_NEWPID)
			own = own_ns(CLONE_NEWPID);
		if (setns(fds[i], types[idx[i]].flag) < 0) {
			perror(paths[i]);
			return 1;
		}
		close(fds[i]);
		if (own >= 0)
			close(own);
	}
	if (forks)
		return fork_and_print();
	return print_elapsed();
}
