package covered

import (
	"fmt"
	"os"
	"testing"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/reexec/cover"
)

func init() {
	reexec.Register("answer", func() { fmt.Println(Answer()) })
}

// forked, when the test binary has the fork server, returns how many
// children it started.
var forked func() int

// TestMain uses the wrapper unless COVERED_NO_WRAPPER is set.
func TestMain(m *testing.M) {
	if os.Getenv("COVERED_NO_WRAPPER") != "" {
		reexec.CheckAction()
		os.Exit(m.Run())
	}
	cover.Run(m)
}

// TestAnswer runs Answer in a child, in the user and mount namespaces
// named by COVERED_USERNS and COVERED_MNTNS, if set.
func TestAnswer(t *testing.T) {
	var ns []reexec.Namespace
	if p := os.Getenv("COVERED_USERNS"); p != "" {
		ns = append(ns, reexec.Namespace{Type: "!user", Path: p})
	}
	if p := os.Getenv("COVERED_MNTNS"); p != "" {
		ns = append(ns, reexec.Namespace{Type: "!mnt", Path: p})
	}
	var n int
	if err := reexec.RunReexecAction("answer", reexec.Result(&n), reexec.Namespaces(ns)); err != nil {
		t.Fatal(err)
	}
	if n != 42 {
		t.Fatalf("got %d", n)
	}
	if forked != nil && forked() == 0 {
		t.Fatal("built with the fork server, but the child did not come from it")
	}
}
