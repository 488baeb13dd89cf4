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
