package bench

import (
	"debug/elf"
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

// linking is how a subject is linked.
type linking int

const (
	dynamicGlibc linking = iota // go build's default for a cgo program
	staticGlibc                 // -linkmode external -extldflags -static
	staticMusl                  // the same with CC=musl-gcc
)

// links are the three ways of linking a program that imports early, in
// the order of the benchmarks' sub-benchmarks and of the README's columns.
var links = []linking{dynamicGlibc, staticGlibc, staticMusl}

var linkingNames = [...]string{"glibc", "glibc-static", "musl-static"}

func (l linking) String() string { return linkingNames[l] }

// timedNames name the sub-benchmarks of the timed benchmarks (Startup,
// Switch, Harness), which link every dynamic subject with -z now: the
// dynamic loader binds every symbol before the program starts, so that no
// lazy binding falls inside a timed span (see bindNow).
var timedNames = [...]string{"glibc-dynamic-znow", "glibc-static", "musl-static"}

func (l linking) timedName() string { return timedNames[l] }

// variant is what a build adds to the way of linking.
type variant struct {
	strip bool // -ldflags=-s -w
	// now links a dynamic program with -z now, so that the loader binds
	// every symbol before the first constructor (DT_FLAGS BIND_NOW);
	// a static program has nothing to bind.
	now bool
	// wrapMain links with --wrap=main for testdata/mark's hook; the
	// program must import package mark.
	wrapMain bool
}

// timed is the variant of every subject whose time is measured.
var timed = variant{now: true, wrapMain: true}

var (
	buildMu sync.Mutex
	built   = map[string]string{} // key -> path of the binary
)

// buildGo builds the main package testdata/<pkg> linked as l, stripped
// (-s -w) or not, as go build links it by default, and returns the path of
// the binary.
func buildGo(b *testing.B, pkg string, l linking, strip bool) string {
	b.Helper()
	return buildGoVariant(b, pkg, l, variant{strip: strip})
}

// buildGoVariant builds the main package testdata/<pkg> linked as l, with
// what v adds, and returns the path of the binary.
func buildGoVariant(b *testing.B, pkg string, l linking, v variant) string {
	b.Helper()
	var ldflags, extld []string
	if v.strip {
		ldflags = append(ldflags, "-s", "-w")
	}
	env := append(os.Environ(), "CGO_ENABLED=1")
	if l == dynamicGlibc {
		if v.now || v.wrapMain {
			// -no-pie is what go passes to gcc when it is not given
			// -extldflags; keep it when giving them.
			extld = append(extld, "-no-pie")
		}
		if v.now {
			extld = append(extld, "-Wl,-z,now")
		}
	} else {
		ldflags = append(ldflags, "-linkmode", "external")
		extld = append(extld, "-static")
	}
	if v.wrapMain {
		extld = append(extld, "-Wl,--wrap=main")
	}
	if len(extld) > 0 {
		ldflags = append(ldflags, "-extldflags", "'"+strings.Join(extld, " ")+"'")
	}
	if l == staticMusl {
		env = append(env, "CC="+lookTool(b, "musl-gcc"))
	}
	name := strings.ReplaceAll(pkg, "/", "-") + "-" + l.String()
	if v.strip {
		name += "-stripped"
	}
	if v.now {
		name += "-now"
	}
	if v.wrapMain {
		name += "-timed"
	}
	args := []string{"build", "-trimpath", "-buildvcs=false", "-o", outPath, "-ldflags", strings.Join(ldflags, " "), "./testdata/" + pkg}
	path := build(b, name, env, testutil.GoTool(b), args)
	if v.now {
		bindNow(b, path, l)
	}
	return path
}

// buildC compiles testdata/<name>/<name>.c with -O2, linked as l the way
// the timed Go subjects are (see variant.now): dynamic with gcc -no-pie
// -z now, static with gcc -static, static with musl-gcc -static.
func buildC(b *testing.B, name string, l linking) string {
	b.Helper()
	src := filepath.Join("testdata", name, name+".c")
	cc, flags := "gcc", []string{"-no-pie", "-Wl,-z,now"}
	if l != dynamicGlibc {
		flags = []string{"-static"}
	}
	if l == staticMusl {
		cc = "musl-gcc"
	}
	args := append([]string{"-O2", "-Wall", "-o", outPath, src}, flags...)
	path := build(b, name+"-"+l.String(), os.Environ(), lookTool(b, cc), args)
	bindNow(b, path, l)
	return path
}

// bindNow fails the benchmark unless the program at path, linked as l, is
// static or asks the loader to bind every symbol at start: a timed span
// with lazy binding inside pays for resolving the C library's functions on
// their first call, a cost of the link mode rather than of the code.
func bindNow(b *testing.B, path string, l linking) {
	b.Helper()
	f, err := elf.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	dynamic := f.Section(".dynamic") != nil && f.Section(".interp") != nil
	if !dynamic {
		if l == dynamicGlibc {
			b.Fatalf("%s: linked as %s, but has no dynamic section", path, l)
		}
		return
	}
	if l != dynamicGlibc {
		b.Fatalf("%s: linked as %s, but is dynamic", path, l)
	}
	flags, _ := f.DynValue(elf.DT_FLAGS)
	flags1, _ := f.DynValue(elf.DT_FLAGS_1)
	for _, v := range flags {
		if elf.DynFlag(v)&elf.DF_BIND_NOW != 0 {
			return
		}
	}
	for _, v := range flags1 {
		if elf.DynFlag1(v)&elf.DF_1_NOW != 0 {
			return
		}
	}
	b.Fatalf("%s: not linked with -z now: lazy binding would fall inside the timed spans", path)
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
