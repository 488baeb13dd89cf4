// Command calls is testdata/hello with a known added cost, for the test of
// the benchmark harness itself: a constructor that makes BENCH_CALLS
// getppid(2) system calls (none if unset) and times them by its own clock.
// It prints what hello prints and then those nanoseconds, so that the
// harness can compare the cost it measures with the cost the program took.
package main

/*
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long calls_ns;

__attribute__((constructor)) static void calls_constructor(void)
{
	const char *v = getenv("BENCH_CALLS");
	long n = v ? strtol(v, NULL, 10) : 0;
	struct timespec t0, t1;

	clock_gettime(CLOCK_REALTIME, &t0);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_REALTIME, &t1);
	calls_ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
}

static long long calls_elapsed(void) { return calls_ns; }
*/
import "C"

import (
	"os"
	"strconv"

	"github.com/gonsproject/gons/bench/testdata/mark"
)

func main() {
	os.Stdout.WriteString(strconv.FormatInt(mark.Elapsed(), 10) + " " +
		strconv.FormatInt(mark.Constructors(), 10) + " " +
		strconv.FormatInt(int64(C.calls_elapsed()), 10) + "\n")
}
