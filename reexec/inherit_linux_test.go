package reexec

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// BenchmarkForkDiffers measures the check a call that may fork makes of
// the calling thread's state, in a process whose state is the server's:
// the time, and the thread's CPU time (cpu-ns/op), which other processes
// on the machine do not inflate.
func BenchmarkForkDiffers(b *testing.B) {
	if spawn.PID() == 0 {
		b.Skip("the test binary has no fork server")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	forkDiffers(spawn.PID()) // reads the server's state, once
	b.ReportAllocs()
	start := threadCPU()
	for b.Loop() {
		if d := forkDiffers(spawn.PID()); d != "" {
			b.Fatalf("%s differs from the fork server's", d)
		}
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
}

// threadCPU returns the CPU time the calling thread used, in ns.
func threadCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestParseLimits checks that the limits read from /proc/self/limits, as
// each call reads them, are those prlimit(2) returns, for every resource:
// with the program's own limits, and with one soft limit lowered.
func TestParseLimits(t *testing.T) {
	check := func(t *testing.T) {
		t.Helper()
		fd := openProc("/proc/self/limits")
		if fd < 0 {
			t.Fatal("cannot open /proc/self/limits")
		}
		defer unix.Close(fd)
		var buf [2048]byte
		got, ok := parseLimits(pread(fd, buf[:]))
		if !ok {
			t.Fatalf("cannot parse /proc/self/limits:\n%s", pread(fd, buf[:]))
		}
		for r := range got {
			var want unix.Rlimit
			if err := unix.Prlimit(0, r, nil, &want); err != nil {
				t.Fatalf("prlimit %d: %v", r, err)
			}
			if got[r] != want {
				t.Errorf("limit %d: read %+v, prlimit says %+v", r, got[r], want)
			}
		}
	}
	check(t)
	var old unix.Rlimit
	if err := unix.Prlimit(0, unix.RLIMIT_CORE, nil, &old); err != nil {
		t.Fatal(err)
	}
	lower := old
	lower.Cur = min(old.Max, 4096)
	if err := unix.Prlimit(0, unix.RLIMIT_CORE, &lower, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Prlimit(0, unix.RLIMIT_CORE, &old, nil) })
	check(t)
	if _, ok := parseLimits([]byte("Limit\nMax cpu time\n")); ok {
		t.Error("a file cut short parsed")
	}
}
