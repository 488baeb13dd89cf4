package main

import (
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
	truePath := testutil.RequireTool(t, "true")
	bin := binary(t)
	h := testutil.Holder(t, []string{"--uts"}, "")
	trace, out, err := testutil.TraceClones(t, nil, bin, "-t", strconv.Itoa(h), "-u", truePath)
	if err != nil {
		t.Fatalf("gons-nsenter under strace: %v\n%s", err, out)
	}
	all := strings.Join(trace, "\n")
	vfork, found := testutil.VforkAfter(trace, func(l string) bool { return strings.Contains(l, "execve(\""+truePath+"\"") })
	if !found {
		t.Fatalf("no execve of %s in the trace:\n%s", truePath, all)
	}
	if vfork != "" {
		t.Errorf("a child cloned with CLONE_VFORK after the program started: %s\ntrace:\n%s", vfork, all)
	}
}
