package forkserver_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
)

// build builds the subject with version set, into dir, and returns its path.
func build(t *testing.T, dir, version string) string {
	t.Helper()
	testutil.RequireCgo(t) // the fork server is early's constructor
	bin := filepath.Join(dir, "subject-"+version)
	cmd := exec.Command(testutil.GoTool(t), "build", "-buildvcs=false", "-o", bin,
		"-ldflags", "-X main.version="+version, "./testdata/subject")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return bin
}

// subject is a running subject program.
type subject struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	server int // the fork server's PID
}

// outcome is what the subject prints for a command.
type outcome struct {
	Child struct {
		Version              string
		PPID                 int
		FDs                  map[string]string
		KernelCPUs, LibcCPUs int
	}
	Err     string
	Spawned int
}

// start starts bin and waits for it to be ready; the test kills it.
func start(t *testing.T, bin string) *subject {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Stderr = os.Stderr
	in, out := testutil.StartPiped(t, cmd)
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	s := &subject{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if !s.out.Scan() {
		t.Fatalf("the subject ended before it was ready: %v", s.out.Err())
	}
	if _, err := fmt.Sscanf(s.out.Text(), "ready %d", &s.server); err != nil || s.server <= 0 {
		t.Fatalf("the subject said %q, want ready and the fork server's PID", s.out.Text())
	}
	return s
}

// do sends the subject a command and returns the outcome.
func (s *subject) do(t *testing.T, command string) outcome {
	t.Helper()
	if _, err := fmt.Fprintln(s.in, command); err != nil {
		t.Fatal(err)
	}
	if !s.out.Scan() {
		t.Fatalf("%s: the subject ended: %v", command, s.out.Err())
	}
	var o outcome
	if err := json.Unmarshal(s.out.Bytes(), &o); err != nil {
		t.Fatalf("%s: %q: %v", command, s.out.Text(), err)
	}
	if o.Err != "" {
		t.Fatalf("%s: %s", command, o.Err)
	}
	if o.Child.PPID != s.cmd.Process.Pid {
		t.Errorf("%s: the child's parent is %d, want the program, %d", command, o.Child.PPID, s.cmd.Process.Pid)
	}
	return o
}

// gone reports whether process pid has ended: it is no more, or a zombie.
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

// within reports whether cond holds within d.
func within(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// fds returns what the descriptors of process pid refer to.
func fds(t *testing.T, pid int) map[string]string {
	t.Helper()
	names, err := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, n := range names {
		if l, err := os.Readlink(n); err == nil {
			m[filepath.Base(n)] = l
		}
	}
	return m
}

// children returns the children of process pid, zombies included.
func children(t *testing.T, pid int) []string {
	t.Helper()
	var pids []string
	for _, kid := range testutil.Children(pid) {
		pids = append(pids, strconv.Itoa(kid))
	}
	return pids
}

var subjectBin struct {
	dir, path string
}

// subjectPath builds the subject once for the tests that need only one.
func subjectPath(t *testing.T) string {
	t.Helper()
	if subjectBin.path == "" {
		dir, err := os.MkdirTemp("", "forkserver-test")
		if err != nil {
			t.Fatal(err)
		}
		subjectBin.dir, subjectBin.path = dir, build(t, dir, "one")
	}
	return subjectBin.path
}

func TestMain(m *testing.M) {
	reexec.CheckAction() // for Example
	code := m.Run()
	if subjectBin.dir != "" {
		os.RemoveAll(subjectBin.dir)
	}
	os.Exit(code)
}

// TestServerDiesWithProgram kills the program with SIGKILL: its server
// must end within a second, orphaned and without a socket peer.
func TestServerDiesWithProgram(t *testing.T) {
	s := start(t, subjectPath(t))
	s.do(t, "fork")
	s.cmd.Process.Kill()
	s.cmd.Wait()
	if !within(time.Second, func() bool { return gone(s.server) }) {
		t.Fatalf("the fork server %d outlived its program by a second", s.server)
	}
}

// TestChildDiesWithProgram kills the program with SIGKILL while an action
// runs: the action's process must end within a second, forked or exec'd.
func TestChildDiesWithProgram(t *testing.T) {
	for _, how := range []string{"fork", "exec"} {
		t.Run(how, func(t *testing.T) {
			s := start(t, subjectPath(t))
			if _, err := fmt.Fprintln(s.in, "hang "+how); err != nil {
				t.Fatal(err)
			}
			var child int
			if !s.out.Scan() {
				t.Fatalf("the subject ended: %v", s.out.Err())
			}
			if _, err := fmt.Sscanf(s.out.Text(), "child %d", &child); err != nil {
				t.Fatalf("the subject said %q, want the child's PID", s.out.Text())
			}
			s.cmd.Process.Kill()
			s.cmd.Wait()
			if !within(time.Second, func() bool { return gone(child) }) {
				t.Fatalf("the action's process %d outlived its program by a second", child)
			}
		})
	}
}

// TestServerKilled kills the fork server: the next calls exec, and the
// program reaps the server.
func TestServerKilled(t *testing.T) {
	s := start(t, subjectPath(t))
	if o := s.do(t, "fork"); o.Spawned != 1 {
		t.Fatalf("the fork server started %d children, want 1", o.Spawned)
	}
	if err := syscall.Kill(s.server, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if o := s.do(t, "fork"); o.Spawned != 1 {
			t.Fatalf("after the server died, %d children came from it, want 1", o.Spawned)
		}
	}
	if c := children(t, s.cmd.Process.Pid); len(c) != 0 {
		t.Errorf("the program has children %v after its calls: the dead server not reaped?", c)
	}
}

// TestStop stops the fork server: the next calls exec, and the server is
// gone, reaped by the program, while a child it started before runs on.
func TestStop(t *testing.T) {
	s := start(t, subjectPath(t))
	if o := s.do(t, "fork"); o.Spawned != 1 || o.Err != "" {
		t.Fatalf("the fork server started %d children (%s), want 1", o.Spawned, o.Err)
	}
	s.in.Write([]byte("hang fork\n"))
	if !s.out.Scan() || !strings.HasPrefix(s.out.Text(), "child ") {
		t.Fatalf("the hanging child said %q, want its PID", s.out.Text())
	}
	child := strings.TrimPrefix(s.out.Text(), "child ")
	for range 2 {
		if o := s.do(t, "stop"); o.Spawned != 2 || o.Err != "" {
			t.Fatalf("after Stop, %d children came from the server (%s), want 2: the call forked", o.Spawned, o.Err)
		}
	}
	if c := children(t, s.cmd.Process.Pid); len(c) != 1 || c[0] != child {
		t.Errorf("the program has children %v after Stop, want only the child started before, %s: the server not reaped?", c, child)
	}
}

// TestNothingShared checks that the server holds only its socket, which
// no child inherits, and that the program's end is close-on-exec.
func TestNothingShared(t *testing.T) {
	s := start(t, subjectPath(t))
	server := fds(t, s.server)
	if len(server) != 1 {
		t.Fatalf("the fork server holds %v, want its socket alone", server)
	}
	var sockets []string // the channel's two ends
	for _, l := range server {
		sockets = append(sockets, l)
	}
	// Sockets the program inherited from this test, through the
	// runner, are this test's too; the program's own is the channel's.
	inherited := map[string]bool{}
	for _, l := range fds(t, os.Getpid()) {
		inherited[l] = true
	}
	for fd, l := range fds(t, s.cmd.Process.Pid) {
		if !strings.HasPrefix(l, "socket:") || inherited[l] {
			continue
		}
		sockets = append(sockets, l)
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", s.cmd.Process.Pid, fd))
		if err != nil {
			t.Fatal(err)
		}
		if flags := fdFlags(t, string(info)); flags&syscall.O_CLOEXEC == 0 {
			t.Errorf("the program's descriptor %s (%s) is not close-on-exec: flags %o", fd, l, flags)
		}
	}
	if len(sockets) != 2 {
		t.Fatalf("the channel's ends are %v, want two sockets", sockets)
	}
	for _, cmd := range []string{"fork", "exec"} {
		o := s.do(t, cmd)
		for fd, l := range o.Child.FDs {
			for _, sock := range sockets {
				if l == sock {
					t.Errorf("%s: the child inherited the channel's %s as %s", cmd, sock, fd)
				}
			}
		}
	}
	if after := fds(t, s.server); len(after) != 1 {
		t.Errorf("after the calls the fork server holds %v, want its socket alone", after)
	}
	if c := children(t, s.server); len(c) != 0 {
		t.Errorf("the fork server has children %v: they must be the program's", c)
	}
}

// fdFlags returns the flags of an fdinfo file.
func fdFlags(t *testing.T, info string) int {
	t.Helper()
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	}
	t.Fatalf("no flags in %q", info)
	return 0
}

// TestReplacedImage replaces the program's file while it runs: both its
// forked and its exec'd children run the image it started with.
func TestReplacedImage(t *testing.T) {
	dir := t.TempDir()
	old, replacement := build(t, dir, "old"), build(t, dir, "new")
	prog := filepath.Join(dir, "program")
	if err := os.Link(old, prog); err != nil {
		t.Fatal(err)
	}
	s := start(t, prog)
	if err := os.Rename(replacement, prog); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		command string
		spawned int
	}{{"fork", 1}, {"exec", 1}} {
		o := s.do(t, tc.command)
		if o.Child.Version != "old" {
			t.Errorf("%s: the child runs version %q, want the program's own, old", tc.command, o.Child.Version)
		}
		if o.Spawned != tc.spawned {
			t.Errorf("%s: the fork server started %d children, want %d", tc.command, o.Spawned, tc.spawned)
		}
	}
}

// TestChildThreadID checks that a forked child's C library knows its first
// thread by the child's ID, not the server's: the child narrows its CPUs to
// one, and pthread_getaffinity_np of pthread_self() must say so, as in an
// exec'd child. A library that took the server's ID would report the
// server's CPUs. Musl keeps its record where the fork server cannot reach
// it (see the package documentation); the subject is built with glibc.
func TestChildThreadID(t *testing.T) {
	if runtime.NumCPU() < 2 {
		testutil.Unavailable(t, "one CPU: narrowing a thread's CPUs changes nothing")
	}
	s := start(t, subjectPath(t))
	for _, how := range []string{"fork", "exec"} {
		o := s.do(t, how)
		if o.Child.KernelCPUs != 1 || o.Child.LibcCPUs != 1 {
			t.Errorf("%s: the child's first thread may run on %d CPUs, its C library says %d; want 1 and 1",
				how, o.Child.KernelCPUs, o.Child.LibcCPUs)
		}
	}
}
