//go:build linux

package footprint

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestBudget fails when a subject adds more than its budget to base. With
// another toolchain than the budgets were set with, it only reports the
// figures outside CI; in CI it holds every toolchain to them, so that a
// toolchain that links more shows.
func TestBudget(t *testing.T) {
	gotool := testutil.GoTool(t)
	gcc := testutil.RequireTool(t, "gcc")
	musl := testutil.RequireTool(t, "musl-gcc")
	out, err := exec.Command(gcc, "-dumpfullversion").Output()
	if err != nil {
		t.Fatalf("%s -dumpfullversion: %v", gcc, err)
	}
	toolchain := runtime.Version() + ", gcc " + strings.TrimSpace(string(out))
	strict := testutil.InCI() || toolchain == BudgetGo+", gcc "+BudgetGCC
	dir := t.TempDir()
	for _, libc := range []string{"glibc", "musl"} {
		cc := gcc
		if libc == "musl" {
			cc = musl
		}
		env := append(os.Environ(), "CGO_ENABLED=1", "CC="+cc)
		loaded := func(subject string) int64 {
			t.Helper()
			bin := filepath.Join(dir, subject+"-"+libc)
			cmd := exec.Command(gotool, "build", "-trimpath", "-buildvcs=false", "-o", bin,
				"-ldflags", "-s -w -linkmode external -extldflags -static", "./testdata/"+subject)
			cmd.Env = env
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("building %s against %s: %v\n%s", subject, libc, err, msg)
			}
			n, err := Loaded(bin)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		base := loaded("base")
		for _, b := range Budgets {
			budget := b.Glibc
			if libc == "musl" {
				budget = b.Musl
			}
			added := loaded(b.Subject) - base
			t.Logf("%s, static %s: %d bytes added, budget %d (%s)", b.What, libc, added, budget, toolchain)
			if added <= budget {
				continue
			}
			msg := "%s adds %d bytes to a static cgo hello world against %s, over its budget of %d bytes " +
				"(set with %s, gcc %s; built with %s)"
			if strict {
				t.Errorf(msg, b.What, added, libc, budget, BudgetGo, BudgetGCC, toolchain)
			} else {
				t.Logf(msg+"; not held to it outside CI with another toolchain", b.What, added, libc, budget, BudgetGo, BudgetGCC, toolchain)
			}
		}
	}
}
