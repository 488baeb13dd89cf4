package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsexec"
	"github.com/gonsproject/gons/status"
)

// probe prints what the conformance cases compare: the namespaces, the
// credentials, the working directory and the host name.
const probe = `for t in cgroup ipc mnt net pid time user uts; do readlink /proc/self/ns/$t; done; id -u; id -g; id -G; pwd; hostname`

var build struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.path != "" {
		os.RemoveAll(filepath.Dir(build.path))
	}
	os.Exit(code)
}

// binary builds gons-nsenter, static where the C library allows it, once.
func binary(t *testing.T) string {
	t.Helper()
	gotool := testutil.GoTool(t)
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "gons-nsenter")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "gons-nsenter")
		cmd := exec.Command(gotool, "build", "-o", build.path, "-ldflags", "-linkmode external -extldflags -static", ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if musl, err := exec.LookPath("musl-gcc"); err == nil {
			cmd.Env = append(cmd.Env, "CC="+musl)
		}
		build.out, build.err = cmd.CombinedOutput()
	})
	if build.err != nil {
		t.Fatalf("building gons-nsenter static: %v\n%s", build.err, build.out)
	}
	return build.path
}

// outcome is what a run shows: its output, and how it ended.
type outcome struct {
	stdout string
	status string // "exit N" or "signal NAME"
	stderr string
}

func runTool(t *testing.T, path string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(path, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	o := outcome{stdout: out.String(), stderr: strings.TrimSpace(errOut.String())}
	var ee *exec.ExitError
	switch {
	case err == nil:
		o.status = "exit 0"
	case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled():
		o.status = "signal " + ee.Sys().(syscall.WaitStatus).Signal().String()
	case errors.As(err, &ee):
		o.status = "exit " + strconv.Itoa(ee.ExitCode())
	default:
		t.Fatalf("%s %q: %v", path, args, err)
	}
	return o
}

// runAPI runs c and gives its outcome, a failure of Start as the status
// "start: ERR" (the exit status gons-nsenter maps it to is in want).
func runAPI(c *nsexec.Cmd) (outcome, error) {
	var out bytes.Buffer
	c.Stdout = &out
	err := c.Start()
	if err != nil {
		return outcome{}, err
	}
	err = c.Wait()
	o := outcome{stdout: out.String(), status: "exit 0"}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		o.status = "exit " + strconv.Itoa(ws.ExitStatus())
		if ws.Signaled() {
			o.status = "signal " + ws.Signal().String()
		}
	}
	return o, nil
}

