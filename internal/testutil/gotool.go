package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// GoTool returns the go command that runs the tests, for tests that build
// programs with it: the first go in PATH, where go test puts the bin
// directory of its own GOROOT first, or, where sudo reset PATH (go test
// -exec sudo), the executable of the go process the test descends from
// (found through /proc, on Linux). Without either the test stops through
// [Unavailable].
func GoTool(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	for pid := os.Getppid(); pid > 1; pid = parent(pid) {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err == nil && filepath.Base(exe) == "go" {
			return exe
		}
	}
	Unavailable(t, "needs the go command: not in PATH, and no go process runs this test")
	return ""
}

// parent returns the parent of process pid, or 0 where /proc does not
// tell.
func parent(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	// The command name, in parentheses, may hold blanks and parentheses:
	// the fields after the last ')' are state and parent PID.
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(f[1]))
	return ppid
}
