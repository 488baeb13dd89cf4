//go:build linux

package early_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestSymbolsDoNotCollide links early into a program whose own C code
// defines init and record.
func TestSymbolsDoNotCollide(t *testing.T) {
	testutil.RequireCgo(t)
	bin := filepath.Join(t.TempDir(), "collide")
	if out, err := exec.Command(testutil.GoTool(t), "build", "-buildvcs=false", "-o", bin, "./testdata/collide").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil || strings.TrimSpace(string(out)) != "42 true" {
		t.Errorf("collide: %q, %v; want \"42 true\"", out, err)
	}
}
