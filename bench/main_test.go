package bench

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"testing"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "gons-bench-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		printConfig()
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// printConfig writes what produced the figures as configuration lines of
// the Go benchmark format ("key: value", which benchstat reads and the
// README's table quotes), next to the goos, goarch, pkg and cpu lines that
// go test writes: the commit of the tree, the kernel, the machine and the
// tools that built the subjects.
func printConfig() {
	var uts unix.Utsname
	kernel := "unknown"
	if unix.Uname(&uts) == nil {
		kernel = unix.ByteSliceToString(uts.Release[:])
	}
	commit := firstLine("git", "rev-parse", "--short=12", "HEAD")
	if commit != "unknown" && firstLine("git", "status", "--porcelain", "--untracked-files=no", "..") != "" {
		commit += "+changes"
	}
	var si unix.Sysinfo_t
	mem := ""
	if unix.Sysinfo(&si) == nil {
		mem = fmt.Sprintf(", %d GiB", (uint64(si.Totalram)*uint64(si.Unit)+1<<29)>>30)
	}
	fmt.Printf("commit: %s\n", commit)
	fmt.Printf("machine: %d cores%s, %s\n", runtime.NumCPU(), mem, virtualization())
	fmt.Printf("kernel: %s\n", kernel)
	fmt.Printf("go: %s\n", runtime.Version())
	fmt.Printf("glibc: %s\n", match(firstLine("ldd", "--version"), `([0-9]+\.[0-9]+\S*)$`))
	fmt.Printf("musl: %s\n", muslVersion())
	fmt.Printf("gcc: %s\n", firstLine("gcc", "-dumpfullversion"))
	fmt.Printf("valgrind: %s\n", strings.TrimPrefix(firstLine("valgrind", "--version"), "valgrind-"))
}

// virtualization says whether the CPU reports a hypervisor.
func virtualization() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	if regexp.MustCompile(`(?m)^flags\s*:.*\bhypervisor\b`).Match(b) {
		return "virtual machine"
	}
	return "no hypervisor reported"
}

// muslVersion returns the version musl's dynamic loader prints when run
// as a program.
func muslVersion() string {
	loaders, _ := filepath.Glob("/lib/ld-musl-*.so.1")
	if len(loaders) == 0 {
		return "unknown"
	}
	return match(allOutput(loaders[0]), `Version ([0-9.]+)`)
}

// firstLine returns the first line of what the command prints, or
// "unknown" if it cannot run.
func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// allOutput returns stdout and stderr of the command together.
func allOutput(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	return strings.TrimSpace(string(out))
}

// match returns the first group of expr's match in s, or "unknown".
func match(s, expr string) string {
	if m := regexp.MustCompile(expr).FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return "unknown"
}
