//go:build linux

package early_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/icmd"

	"github.com/gonsproject/gons/internal/testutil"
)

// report is what the probe (testdata/probe) prints.
type report struct {
	Ran       bool
	Joined    []string
	Err       *probeError
	NS        map[string]string
	FDs       []string
	Env       []string
	ProcEnv   []string
	SystemEnv []string
	Hostname  string
	Monotonic int64
	Dumpable  int
	Pid       int
	Exists    bool
	Cwd       string
	Child     *report

	ReexecFD    int
	TargetPID   int
	TargetInode uint64
	UIDs, GIDs  [3]int
	Groups      []int
}

type probeError struct {
	Op, Type, Path, Msg string
	Errno               int
}

// UnmarshalJSON decodes Path from bytes: it need not be UTF-8.
func (e *probeError) UnmarshalJSON(data []byte) error {
	var raw struct {
		Op, Type, Msg string
		Path          []byte
		Errno         int
	}
	err := json.Unmarshal(data, &raw)
	*e = probeError{Op: raw.Op, Type: raw.Type, Path: string(raw.Path), Msg: raw.Msg, Errno: raw.Errno}
	return err
}

// A flavour is one way to build the probe.
type flavour struct {
	name    string
	cc      string // C compiler, "" for the default
	ldflags string
	cgo     string // CGO_ENABLED
	cflags  string // CGO_CFLAGS
}

var (
	dynamic     = flavour{name: "dynamic", cgo: "1"}
	staticGlibc = flavour{name: "static-glibc", cgo: "1", ldflags: "-linkmode external -extldflags -static"}
	staticMusl  = flavour{name: "static-musl", cgo: "1", cc: "musl-gcc", ldflags: "-linkmode external -extldflags -static"}
	internal    = flavour{name: "internal", cgo: "1", ldflags: "-linkmode=internal"}
	noCgo       = flavour{name: "nocgo", cgo: "0"}
	// fallback behaves as on kernels before 5.8: their setns(2) takes no
	// pidfd, so a target's namespaces are joined one by one, and one's
	// own namespaces are looked up in /proc, for want of the pidfd
	// ioctls of Linux 6.11.
	fallback = flavour{name: "fallback", cgo: "1", cflags: "-O2 -g -DGONS_TEST_OLD_KERNEL"}

	// The builds every core case runs against.
	flavours = []flavour{dynamic, staticGlibc, staticMusl}
)

var (
	binDir string                // where probes are built, readable by everybody
	built  = map[string]string{} // flavour name -> probe, guarded by mu
	failed = map[string]bool{}   // flavours that did not build, guarded by mu
	mu     sync.Mutex
)

func TestMain(m *testing.M) {
	// Fds the test inherited would pass on to every probe and count as
	// leaked there.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		fmt.Fprintln(os.Stderr, "close_range:", err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "gons-probe-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// probe returns the path of the probe built as f, building it once.
func probe(t testing.TB, f flavour) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[f.name]; ok {
		return p
	}
	if failed[f.name] {
		t.Fatalf("the %s probe did not build: see the first test that needed it", f.name)
	}
	if f.cgo == "1" {
		testutil.RequireCgo(t)
	}
	if f.cc != "" {
		testutil.RequireTool(t, f.cc)
	}
	out := filepath.Join(binDir, "probe-"+f.name)
	build := icmd.Command(testutil.GoTool(t), "build", "-buildvcs=false", "-o", out, "-ldflags", f.ldflags, "./testdata/probe")
	build.Env = append(os.Environ(), "CGO_ENABLED="+f.cgo)
	if f.cc != "" {
		build.Env = append(build.Env, "CC="+f.cc)
	}
	if f.cflags != "" {
		build.Env = append(build.Env, "CGO_CFLAGS="+f.cflags)
	}
	if err := icmd.RunCmd(build).Compare(icmd.Success); err != nil {
		failed[f.name] = true
		t.Fatalf("building the %s probe: %v", f.name, err)
	}
	built[f.name] = out
	return out
}

// cleanEnv is the test's environment without gons_* variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "gons_") {
			env = append(env, kv)
		}
	}
	return env
}

// probeCmd returns a command that runs bin with env added to a clean
// environment.
func probeCmd(bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	return cmd
}

// probeRun is probeCmd for icmd, for runs that need no more than the
// environment and check exit code and output.
func probeRun(bin string, env []string, args ...string) icmd.Cmd {
	cmd := icmd.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	return cmd
}

// run runs cmd, which must exit 0, and returns the probe's report.
func run(t testing.TB, cmd *exec.Cmd) *report {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\nstderr: %s", cmd.Path, err, stderr.String())
	}
	return decode(t, out)
}

func decode(t testing.TB, out []byte) *report {
	t.Helper()
	r := new(report)
	if err := json.Unmarshal(out, r); err != nil {
		t.Fatalf("probe output %q: %v", out, err)
	}
	return r
}

// runProbe runs the probe built as f with env and returns its report.
func runProbe(t testing.TB, f flavour, env []string, args ...string) *report {
	t.Helper()
	return run(t, probeCmd(probe(t, f), env, args...))
}

// allTypes are the namespace types, as /proc/self/ns names them.
var allTypes = []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}

// nsLinks returns the /proc/PID/ns links of pid, by type.
func nsLinks(t testing.TB, pid string) map[string]string {
	t.Helper()
	links := map[string]string{}
	for _, typ := range allTypes {
		l, err := os.Readlink("/proc/" + pid + "/ns/" + typ)
		if err != nil {
			t.Fatal(err)
		}
		links[typ] = l
	}
	return links
}

// A holder is a process that keeps fresh namespaces alive.
type holder struct {
	pid    int
	ns     map[string]string // links, by type
	marker string            // a file that exists in its mnt namespace only
	offset int64             // its CLOCK_MONOTONIC offset, seconds
}

// path returns the path of the holder's namespace file of type typ.
func (h *holder) path(typ string) string {
	return "/proc/" + strconv.Itoa(h.pid) + "/ns/" + typ
}

const (
	holderHostname = "gons-holder"
	holderOffset   = 10 * 24 * 3600
)

// startHolder starts a holder in new namespaces of all eight types, owned
// by a new user namespace, with its own hostname, a tmpfs with a marker
// file, and a monotonic clock 10 days ahead.
func startHolder(t testing.TB) *holder {
	t.Helper()
	testutil.RequireRoot(t)
	dir := t.TempDir()
	h := &holder{marker: filepath.Join(dir, "marker"), offset: holderOffset}
	offset := strconv.Itoa(holderOffset)
	h.pid = testutil.Holder(t, []string{"--user", "--map-root-user", "--mount", "--uts", "--ipc", "--net",
		"--pid", "--cgroup", "--time", "--monotonic", offset, "--boottime", offset},
		fmt.Sprintf("hostname %s\nmount -t tmpfs gons %s\ntouch %s", holderHostname, dir, h.marker))
	h.ns = nsLinks(t, strconv.Itoa(h.pid))
	return h
}

// selfNS returns the test process's namespace links.
func selfNS(t testing.TB) map[string]string {
	t.Helper()
	return nsLinks(t, "self")
}

// monotonic returns CLOCK_MONOTONIC in seconds.
func monotonic(t testing.TB) int64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return int64(ts.Sec) // int32 on 32-bit systems
}
