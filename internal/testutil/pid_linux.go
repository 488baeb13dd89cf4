package testutil

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// ReusePID starts a sleep(1) that has PID pid, in the caller's PID
// namespace (a fresh one, where nothing else takes PIDs), through
// /proc/sys/kernel/ns_last_pid, and ends it when the test does. A thread
// the runtime starts between the write and the fork takes a PID too, so
// it tries again, up to 100 times, ending each process that missed.
func ReusePID(t testing.TB, pid int) *exec.Cmd {
	t.Helper()
	for range 100 {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			Unavailable(t, "setting the next PID: %v", err)
		}
		cmd := exec.Command("sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if cmd.Process.Pid == pid {
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			return cmd
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Fatalf("no process took PID %d in 100 tries", pid)
	return nil
}
