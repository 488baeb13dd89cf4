// Package testutil holds what the module's tests share: the rule that a
// test which cannot run here skips outside CI and fails inside it.
package testutil

import (
	"io"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI, where every prerequisite is
// installed and a skip would hide a test that did not run.
func InCI() bool { return os.Getenv("CI") != "" }

// Unavailable skips the test with the reason outside CI and fails it in CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("required in CI: "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

// RequireRoot stops the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root (run: go test -exec sudo ./...)")
	}
}

// RequireTool stops the test unless the named program is in PATH, and
// returns its path.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "needs %s in PATH: %v", name, err)
	}
	return p
}

// Piped is a command to start with pipes to its standard streams: an
// *exec.Cmd, or a type that embeds one and starts it its own way, such as
// *reexec.Cmd.
type Piped interface {
	StdinPipe() (io.WriteCloser, error)
	StdoutPipe() (io.ReadCloser, error)
	Start() error
}

// StartPiped starts cmd with a pipe to its standard input and one from its
// standard output, and returns their ends; a failure fails the test.
func StartPiped(t testing.TB, cmd Piped) (io.WriteCloser, io.ReadCloser) {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return in, out
}
