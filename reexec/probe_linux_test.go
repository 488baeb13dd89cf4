package reexec_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// cloneParent matches the flag the server's clones of a child have.
var cloneParent = regexp.MustCompile(`\bCLONE_PARENT\b`)

// TestNoProbeBesideTheChild traces a copy of the test binary that makes
// its first call, through the fork server: the os package's one-time
// probe of pidfd support, a child that shares the caller's memory
// (CLONE_VM | CLONE_VFORK), is cloned before the server clones the call's
// child, never while that child runs, where a stop of the process group
// would stop the probe too and leave the caller unable to stop.
func TestNoProbeBesideTheChild(t *testing.T) {
	if os.Getenv("GONS_TEST_PROBE") != "" {
		before := spawn.Spawned()
		if _, err := echo.Run(context.Background(), payload{Text: "probe"}); err != nil {
			t.Fatal(err)
		}
		if spawn.Spawned() == before {
			t.Fatal("the call did not go through the fork server")
		}
		return
	}
	testutil.RequireRoot(t) // strace -f of processes that change credentials
	strace := testutil.RequireTool(t, "strace")
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=clone,clone3", "-o", trace,
		os.Args[0], "-test.run=^TestNoProbeBesideTheChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GONS_TEST_PROBE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoProbeBesideTheChild") {
		t.Fatalf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	child := -1 // the server's clone of the call's child
	for i, l := range lines {
		if cloneParent.MatchString(l) && !strings.Contains(l, "resumed") {
			child = i
			break
		}
	}
	if child < 0 {
		t.Fatalf("no clone of the server's in the trace:\n%s", b)
	}
	for _, l := range lines[child:] {
		if strings.Contains(l, "CLONE_VFORK") && !strings.Contains(l, "resumed") {
			t.Errorf("a child cloned with CLONE_VFORK after the call's child: %s\ntrace:\n%s", l, b)
		}
	}
}
