package reexec_test

import (
	"context"
	"os"
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
	trace, out, err := testutil.TraceClones(t, append(os.Environ(), "GONS_TEST_PROBE=1"),
		os.Args[0], "-test.run=^TestNoProbeBesideTheChild$", "-test.count=1", "-test.v")
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoProbeBesideTheChild") {
		t.Fatalf("%v\n%s", err, out)
	}
	all := strings.Join(trace, "\n")
	// The server's clone of the call's child.
	vfork, found := testutil.VforkAfter(trace, cloneParent.MatchString)
	if !found {
		t.Fatalf("no clone of the server's in the trace:\n%s", all)
	}
	if vfork != "" {
		t.Errorf("a child cloned with CLONE_VFORK after the call's child: %s\ntrace:\n%s", vfork, all)
	}
}
