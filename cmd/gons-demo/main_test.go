//go:build linux

package main

import (
	"os"
	"path/filepath"
	"regexp"
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
