//go:build cgo

package nsexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsexec"
	"github.com/gonsproject/gons/status"
)

var pipeInode = regexp.MustCompile(`pipe:\[[0-9]+\]`)

// nsLink returns the namespace link of type typ of process pid ("self").
func nsLink(t *testing.T, pid, typ string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + pid + "/ns/" + typ)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// route is the route the test asks for: "exec", "forkserver" or "direct".
var route = "direct"

// bothWays runs test by exec, through the fork server and by the direct
// start (which falls back to the fork server where it does not apply).
func bothWays(t *testing.T, test func(t *testing.T)) {
	t.Run("exec", func(t *testing.T) {
		nsexec.SetExecOnly(true)
		nsexec.SetNoDirect(true)
		defer nsexec.SetExecOnly(false)
		defer nsexec.SetNoDirect(false)
		route = "exec"
		defer func() { route = "direct" }()
		test(t)
	})
	t.Run("forkserver", func(t *testing.T) {
		nsexec.SetNoDirect(true)
		defer nsexec.SetNoDirect(false)
		if !nsexec.Forkable() {
			t.Fatal("the test binary imports reexec/forkserver, yet a Start would exec")
		}
		route = "forkserver"
		defer func() { route = "direct" }()
		test(t)
	})
	t.Run("direct", func(t *testing.T) {
		route = "direct"
		test(t)
	})
}

// noDirect keeps the test's starts off the direct route.
func noDirect(t *testing.T) {
	nsexec.SetNoDirect(true)
	t.Cleanup(func() { nsexec.SetNoDirect(false) })
}

// wantRoute is the route c's start takes in the test: the direct start
// falls back to the fork server where it does not apply.
func wantRoute(c *nsexec.Cmd) string {
	if route == "direct" && !nsexec.DirectApplies(c) {
		return "forkserver"
	}
	return route
}

// output runs c and returns its standard output, trimmed; a failure, or a
// child started another way than the test asks, fails the test.
func output(t *testing.T, c *nsexec.Cmd) string {
	t.Helper()
	want := wantRoute(c)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	if got := nsexec.Route(c); got != want {
		t.Fatalf("%s: started by %s, want %s", c, got, want)
	}
	return strings.TrimSpace(string(out))
}

func TestRunAndOutput(t *testing.T) { bothWays(t, testRunAndOutput) }

func testRunAndOutput(t *testing.T) {
	if err := nsexec.Command("/bin/true").Run(); err != nil {
		t.Fatal(err)
	}
	if got := output(t, nsexec.Command("echo", "a", "b c")); got != "a b c" {
		t.Fatalf("got %q", got)
	}
	c := nsexec.Command("sh", "-c", "echo out; echo err >&2")
	out, err := c.CombinedOutput()
	if err != nil || string(out) != "out\nerr\n" {
		t.Fatalf("%q %v", out, err)
	}
}

// An exit status, 127 included, is the program's own; failures before
// the program runs are Start's errors.
func TestExitStatusIsTheProgramsOwn(t *testing.T) { bothWays(t, testExitStatusIsTheProgramsOwn) }

func testExitStatusIsTheProgramsOwn(t *testing.T) {
	for _, code := range []int{1, 2, 125, 126, 127} {
		err := nsexec.Command("sh", "-c", "exit "+strconv.Itoa(code)).Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != code {
			t.Fatalf("exit %d: %v", code, err)
		}
	}
	c := nsexec.Command("sh", "-c", "kill -TERM $$")
	err := c.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != unix.SIGTERM {
		t.Fatalf("death by signal: %v", err)
	}
	out, err := nsexec.Command("sh", "-c", "echo oops >&2; exit 3").Output()
	if !errors.As(err, &ee) || string(ee.Stderr) != "oops\n" || len(out) != 0 {
		t.Fatalf("Output: %q %v", out, err)
	}
}

