//go:build linux

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"gotest.tools/v3/icmd"
)

// TestDemo runs the quick start of the README and checks that the joiner
// ended up in the holder's namespaces.
func TestDemo(t *testing.T) {
	testutil.RequireCgo(t)
	bin := filepath.Join(t.TempDir(), "gons-demo")
	build := icmd.Command(testutil.GoTool(t), "build", "-buildvcs=false", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	icmd.RunCmd(build).Assert(t, icmd.Success)
	res := icmd.RunCommand(bin)
	if err := res.Compare(icmd.Success); err != nil {
		testutil.Unavailable(t, "gons-demo cannot create a user namespace here: %v", err)
	}
	out := res.Stdout()
	line := regexp.MustCompile(`(?m)^(holder|joiner).*?(\[user:.*\]) hostname "(.*)"$`)
	m := line.FindAllStringSubmatch(out, -1)
	if len(m) != 2 || m[0][2] != m[1][2] || m[1][3] != "gons-demo" ||
		!regexp.MustCompile(`joined \[user mnt uts\]`).MatchString(m[1][0]) {
		t.Errorf("the joiner is not where the holder is:\n%s", out)
	}
}

// TestDemoWithoutCgo builds the demo without cgo, as go does by default
// where it finds no C compiler, and as CGO_ENABLED=0 asks: the demo says
// which, and what to do, instead of failing in its joiner.
func TestDemoWithoutCgo(t *testing.T) {
	gotool := testutil.GoTool(t)
	for _, tc := range []struct {
		name string
		env  []string // for the build and the run
		want string
	}{
		// A PATH with go and no gcc: go builds without cgo, unasked.
		{"no C compiler", []string{"PATH=" + filepath.Dir(gotool)}, "there is no C compiler here (gcc: "},
		{"CGO_ENABLED=0", []string{"CGO_ENABLED=0"}, "built without cgo (CGO_ENABLED=0), which early's constructor needs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(filepath.Dir(gotool), "gcc")); err == nil && tc.name == "no C compiler" {
				testutil.Unavailable(t, "gcc is next to go in %s: no PATH has go without a C compiler", filepath.Dir(gotool))
			}
			bin := filepath.Join(t.TempDir(), "gons-demo")
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "CGO_ENABLED=") && !strings.HasPrefix(kv, "CC=") &&
					!(strings.HasPrefix(kv, "PATH=") && strings.HasPrefix(tc.env[0], "PATH=")) {
					env = append(env, kv)
				}
			}
			env = append(env, tc.env...)
			build := icmd.Command(gotool, "build", "-buildvcs=false", "-o", bin, ".")
			build.Env = env
			icmd.RunCmd(build).Assert(t, icmd.Success)
			run := icmd.Command(bin)
			run.Env = env
			res := icmd.RunCmd(run)
			res.Assert(t, icmd.Expected{ExitCode: 1})
			if !strings.Contains(res.Stderr(), tc.want) || res.Stdout() != "" {
				t.Errorf("stdout %q, stderr %q; want only an error that says %q", res.Stdout(), res.Stderr(), tc.want)
			}
		})
	}
}
