package reexec

import (
	"runtime"
	"testing"

	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// BenchmarkForkDiffers measures the check a call that may fork makes of
// the calling thread's state, in a process whose state is the server's.
func BenchmarkForkDiffers(b *testing.B) {
	if spawn.PID() == 0 {
		b.Skip("the test binary has no fork server")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for b.Loop() {
		if d := forkDiffers(spawn.PID()); d != "" {
			b.Fatalf("%s differs from the fork server's", d)
		}
	}
}