// startErr runs c and returns its error, which must be a *status.Error
// from Start with op, wrapping errno.
func startErr(t *testing.T, c *nsexec.Cmd, op string, errno error) *status.Error {
	t.Helper()
	err := c.Start()
	var se *status.Error
	if !errors.As(err, &se) || se.Op != op || !errors.Is(err, errno) {
		if err == nil {
			c.Wait()
		}
		t.Fatalf("%s: got %v, want a *status.Error %s wrapping %v", c, err, op, errno)
	}
	if c.Process != nil {
		t.Fatalf("%s: Process set after a failed Start", c)
	}
	return se
}

func TestProgramErrors(t *testing.T) { bothWays(t, testProgramErrors) }

func testProgramErrors(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644)
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("\x00\x01\x02garbage"), 0o755)

	se := startErr(t, nsexec.Command("no-such-program-here"), "exec", unix.ENOENT)
	if se.Path != "no-such-program-here" {
		t.Errorf("path %q", se.Path)
	}
	startErr(t, nsexec.Command(filepath.Join(dir, "missing")), "exec", unix.ENOENT)
	startErr(t, nsexec.Command(dir), "exec", unix.EACCES)
	startErr(t, nsexec.Command(garbage), "exec", unix.ENOEXEC)
	startErr(t, nsexec.Command(""), "exec", unix.ENOENT)
	startErr(t, nsexec.Command("echo", "a\x00b"), "exec", unix.EINVAL)
	c := nsexec.Command("/bin/true")
	c.Env = []string{"A=\x00"}
	startErr(t, c, "exec", unix.EINVAL)
	if os.Geteuid() != 0 {
		startErr(t, nsexec.Command(noexec), "exec", unix.EACCES)
	}
	// Looked up in Env's PATH: found nowhere but in an unreadable
	// directory is EACCES, as with execvp.
	c = nsexec.Command("noexec")
	c.Env = []string{"PATH=/nonexistent:" + dir}
	if os.Geteuid() != 0 {
		startErr(t, c, "exec", unix.EACCES)
	}
	c = nsexec.Command("true")
	c.Env = []string{"PATH=/nonexistent"}
	startErr(t, c, "exec", unix.ENOENT)
}

// A program being written to cannot be executed (ETXTBSY).
func TestTextBusy(t *testing.T) { bothWays(t, testTextBusy) }

func testTextBusy(t *testing.T) {
	p := filepath.Join(t.TempDir(), "prog")
	b, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(b)
	startErr(t, nsexec.Command(p), "exec", unix.ETXTBSY)
}

// Arguments execve(2) takes run; one over MAX_ARG_STRLEN is E2BIG, from
// Start.
func TestArgumentSizes(t *testing.T) { bothWays(t, testArgumentSizes) }

func testArgumentSizes(t *testing.T) {
	near := strings.Repeat("x", 32*4096-1)
	// Larger than a request to the fork server takes: by exec.
	got, err := nsexec.Command("sh", "-c", `echo ${#1}`, "sh", near).Output()
	if err != nil || strings.TrimSpace(string(got)) != strconv.Itoa(len(near)) {
		t.Fatalf("got %.80q, %v", got, err)
	}
	err = nsexec.Command("/bin/true", near+"x").Start()
	if !errors.Is(err, unix.E2BIG) {
		t.Fatalf("got %.200v, want E2BIG", err)
	}
}

// The program's environment is exactly Env, its descriptors 0, 1, 2 and
// ExtraFiles, its arguments Args, and its signal mask and ignored signals
// those an os/exec child has: the probes compare both.
func TestHygiene(t *testing.T) { bothWays(t, testHygiene) }

