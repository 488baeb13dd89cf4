package cover

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/reexec/internal/hook"
)

// M wraps a [testing.M] for [M.Run].
type M struct {
	M *testing.M
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
	viaProc := "GOCOVERDIR=/proc/" + strconv.Itoa(os.Getpid()) + "/root" + dir
	rewrite := func(env []string, mnt bool) []string {
		if !mnt {
			return env
		}
		out := make([]string, 0, len(env)+1)
		for _, kv := range env {
			if len(kv) < len("GOCOVERDIR=") || kv[:len("GOCOVERDIR=")] != "GOCOVERDIR=" {
				out = append(out, kv)
			}
		}
		return append(out, viaProc)
	}
	hook.ChildEnv.Store(&rewrite)
	return cleanup, nil
}
