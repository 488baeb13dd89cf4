package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TraceClones runs args, with env as its environment if not nil, under
// strace -f, tracing clone, clone3 and execve, and returns the trace's
// lines, less the second halves of calls that strace printed in two, and
// the run's combined output and error.
func TraceClones(t testing.TB, env []string, args ...string) (trace []string, out []byte, err error) {
	t.Helper()
	strace := RequireTool(t, "strace")
	file := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, append([]string{"-f", "-qq", "-e", "trace=clone,clone3,execve", "-o", file}, args...)...)
	cmd.Env = env
	out, err = cmd.CombinedOutput()
	b, rerr := os.ReadFile(file)
	if rerr != nil {
		t.Fatal(rerr)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.Contains(l, "resumed>") {
			trace = append(trace, l)
		}
	}
	return trace, out, err
}

// VforkAfter returns the first line of trace, after the first one that
// start matches, that clones a child with CLONE_VFORK, "" if none does;
// found is false if no line matches start.
func VforkAfter(trace []string, start func(line string) bool) (line string, found bool) {
	for i, l := range trace {
		if !start(l) {
			continue
		}
		for _, l := range trace[i:] {
			if strings.Contains(l, "CLONE_VFORK") {
				return l, true
			}
		}
		return "", true
	}
	return "", false
}