func testHygiene(t *testing.T) {
	extra, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	env := []string{"A=1", "PATH=/usr/bin:/bin", "gons_net=/proc/1/ns/net", "B=2", "GONS_EXEC=3,0,0,0,0"}
	probe := `tr '\0' '\n' </proc/self/environ; echo; for f in /proc/self/fd/*; do echo "$f $(readlink $f)"; done; grep -E '^Sig(Blk|Ign)' /proc/self/status; echo "$0 $@"`
	run := func(c interface{ Output() ([]byte, error) }) string {
		out, err := c.Output()
		if err != nil {
			t.Fatal(err)
		}
		return pipeInode.ReplaceAllString(string(out), "pipe")
	}
	n := nsexec.Command("sh", "-c", probe, "zero", "one")
	n.Env, n.ExtraFiles = env, []*os.File{extra}
	got := run(n)
	e := exec.Command("sh", "-c", probe, "zero", "one")
	e.Env, e.ExtraFiles = []string{"A=1", "PATH=/usr/bin:/bin", "B=2"}, []*os.File{extra}
	want := run(e)
	// An os/exec child also inherits what this process inherited without
	// close-on-exec; the program does not.
	for _, fd := range inherited(t) {
		want = regexp.MustCompile("(?m)^/proc/self/fd/"+strconv.Itoa(fd)+" .*\n").ReplaceAllString(want, "")
	}
	if got != want {
		t.Fatalf("nsexec child:\n%s\nos/exec child:\n%s", got, want)
	}
	if strings.Contains(got, "gons") || strings.Contains(got, "GONS") {
		t.Fatalf("leaked: %s", got)
	}
}

// inherited returns the descriptors from 3 up that this process holds
// without close-on-exec, which exec.Cmd passes on to every child.
func inherited(t *testing.T) []int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, e := range ents {
		fd, _ := strconv.Atoi(e.Name())
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); fd > 2 && err == nil && flags&unix.FD_CLOEXEC == 0 {
			fds = append(fds, fd)
		}
	}
	return fds
}

