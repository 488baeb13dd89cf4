//go:build linux

package early_test

import (
	"path/filepath"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/icmd"
)

// TestSymbolsDoNotCollide links early into a program whose own C code
// defines init and record.
func TestSymbolsDoNotCollide(t *testing.T) {
	testutil.RequireCgo(t)
	bin := filepath.Join(t.TempDir(), "collide")
	icmd.RunCommand(testutil.GoTool(t), "build", "-buildvcs=false", "-o", bin, "./testdata/collide").Assert(t, icmd.Success)
	out := icmd.RunCmd(probeRun(bin, nil)).Assert(t, icmd.Success).Stdout()
	assert.Equal(t, out, "42 true\n")
}
