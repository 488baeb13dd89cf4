package cover_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gonsproject/gons/internal/preinit"
	"github.com/gonsproject/gons/internal/testutil"
)

// forkTag builds the package under test with the fork server, whose
// children it checks it gets.
const forkTag = "gons_forkserver"

// The package under test: its only function runs in re-executed children
// alone. Its TestMain uses the wrapper unless COVERED_NO_WRAPPER is set.
const (
	coveredPkg  = "github.com/gonsproject/gons/reexec/cover/testdata/covered"
	coveredFile = coveredPkg + "/covered.go"
)

// env returns the test's environment without GOCOVERDIR, plus extra.
func env(extra ...string) []string {
	var e []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOCOVERDIR=") {
			e = append(e, kv)
		}
	}
	return append(e, extra...)
}

// coverage reads a text coverage profile and returns how many statements
// of covered.go it lists and how many of those ran.
func coverage(t *testing.T, profile string) (stmts, ran int) {
	t.Helper()
	f, err := os.Open(profile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// file:start,end numstmts count
		line := sc.Text()
		if !strings.HasPrefix(line, coveredFile+":") {
			continue
		}
		f := strings.Fields(line)
		n, _ := strconv.Atoi(f[1])
		c, _ := strconv.Atoi(f[2])
		stmts += n
		if c > 0 {
			ran += n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if stmts == 0 {
		t.Fatalf("%s lists no statement of %s", profile, coveredFile)
	}
	return stmts, ran
}

var percentRE = regexp.MustCompile(`coverage: ([0-9.]+)% of statements`)

// percent returns the coverage percentage that go test printed.
func percent(t *testing.T, out []byte) float64 {
	t.Helper()
	m := percentRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no coverage percentage in:\n%s", out)
	}
	p, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkCovered asserts that the child's code counted with the wrapper and
// did not without it.
func checkCovered(t *testing.T, wrapped bool, profile string, out []byte) {
	t.Helper()
	stmts, ran := coverage(t, profile)
	pct := percent(t, out)
	t.Logf("wrapper %v: %d of %d statements of covered.go ran; go test said %.1f%%", wrapped, ran, stmts, pct)
	if wrapped && (ran == 0 || pct == 0) {
		t.Errorf("with the wrapper the child's code did not count:\n%s", out)
	}
	if !wrapped && (ran != 0 || pct != 0) {
		t.Errorf("without the wrapper the child's code counted, so this case proves nothing:\n%s", out)
	}
}

// TestTestBinaryWithoutGOCOVERDIR builds the test binary with go test -c
// -cover and runs it with -test.coverprofile but without GOCOVERDIR:
// testing makes its coverage directory only at the end, too late for the
// children, unless the wrapper gives it one at the start.
func TestTestBinaryWithoutGOCOVERDIR(t *testing.T) {
	testutil.RequireCgo(t) // for the fork server's build
	dir := t.TempDir()
	bin := filepath.Join(dir, "covered.test")
	build := exec.Command(testutil.GoTool(t), "test", "-c", "-cover", "-o", bin, "./testdata/covered")
	build.Env = env()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	forkBin := filepath.Join(dir, "covered-forkserver.test")
	build = exec.Command(testutil.GoTool(t), "test", "-c", "-cover", "-tags", forkTag, "-o", forkBin, "./testdata/covered")
	build.Env = env()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, tc := range []struct {
		wrapped bool
		bin     string
	}{{true, bin}, {false, bin}, {true, forkBin}} {
		wrapped := tc.wrapped
		t.Run(fmt.Sprintf("wrapper=%v/%s", wrapped, filepath.Base(tc.bin)), func(t *testing.T) {
			profile := filepath.Join(t.TempDir(), "profile")
			cmd := exec.Command(tc.bin, "-test.coverprofile="+profile)
			cmd.Dir = dir
			cmd.Env = env()
			if !wrapped {
				cmd.Env = append(cmd.Env, "COVERED_NO_WRAPPER=1")
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			checkCovered(t, wrapped, profile, out)
		})
	}
}

// mountHolder starts a process in new user and mount namespaces, in which
// a tmpfs hides dir, and returns the path of its /proc/<pid>/ns.
func mountHolder(t *testing.T, dir string) string {
	t.Helper()
	testutil.RequireRoot(t)
	pid := testutil.Holder(t, []string{"--user", "--map-root-user", "--mount"},
		"mount -t tmpfs gons-hide '"+dir+"'")
	return fmt.Sprintf("/proc/%d/ns/", pid)
}

// TestMountNamespace runs go test -cover -coverprofile on the package,
// whose child joins a mount namespace in which go test's coverage
// directory is hidden, with and without the wrapper, with -coverpkg, and
// joining the user namespace that owns the mount namespace as well.
func TestMountNamespace(t *testing.T) {
	if !preinit.Ran() {
		testutil.Unavailable(t, "package early's constructor did not run in the test binary (built with CGO_ENABLED=0?)")
	}
	// go test works, and keeps the coverage directory, below GOTMPDIR:
	// the holder hides it.
	work := t.TempDir()
	ns := mountHolder(t, work)
	coverpkg := "-coverpkg=" + coveredPkg + ",github.com/gonsproject/gons/reexec"
	for _, tc := range []struct {
		doc     string
		wrapped bool
		args    []string
		userns  bool
	}{
		{"wrapper", true, nil, false},
		{"no wrapper", false, nil, false},
		{"wrapper coverpkg", true, []string{coverpkg}, false},
		{"no wrapper coverpkg", false, []string{coverpkg}, false},
		{"wrapper userns", true, nil, true},
		{"no wrapper userns", false, nil, true},
		{"fork server wrapper", true, []string{"-tags", forkTag}, false},
		{"fork server wrapper userns", true, []string{"-tags", forkTag}, true},
		{"fork server wrapper coverpkg", true, []string{"-tags", forkTag, coverpkg}, false},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			profile := filepath.Join(t.TempDir(), "profile")
			args := append([]string{"test", "-count=1", "-cover", "-coverprofile=" + profile}, tc.args...)
			cmd := exec.Command(testutil.GoTool(t), append(args, "./testdata/covered")...)
			cmd.Env = env("GOTMPDIR="+work, "COVERED_MNTNS="+ns+"mnt")
			if tc.userns {
				cmd.Env = append(cmd.Env, "COVERED_USERNS="+ns+"user")
			}
			if !tc.wrapped {
				cmd.Env = append(cmd.Env, "COVERED_NO_WRAPPER=1")
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if slices.Contains(tc.args, coverpkg) {
				// The percentage spans reexec too, which the parent
				// runs: only the profile tells about covered.go.
				stmts, ran := coverage(t, profile)
				t.Logf("wrapper %v: %d of %d statements of covered.go ran", tc.wrapped, ran, stmts)
				if tc.wrapped != (ran > 0) {
					t.Errorf("wrapper %v, but %d of %d statements ran:\n%s", tc.wrapped, ran, stmts, out)
				}
				return
			}
			checkCovered(t, tc.wrapped, profile, out)
		})
	}
}