// A signal the caller ignores at the call is ignored in the program, as in
// an os/exec child; the fork server's child, which starts with the
// program's dispositions at its start, is not used then. It runs in a
// child process: Go leaves an ignored signal ignored after signal.Reset.
func TestIgnoredSignal(t *testing.T) {
	if os.Getenv("NSEXEC_TEST_IGNORE") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIgnoredSignal$", "-test.v")
		cmd.Env = append(os.Environ(), "NSEXEC_TEST_IGNORE=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	signal.Ignore(unix.SIGHUP)
	for _, way := range []struct {
		execOnly, noDirect bool
		route              string
	}{{true, true, "exec"}, {false, true, "exec"}, {false, false, "direct"}} {
		nsexec.SetExecOnly(way.execOnly)
		nsexec.SetNoDirect(way.noDirect)
		c := nsexec.Command("grep", "^SigIgn", "/proc/self/status")
		out, err := c.Output()
		var ign uint64
		if err == nil {
			_, err = fmt.Sscanf(string(out), "SigIgn:\t%x", &ign)
		}
		if err != nil || ign&(1<<(unix.SIGHUP-1)) == 0 || nsexec.Route(c) != way.route {
			t.Fatalf("%+v: %q %v, route %s", way, out, err, nsexec.Route(c))
		}
	}
	nsexec.SetExecOnly(false)
	nsexec.SetNoDirect(false)
}

func TestContextKills(t *testing.T) { bothWays(t, testContextKills) }

func testContextKills(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c := nsexec.CommandContext(ctx, "sleep", "60")
	err := c.Run()
	if ctx.Err() == nil || c.ProcessState == nil || c.ProcessState.Sys().(syscall.WaitStatus).Signal() != unix.SIGKILL {
		t.Fatalf("%v, %v", err, c.ProcessState)
	}
	c = nsexec.CommandContext(ctx, "/bin/true")
	if err := c.Start(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start with a done context: %v", err)
	}
}

func TestNamespacesByPath(t *testing.T) { bothWays(t, testNamespacesByPath) }

func testNamespacesByPath(t *testing.T) {
	testutil.RequireRoot(t)
	pid := strconv.Itoa(testutil.Holder(t, []string{"--net", "--uts"}, "hostname inside"))
	c := nsexec.Command("sh", "-c", "hostname; readlink /proc/self/ns/net")
	c.Namespaces = []nsexec.Namespace{{Type: "net", Path: "/proc/" + pid + "/ns/net"}, {Type: "!uts", Path: "/proc/" + pid + "/ns/uts"}}
	if got, want := output(t, c), "inside\n"+nsLink(t, pid, "net"); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c = nsexec.Command("/bin/true")
	c.Namespaces = []nsexec.Namespace{{Type: "net", Path: "/proc/" + pid + "/ns/uts"}}
	se := startErr(t, c, "check", unix.EINVAL)
	if se.Type != "net" || !errors.Is(se, status.ErrWrongType) {
		t.Fatalf("%v", se)
	}
}

func TestTarget(t *testing.T) { bothWays(t, testTarget) }

func testTarget(t *testing.T) {
	testutil.RequireRoot(t)
	pid := strconv.Itoa(testutil.Holder(t, []string{"--net", "--uts", "--ipc", "--mount"}, "hostname target; mount -t tmpfs none /mnt; echo x >/mnt/mark"))
	c := nsexec.Command("sh", "-c", "hostname; cat /mnt/mark; for t in net uts ipc mnt; do readlink /proc/self/ns/$t; done")
	p, _ := strconv.Atoi(pid)
	c.Target = &nsexec.Target{PID: p}
	want := "target\nx"
	for _, typ := range []string{"net", "uts", "ipc", "mnt"} {
		want += "\n" + nsLink(t, pid, typ)
	}
	if got := output(t, c); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c = nsexec.Command("hostname")
	c.Target = &nsexec.Target{PID: p, Types: []string{"net"}}
	if got, _ := os.Hostname(); output(t, c) != got {
		t.Fatalf("Types: net joined more")
	}
}

// A target that has exited: ESRCH from the pidfd, never an empty join.
func TestTargetGone(t *testing.T) { bothWays(t, testTargetGone) }

func testTargetGone(t *testing.T) {
	testutil.RequireRoot(t)
	e := exec.Command("/bin/true")
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.PidfdOpen(e.Process.Pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	pidfd := os.NewFile(uintptr(fd), "pidfd")
	defer pidfd.Close()
	e.Wait()
	c := nsexec.Command("/bin/true")
	c.Target = &nsexec.Target{PID: e.Process.Pid, Pidfd: pidfd}
	err = c.Start()
	if !errors.Is(err, unix.ESRCH) {
		if err == nil {
			c.Wait()
		}
		t.Fatalf("got %v, want ESRCH", err)
	}
	c = nsexec.Command("/bin/true")
	c.Target = &nsexec.Target{PID: e.Process.Pid}
	if err := c.Start(); !errors.Is(err, unix.ESRCH) {
		t.Fatalf("got %v, want ESRCH", err)
	}
}

// PID namespace: by default the program is in it, behind a relay that
// passes on its exit status; with NoFork only its children are.
func TestPID(t *testing.T) { bothWays(t, testPID) }

func testPID(t *testing.T) {
	testutil.RequireRoot(t)
	pid := strconv.Itoa(testutil.Holder(t, []string{"--pid", "--mount-proc"}, ""))
	p, _ := strconv.Atoi(pid)
	c := nsexec.Command("sh", "-c", "readlink /proc/self/ns/pid; exit 7")
	c.Target = &nsexec.Target{PID: p, Types: []string{"pid"}}
	out, err := c.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 || strings.TrimSpace(string(out)) != nsLink(t, pid, "pid") {
		t.Fatalf("%q %v", out, err)
	}
	c = nsexec.Command("readlink", "/proc/self/ns/pid", "/proc/self/ns/pid_for_children")
	c.Target = &nsexec.Target{PID: p, Types: []string{"pid"}}
	c.NoFork = true
	if got, want := output(t, c), nsLink(t, "self", "pid")+"\n"+nsLink(t, pid, "pid"); got != want {
		t.Fatalf("NoFork: got %q, want %q", got, want)
	}
	// Death by a signal passes through the relay.
	c = nsexec.Command("sh", "-c", "kill -KILL $$")
	c.Target = &nsexec.Target{PID: p, Types: []string{"pid"}}
	err = c.Run()
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != unix.SIGKILL {
		t.Fatalf("signal through the relay: %v", err)
	}
}

// staticProbe builds testdata/probe.c, static, into dir/name.
func staticProbe(t *testing.T, dir, name string) {
	t.Helper()
	gcc := testutil.RequireTool(t, "gcc")
	out, err := exec.Command(gcc, "-static", "-O2", "-o", filepath.Join(dir, name), "testdata/probe.c").CombinedOutput()
	if err != nil {
		testutil.Unavailable(t, "gcc -static (libc6-dev): %v: %s", err, out)
	}
}

func TestRootDirCredential(t *testing.T) { bothWays(t, testRootDirCredential) }

func testRootDirCredential(t *testing.T) {
	testutil.RequireRoot(t)
	root := t.TempDir()
	for _, d := range []string{"bin", "sub"} {
		os.Mkdir(filepath.Join(root, d), 0o755)
	}
	staticProbe(t, filepath.Join(root, "bin"), "probe")
	c := nsexec.Command("/bin/probe")
	c.Root, c.Dir = root, "/sub"
	c.Credential = &nsexec.Credential{Uid: 1234, Gid: 5678, Groups: []uint32{7, 8}}
	if got := output(t, c); got != "/sub\n1234\n5678\n7 8" {
		t.Fatalf("got %q", got)
	}
	// Looked up in the PATH of Env, under the root.
	c = nsexec.Command("probe")
	c.Root, c.Env = root, []string{"PATH=/bin"}
	c.Credential = &nsexec.Credential{Uid: 1, Gid: 2}
	if got := output(t, c); got != "/\n1\n2" {
		t.Fatalf("got %q", got)
	}
	// NoSetGroups keeps them.
	c = nsexec.Command("/bin/probe")
	c.Root = root
	c.Credential = &nsexec.Credential{Uid: 1, Gid: 2, NoSetGroups: true}
	groups, _ := unix.Getgroups()
	want := ""
	for i, g := range groups {
		want += strings.Repeat(" ", min(i, 1)) + strconv.Itoa(g)
	}
	if got := output(t, c); got != strings.TrimSpace("/\n1\n2\n"+want) {
		t.Fatalf("got %q, want groups %s", got, want)
	}
	c = nsexec.Command("/bin/true")
	c.Dir = "/nonexistent"
	if se := startErr(t, c, "chdir", unix.ENOENT); se.Path != "/nonexistent" {
		t.Fatalf("%v", se)
	}
	c = nsexec.Command("/bin/probe")
	c.Root = filepath.Join(root, "nothing")
	startErr(t, c, "chroot", unix.ENOENT)
}

// A failed credential step is Start's error; the program never runs. In
// a user namespace that maps only root, group 1234 does not exist.
func TestCredentialFails(t *testing.T) { bothWays(t, testCredentialFails) }

func testCredentialFails(t *testing.T) {
	testutil.RequireRoot(t)
	pid := testutil.Holder(t, []string{"--user", "--map-root-user"}, "")
	c := nsexec.Command("/bin/true")
	c.Target = &nsexec.Target{PID: pid, Types: []string{"user"}}
	c.Credential = &nsexec.Credential{Uid: 1234, Gid: 1234}
	startErr(t, c, "setgid", unix.EINVAL)
	// Root of that namespace: the groups cannot be dropped there
	// (setgroups "deny"), which is no failure, as with nsenter.
	c = nsexec.Command("id", "-u")
	c.Target = &nsexec.Target{PID: pid, Types: []string{"user"}}
	c.Credential = &nsexec.Credential{}
	if got := output(t, c); got != "0" {
		t.Fatalf("got %q", got)
	}
}
