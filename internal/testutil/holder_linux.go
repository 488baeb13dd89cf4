package testutil

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Holder runs script in a shell in new namespaces made by
// unshare(1) with flags (plus --fork --kill-child), and keeps the shell's
// process alive, as "sleep infinity", until the test ends. It returns the
// PID of that process, whose /proc/<pid>/ns holds the namespaces. Where
// unshare cannot make them, the test stops through [Unavailable].
func Holder(t testing.TB, flags []string, script string) int {
	t.Helper()
	RequireTool(t, "unshare")
	args := append(append([]string(nil), flags...), "--fork", "--kill-child",
		"sh", "-euc", script+"\necho ready\nexec sleep infinity")
	cmd := exec.Command("unshare", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		cmd.Process.Kill()
		werr := cmd.Wait()
		Unavailable(t, "unshare %s could not set up the namespaces: %v %v", strings.Join(flags, " "), werr, err)
	}
	pid := cmd.Process.Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("the holder's PID from %q: %v", b, err)
	}
	return child
}
