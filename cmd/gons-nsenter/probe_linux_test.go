package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestNoProbeBesideTheProgram traces gons-nsenter starting a program in
// a holder's uts namespace: the os package's one-time probe of pidfd
// support, a child that shares the caller's memory (CLONE_VM |
// CLONE_VFORK), is cloned before the program, never while the program
// runs, where a ^Z at the terminal would stop the probe too and leave
// gons-nsenter unable to stop, and the program's shell without a prompt.
func TestNoProbeBesideTheProgram(t *testing.T) {
	testutil.RequireRoot(t)
	strace := testutil.RequireTool(t, "strace")
	truePath := testutil.RequireTool(t, "true")
	bin := binary(t)
	h := testutil.Holder(t, []string{"--uts"}, "")
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=clone,clone3,execve", "-o", trace,
		bin, "-t", strconv.Itoa(h), "-u", truePath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	program := -1 // the line where the program is executed
	for i, l := range lines {
		if strings.Contains(l, "execve(\""+truePath+"\"") {
			program = i
			break
		}
	}
	if program < 0 {
		t.Fatalf("no execve of %s in the trace:\n%s", truePath, b)
	}
	for _, l := range lines[program:] {
		if strings.Contains(l, "CLONE_VFORK") && !strings.Contains(l, "resumed") {
			t.Errorf("a child cloned with CLONE_VFORK after the program started: %s\ntrace:\n%s", l, b)
		}
	}
}