// TestConformance runs each case with util-linux's nsenter, gons-nsenter
// and the Go API, and compares what they show: namespaces, credentials,
// directory, host name, output and exit status. Where a case fails before
// the program runs, the exit status must agree, the Go API's error must
// be Start's with the op and errno given, and the messages, which differ,
// are logged.
func TestConformance(t *testing.T) {
	testutil.RequireRoot(t)
	nsenter := testutil.RequireTool(t, "nsenter")
	gons := binary(t)
	a := testutil.Holder(t, []string{"--net", "--uts", "--ipc", "--mount", "--cgroup", "--time", "--pid"}, "hostname conform")
	b := testutil.Holder(t, []string{"--user", "--map-root-user"}, "")
	A, B := strconv.Itoa(a), strconv.Itoa(b)
	gone := exec.Command("true")
	gone.Run()
	G := strconv.Itoa(gone.Process.Pid)

	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "sub"), 0o755)
	gcc := testutil.RequireTool(t, "gcc")
	// The probe of nsexec's tests, which chroot too.
	if out, err := exec.Command(gcc, "-static", "-O2", "-o", filepath.Join(root, "probe"), "../../nsexec/testdata/probe.c").CombinedOutput(); err != nil {
		testutil.Unavailable(t, "gcc -static: %v: %s", err, out)
	}
	sh := []string{"sh", "-c", probe}
	cmd := func(args ...string) *nsexec.Cmd {
		if len(args) == 0 {
			args = sh
		}
		return nsexec.Command(args[0], args[1:]...)
	}
	target := func(pid int, types ...string) func(*nsexec.Cmd) {
		return func(c *nsexec.Cmd) { c.Target = &nsexec.Target{PID: pid, Types: types} }
	}

	cases := []struct {
		name  string
		args  []string // nsenter's, and gons-nsenter's unless gargs
		gargs []string
		api   func() *nsexec.Cmd
		// For a failure before the program: the Go API's op and errno.
		op    string
		errno error
	}{
		{name: "net", args: append([]string{"-t", A, "-n"}, sh...), api: with(cmd(), target(a, "net"))},
		{name: "uts", args: append([]string{"-t", A, "-u"}, sh...), api: with(cmd(), target(a, "uts"))},
		{name: "ipc", args: append([]string{"-t", A, "-i"}, sh...), api: with(cmd(), target(a, "ipc"))},
		{name: "mnt", args: append([]string{"-t", A, "-m"}, sh...), api: with(cmd(), target(a, "mnt"))},
		{name: "cgroup", args: append([]string{"-t", A, "-C"}, sh...), api: with(cmd(), target(a, "cgroup"))},
		{name: "time", args: append([]string{"-t", A, "-T"}, sh...), api: with(cmd(), target(a, "time"))},
		{name: "pid", args: append([]string{"-t", A, "-p"}, sh...), api: with(cmd(), target(a, "pid"))},
		{name: "pid no fork", args: append([]string{"-t", A, "-p", "-F"}, sh...),
			api: with(cmd(), target(a, "pid"), func(c *nsexec.Cmd) { c.NoFork = true })},
		{name: "user, root there", args: append([]string{"-t", B, "-U"}, sh...),
			api: with(cmd(), target(b, "user"), func(c *nsexec.Cmd) { c.Credential = &nsexec.Credential{} })},
		{name: "user, preserved credentials", args: append([]string{"-t", B, "-U", "--preserve-credentials"}, sh...),
			api: with(cmd(), target(b, "user"))},
		{name: "all", args: append([]string{"-t", A, "-a"}, sh...), api: with(cmd(), target(a))},
		{name: "types", args: append([]string{"-t", A, "-n", "-u", "-m"}, sh...), api: with(cmd(), target(a, "net", "uts", "mnt"))},
		{name: "files", args: append([]string{"--net=/proc/" + A + "/ns/net", "--uts=/proc/" + A + "/ns/uts"}, sh...),
			api: with(cmd(), func(c *nsexec.Cmd) {
				c.Namespaces = []nsexec.Namespace{{Type: "!uts", Path: "/proc/" + A + "/ns/uts"}, {Type: "!net", Path: "/proc/" + A + "/ns/net"}}
			})},
		{name: "root, directory", args: []string{"-r" + root, "-w" + root + "/sub", "/probe"},
			gargs: []string{"-r" + root, "-w/sub", "/probe"},
			api:   with(cmd("/probe"), func(c *nsexec.Cmd) { c.Root, c.Dir = root, "/sub" })},
		{name: "credentials", args: []string{"-S", "1234", "-G", "5678", "sh", "-c", "id -u; id -g; id -G"},
			api: with(cmd("sh", "-c", "id -u; id -g; id -G"), func(c *nsexec.Cmd) { c.Credential = &nsexec.Credential{Uid: 1234, Gid: 5678} })},
		{name: "uid alone", args: []string{"-S", "1234", "sh", "-c", "id -u; id -g; id -G"},
			api: with(cmd("sh", "-c", "id -u; id -g; id -G"), func(c *nsexec.Cmd) {
				c.Credential = &nsexec.Credential{Uid: 1234, NoSetGroups: true}
			})},
		{name: "exit status", args: []string{"-t", A, "-n", "sh", "-c", "exit 3"}, api: with(cmd("sh", "-c", "exit 3"), target(a, "net"))},
		{name: "exit 127 of the program", args: []string{"-t", A, "-n", "sh", "-c", "exit 127"}, api: with(cmd("sh", "-c", "exit 127"), target(a, "net"))},
		{name: "signal", args: []string{"-t", A, "-n", "sh", "-c", "kill -TERM $$"}, api: with(cmd("sh", "-c", "kill -TERM $$"), target(a, "net"))},
		{name: "signal through the relay", args: []string{"-t", A, "-p", "sh", "-c", "kill -TERM $$"}, api: with(cmd("sh", "-c", "kill -TERM $$"), target(a, "pid"))},
		{name: "program missing", args: []string{"-t", A, "-n", "no-such-program"}, api: with(cmd("no-such-program"), target(a, "net")),
			op: "exec", errno: unix.ENOENT},
		{name: "not executable", args: []string{"-t", A, "-n", "/etc/passwd"}, api: with(cmd("/etc/passwd"), target(a, "net")),
			op: "exec", errno: unix.EACCES},
		{name: "directory", args: []string{"-t", A, "-n", "/tmp"}, api: with(cmd("/tmp"), target(a, "net")),
			op: "exec", errno: unix.EACCES},
		{name: "target gone", args: []string{"-t", G, "-n", "true"}, api: with(cmd("true"), target(gone.Process.Pid, "net")),
			op: "target", errno: unix.ESRCH},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := runTool(t, nsenter, tc.args...)
			gargs := tc.gargs
			if gargs == nil {
				gargs = tc.args
			}
			got := runTool(t, gons, gargs...)
			if got.stdout != want.stdout || got.status != want.status {
				t.Errorf("gons-nsenter %q:\n%s%s\nnsenter %q:\n%s%s", gargs, got.stdout, got.status, tc.args, want.stdout, want.status)
			}
			api, err := runAPI(tc.api())
			if tc.errno != nil {
				var se *status.Error
				if !errors.As(err, &se) || se.Op != tc.op || !errors.Is(err, tc.errno) {
					t.Errorf("Go API: %v, want Start's error, op %s, %v", err, tc.op, tc.errno)
				}
				t.Logf("messages: nsenter %q, gons-nsenter %q, Go API %q", want.stderr, got.stderr, err)
				return
			}
			if err != nil || api.stdout != want.stdout || api.status != want.status {
				t.Errorf("Go API: %v\n%s%s\nnsenter:\n%s%s", err, api.stdout, api.status, want.stdout, want.status)
			}
		})
	}
}

// with returns a function that makes c, set up by each of set, once.
func with(c *nsexec.Cmd, set ...func(*nsexec.Cmd)) func() *nsexec.Cmd {
	return func() *nsexec.Cmd {
		for _, s := range set {
			s(c)
		}
		return c
	}
}
