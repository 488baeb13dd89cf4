package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
)

// binDir holds the subjects built by this test process, so that each is
// built once however many benchmarks (and -count runs) use it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gons-bench-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// linking is how a subject is linked.
type linking int

const (
	dynamicGlibc linking = iota // go build's default for a cgo program
	timedGlibc                  // the same, with testdata/mark's hook on main
	staticGlibc                 // -linkmode external -extldflags -static
	staticMusl                  // the same with CC=musl-gcc
)

var linkingNames = [...]string{"glibc", "glibc-timed", "glibc-static", "musl-static"}

func (l linking) String() string { return linkingNames[l] }

var (
	buildMu sync.Mutex
	built   = map[string]string{} // key -> path of the binary
)

// buildGo builds the main package testdata/<pkg> linked as l, stripped
// (-s -w) or not, and returns the path of the binary.
func buildGo(b *testing.B, pkg string, l linking, strip bool) string {
	b.Helper()
	var ldflags []string
	if strip {
		ldflags = append(ldflags, "-s", "-w")
	}
	env := append(os.Environ(), "CGO_ENABLED=1")
	switch l {
	case timedGlibc:
		// -no-pie is what go passes to gcc when it is not given
		// -extldflags; --wrap=main lets testdata/mark see main called.
		ldflags = append(ldflags, "-extldflags", "'-no-pie -Wl,--wrap=main'")
	case staticGlibc, staticMusl:
		ldflags = append(ldflags, "-linkmode", "external", "-extldflags", "-static")
	}
	if l == staticMusl {
		env = append(env, "CC="+lookTool(b, "musl-gcc"))
	}
	name := strings.ReplaceAll(pkg, "/", "-") + "-" + l.String()
	if strip {
		name += "-stripped"
	}
	args := []string{"build", "-trimpath", "-buildvcs=false", "-o", outPath, "-ldflags", strings.Join(ldflags, " "), "./testdata/" + pkg}
	return build(b, name, env, "go", args)
}

// buildC compiles testdata/<name>/<name>.c with gcc -O2 into a dynamic
// executable and returns its path.
func buildC(b *testing.B, name string) string {
	b.Helper()
	src := filepath.Join("testdata", name, name+".c")
	return build(b, name, os.Environ(), lookTool(b, "gcc"), []string{"-O2", "-Wall", "-o", outPath, src})
}

// build runs a compiler once per process for each name; each element
// of args equal to outPath is replaced by the output path.
func build(b *testing.B, name string, env []string, tool string, args []string) string {
	b.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if path, ok := built[name]; ok {
		return path
	}
	out := filepath.Join(binDir, name)
	args = append([]string(nil), args...)
	for i, a := range args {
		if a == outPath {
			args[i] = out
		}
	}
	cmd := exec.Command(tool, args...)
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building %s: %s %s: %v\n%s", name, tool, strings.Join(args, " "), err, msg)
	}
	built[name] = out
	return out
}

// lookTool returns the path of a program in PATH; outside CI a missing one
// skips the benchmark, in CI it fails it.
func lookTool(b *testing.B, name string) string {
	b.Helper()
	return testutil.RequireTool(b, name)
}

// outPath stands for the output file in the arguments given to build.
const outPath = "{out}"
