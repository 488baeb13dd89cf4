package testutil

import (
	"os/exec"
	"strings"
	"sync"
	"testing"
)

var cgo struct {
	once sync.Once
	why  string // why cgo cannot build here; "" when it can
}

// RequireCgo stops the test unless the go command has a C compiler to
// build cgo packages with: early's constructor is C, and tests that build
// programs with it need one. The go command is asked once per test binary,
// so that every such test skips (or fails in CI) with the same reason
// instead of repeating the compiler's error.
func RequireCgo(t testing.TB) {
	t.Helper()
	goTool := GoTool(t)
	cgo.once.Do(func() { cgo.why = cgoMissing(goTool) })
	if cgo.why != "" {
		Unavailable(t, "%s", cgo.why)
	}
}

// cgoMissing returns why the go command at goTool cannot compile C, or "".
func cgoMissing(goTool string) string {
	out, err := exec.Command(goTool, "env", "CC").Output()
	if err != nil {
		return "go env CC: " + err.Error()
	}
	cc := strings.Fields(string(out))
	if len(cc) == 0 {
		return "needs a C compiler for cgo: go env CC is empty"
	}
	if _, err := exec.LookPath(cc[0]); err != nil {
		return "needs a C compiler for cgo (Debian: apt-get install gcc libc6-dev): " + err.Error()
	}
	return ""
}
