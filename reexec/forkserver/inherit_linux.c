//go:build cgo

/*
 * What a child of the fork server takes over from the server instead of
 * working it out again as it starts its Go runtime (see doc.go, "What
 * differs from exec"):
 *
 *  - The C library's malloc keeps one arena, the main one
 *    (M_ARENA_MAX=1), set in the server once and inherited by every
 *    child. Otherwise each thread the child's runtime creates makes glibc
 *    map a new arena (128 MiB of address space, two munmaps and an
 *    mprotect), which a child that runs one action never needs. The
 *    program's own malloc is untouched: the setting is the server's.
 *
 *  - runtime/cgo asks pthread_getattr_np(3) for the stack of the main
 *    thread as the runtime starts; glibc answers by parsing
 *    /proc/self/maps, a tenth of what a child runs before its action. The
 *    server asks once, and a child, whose stack is the server's, gets
 *    that answer to its first such question, through the linker's
 *    --wrap=pthread_getattr_np (see inherit_linux.go). Every other call,
 *    and every call in the program and in the server, goes to the C
 *    library.
 *
 * Both with glibc alone: runtime/cgo asks nothing of musl, whose mallopt
 * does nothing.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

extern int gons_forkserver_child;

int __real_pthread_getattr_np(pthread_t thread, pthread_attr_t *attr);

/* The main thread's stack as the C library reported it in the server: its
 * low address, size and guard size; size 0 when unknown. */
static struct {
	void *addr;
	size_t size, guard;
} main_stack;

/* 1 in a child once its first question was answered from main_stack. */
int gons_forkserver_stack_answered;

/*
 * Called by the server once, before it serves: one arena, and the stack
 * of its only thread, which every child runs on. It runs in the server
 * alone, single-threaded, and may use the C library freely: the program's
 * memory is the program's copy.
 */
void gons_fs_inherit_prepare(void)
{
#ifdef __GLIBC__
	pthread_attr_t attr;

	mallopt(M_ARENA_MAX, 1);
	if (__real_pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &main_stack.addr, &main_stack.size) != 0 ||
	    pthread_attr_getguardsize(&attr, &main_stack.guard) != 0)
		main_stack.size = 0;
	pthread_attr_destroy(&attr);
#endif
}

/* Whether this thread is the main thread of its process. */
static int main_thread(pthread_t thread)
{
	return pthread_equal(thread, pthread_self()) && syscall(SYS_gettid) == syscall(SYS_getpid);
}

/*
 * pthread_getattr_np(3), as linked into the program (--wrap): the first
 * question about the main thread in a child of the server, runtime/cgo's
 * as the runtime starts, gets the server's answer, without the affinity
 * glibc adds, which runtime/cgo does not read; everything else the C
 * library's.
 */
int __wrap_pthread_getattr_np(pthread_t thread, pthread_attr_t *attr)
{
	if (gons_forkserver_child && !gons_forkserver_stack_answered && main_stack.size != 0 &&
	    main_thread(thread)) {
		gons_forkserver_stack_answered = 1;
		if (pthread_attr_init(attr) == 0 &&
		    pthread_attr_setstack(attr, main_stack.addr, main_stack.size) == 0 &&
		    pthread_attr_setguardsize(attr, main_stack.guard) == 0)
			return 0;
	}
	return __real_pthread_getattr_np(thread, attr);
}

/* The stack the server reported, for the tests: its low address and size. */
void gons_fs_inherited_stack(void **addr, size_t *size)
{
	*addr = main_stack.addr;
	*size = main_stack.size;
}
