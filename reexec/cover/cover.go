package cover

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/reexec/internal/hook"
)

// M wraps a [testing.M] for [M.Run].
type M struct {
	M *testing.M // the tests to run, as TestMain receives them
}

// Run runs the tests as [M.Run] does and then calls [os.Exit] with the
// result: it does not return. It is the whole body of TestMain:
//
//	func TestMain(m *testing.M) { cover.Run(m) }
func Run(m *testing.M) {
	os.Exit((&M{M: m}).Run())
}

// Run calls [reexec.CheckAction], which runs the action and exits in a
// re-executed child, sets up coverage for children as the package
// documentation describes, runs the tests and returns the exit code for
// [os.Exit]:
//
//	func TestMain(m *testing.M) { os.Exit((&cover.M{M: m}).Run()) }
func (cm *M) Run() int {
	reexec.CheckAction()
	if testing.CoverMode() == "" {
		return cm.M.Run()
	}
	cleanup, err := setup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cover: children's coverage will be lost: %v\n", err)
	}
	code := cm.M.Run()
	cleanup()
	return code
}

// setup makes sure that GOCOVERDIR and -test.gocoverdir name the same
// existing directory, so that children write their counters where testing
// merges them at the end, and installs the hook that rewrites the
// directory for children that join a mount namespace.
func setup() (cleanup func(), err error) {
	cleanup = func() {}
	if !flag.Parsed() {
		flag.Parse()
	}
	f := flag.Lookup("test.gocoverdir")
	if f == nil {
		return cleanup, fmt.Errorf("this testing package has no -test.gocoverdir flag")
	}
	dir := f.Value.String()
	if dir == "" {
		dir = os.Getenv("GOCOVERDIR")
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "gocoverdir"); err != nil {
			return cleanup, err
		}
		cleanup = func() { os.RemoveAll(dir) }
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return cleanup, err
	}
	if err := f.Value.Set(dir); err != nil {
		return cleanup, err
	}
	if err := os.Setenv("GOCOVERDIR", dir); err != nil {
		return cleanup, err
	}
	// A child in another mount namespace reaches the directory through
	// a descriptor of it, by its own /proc/self/fd: unlike
	// /proc/<pid>/root<dir>, that needs neither ptrace access to the
	// test process (refused from another user namespace) nor a /proc
	// that shows the test process.
	d, err := os.Open(dir)
	if err != nil {
		return cleanup, err
	}
	rewrite := hook.Func(func(env []string, mnt bool, nextFD int) ([]string, []*os.File) {
		if !mnt {
			return env, nil
		}
		out := make([]string, 0, len(env)+1)
		for _, kv := range env {
			if !strings.HasPrefix(kv, "GOCOVERDIR=") {
				out = append(out, kv)
			}
		}
		return append(out, "GOCOVERDIR=/proc/self/fd/"+strconv.Itoa(nextFD)), []*os.File{d}
	})
	hook.Child.Store(&rewrite)
	prev := cleanup
	cleanup = func() {
		hook.Child.Store(nil)
		d.Close()
		prev()
	}
	return cleanup, nil
}
