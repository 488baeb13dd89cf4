// Package mark times a program's start-up from inside: a .preinit_array
// entry, which glibc runs before any constructor, takes the first mark, and
// Elapsed reads the time since then. musl runs no .preinit_array; there a
// constructor of the highest priority takes it, which the linker places
// first in .init_array, before every constructor without a priority
// (early's and thediveo/gons' among them). Programs that import it
// print Elapsed first thing in main, so a benchmark learns how long the
// constructors (a namespace switch among them) and the Go runtime's start
// took, without the noise of fork, exec and exit around it.
//
// It reads CLOCK_REALTIME, which time namespaces leave alone, unlike
// CLOCK_MONOTONIC.
package mark

/*
#include <time.h>

static struct timespec gons_bench_mark;

static void gons_bench_take_mark(void)
{
	clock_gettime(CLOCK_REALTIME, &gons_bench_mark);
}

__attribute__((section(".preinit_array"), used))
static void (*gons_bench_preinit)(void) = gons_bench_take_mark;

// Where the C library ran no .preinit_array (musl), the first constructor.
__attribute__((constructor(101))) static void gons_bench_first_constructor(void)
{
	if (!gons_bench_mark.tv_sec)
		gons_bench_take_mark();
}

static struct timespec gons_bench_main_mark;

static long long gons_bench_since_mark(struct timespec *t)
{
	return (t->tv_sec - gons_bench_mark.tv_sec) * 1000000000LL + (t->tv_nsec - gons_bench_mark.tv_nsec);
}

static long long gons_bench_elapsed(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return gons_bench_since_mark(&now);
}

static long long gons_bench_constructors(void)
{
	return gons_bench_main_mark.tv_sec ? gons_bench_since_mark(&gons_bench_main_mark) : -1;
}

extern int __real_main(int, char **, char **) __attribute__((weak));

int __wrap_main(int argc, char **argv, char **envp)
{
	clock_gettime(CLOCK_REALTIME, &gons_bench_main_mark);
	return __real_main(argc, argv, envp);
}
*/
import "C"

import (
	"os"
	"strconv"
)

// Elapsed returns the nanoseconds since the C library started the program.
func Elapsed() int64 { return int64(C.gons_bench_elapsed()) }

// Constructors returns the nanoseconds from the start of the C library to
// its call of main, which is after every constructor and before the Go
// runtime starts, or -1 if the program was not linked with
// -extldflags=-Wl,--wrap=main.
func Constructors() int64 { return int64(C.gons_bench_constructors()) }

// Print writes Elapsed and Constructors to stdout on one line.
func Print() {
	os.Stdout.WriteString(strconv.FormatInt(Elapsed(), 10) + " " + strconv.FormatInt(Constructors(), 10) + "\n")
}
