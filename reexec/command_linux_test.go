package reexec_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
)

func init() {
	// ns-stream prints its arguments, its net and mnt namespaces and the
	// marker file named by its first argument, then echoes its standard
	// input line by line.
	reexec.Register("ns-stream", func() {
		net, _ := os.Readlink("/proc/self/ns/net")
		mnt, _ := os.Readlink("/proc/self/ns/mnt")
		marker, _ := os.ReadFile(os.Args[1])
		fmt.Printf("%q %s %s %q\n", os.Args[1:], net, mnt, marker)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Println("got " + sc.Text())
		}
	})
	// cat-args prints its arguments, then copies its standard input to
	// its standard output, line by line, with a prefix.
	reexec.Register("cat-args", func() {
		fmt.Println(strings.Join(os.Args[1:], " "))
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Println("got " + sc.Text())
		}
	})
}

// TestCommand streams lines through a child started as a command: each
// answer comes back before the next line is written.
func TestCommand(t *testing.T) {
	noLeaks(t)
	cmd := reexec.Command(context.Background(), "cat-args", []string{"a", "b c"})
	in, out := startPiped(t, cmd)
	if line, err := out.ReadString('\n'); line != "a b c\n" {
		t.Fatalf("the child's arguments: %q, %v", line, err)
	}
	for _, word := range []string{"one", "two"} {
		fmt.Fprintln(in, word)
		if line, err := out.ReadString('\n'); line != "got "+word+"\n" {
			t.Fatalf("after %q: %q, %v", word, line, err)
		}
	}
	in.Close()
	if rest, err := io.ReadAll(out); len(rest) != 0 || err != nil {
		t.Fatalf("after stdin's end: %q, %v", rest, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if !cmd.ProcessState.Success() {
		t.Fatalf("state %v", cmd.ProcessState)
	}
}

func TestCommandOutput(t *testing.T) {
	out, err := reexec.Command(context.Background(), "cat-args", []string{"x"}).Output()
	if err != nil || string(out) != "x\n" {
		t.Fatalf("got %q, %v", out, err)
	}
	out, err = reexec.Command(context.Background(), "exit3", nil).CombinedOutput()
	var e *reexec.Error
	var ee *exec.ExitError
	if !errors.As(err, &e) || e.Op != "exit" || !errors.As(err, &ee) || ee.ExitCode() != 3 || string(out) != "marker:exit3" {
		t.Fatalf("got %q, %v; want exit status 3 and the marker", out, err)
	}
}

func TestCommandRefused(t *testing.T) {
	var r int
	for name, cmd := range map[string]*reexec.Cmd{
		"unknown action": reexec.Command(context.Background(), "no-such-action", nil),
		"Result":         reexec.Command(context.Background(), "cat-args", nil, reexec.Result(&r)),
		"no name":        reexec.CommandContext(context.Background()),
	} {
		t.Run(name, func(t *testing.T) {
			err := cmd.Run()
			var e *reexec.Error
			if !errors.As(err, &e) || cmd.Process != nil {
				t.Fatalf("got %v with process %v, want an *Error and no child", err, cmd.Process)
			}
			if err2 := cmd.Cmd.Start(); err2 != err {
				t.Errorf("the embedded exec.Cmd starts with %v, want %v", err2, err)
			}
		})
	}
}

// TestCommandNamespaces runs a command in a holder's net and mount
// namespaces, talks to it through its standard input and output, and
// kills it through the context.
func TestCommandNamespaces(t *testing.T) {
	requireSwitching(t)
	noLeaks(t) // first, so that it checks after the holder is gone
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker")
	pid := holder(t, fmt.Sprintf("mount -t tmpfs gons-test %[1]s\necho inside > %[1]s/marker", dir))
	holderNS := nsLinks(t, strconv.Itoa(pid))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := reexec.Command(ctx, "ns-stream", []string{marker, "two words"}, reexec.Namespaces([]reexec.Namespace{
		{Type: "!net", Path: fmt.Sprintf("/proc/%d/ns/net", pid)},
		{Type: "!mnt", Path: fmt.Sprintf("/proc/%d/ns/mnt", pid)},
	}))
	in, out := startPiped(t, cmd)
	want := fmt.Sprintf("%q %s %s %q\n", []string{marker, "two words"}, holderNS["net"], holderNS["mnt"], "inside\n")
	if line, err := out.ReadString('\n'); line != want {
		t.Fatalf("the child says %q (%v), want %q", line, err, want)
	}
	fmt.Fprintln(in, "ping")
	if line, err := out.ReadString('\n'); line != "got ping\n" {
		t.Fatalf("got %q, %v", line, err)
	}
	cancel()
	err := cmd.Wait()
	var e *reexec.Error
	if !errors.As(err, &e) || e.Op != "context" || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want a context error wrapping context.Canceled", err)
	}
	in.Close()
}

// startPiped starts cmd with pipes to its standard input and from its
// standard output, read by lines.
func startPiped(t *testing.T, cmd *reexec.Cmd) (io.WriteCloser, *bufio.Reader) {
	t.Helper()
	in, out := testutil.StartPiped(t, cmd)
	return in, bufio.NewReader(out)
}

func init() {
	reexec.Register("sleep-plain", func() {
		fmt.Println("ready")
		time.Sleep(time.Hour)
	})
}

// TestCommandDiesWithCaller starts a copy of the test binary that starts a
// command and is then killed: the command must die with it.
func TestCommandDiesWithCaller(t *testing.T) {
	if os.Getenv("GONS_TEST_COMMAND_CALLER") != "" {
		cmd := reexec.Command(context.Background(), "sleep-plain", nil)
		cmd.Stdout = os.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		fmt.Println("child", cmd.Process.Pid)
		time.Sleep(time.Hour)
	}
	caller := exec.Command("/proc/self/exe", "-test.run=^TestCommandDiesWithCaller$")
	caller.Env = append(os.Environ(), "GONS_TEST_COMMAND_CALLER=1")
	diesWithCaller(t, caller, "the command")
}

// diesWithCaller starts caller, a copy of the test binary that starts a
// child, prints "child PID" and sleeps; it kills the caller and checks
// that what (the child) ends too.
func diesWithCaller(t *testing.T, caller *exec.Cmd, what string) {
	t.Helper()
	out, err := caller.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := caller.Start(); err != nil {
		t.Fatal(err)
	}
	defer caller.Wait()
	defer caller.Process.Kill()
	r := bufio.NewReader(out)
	var pid int
	for pid == 0 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the caller said nothing of its child: %v", err)
		}
		fmt.Sscanf(line, "child %d", &pid)
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("%s %d: %v", what, pid, err)
	}
	defer unix.Close(pidfd)
	caller.Process.Kill()
	// The pidfd turns readable when the child ends; a minute would mean
	// it outlived its caller.
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(time.Minute/time.Millisecond))
	for err == unix.EINTR { // the runtime's preemption signals
		n, err = unix.Poll(fds, int(time.Minute/time.Millisecond))
	}
	if n != 1 {
		t.Fatalf("%s %d outlived its caller (%v)", what, pid, err)
	}
}

// TestCommandStreamOptions: the Stdout and Stderr options give the
// command's streams, with the tail of stderr kept for the error; a stream
// set both by an option and by the Cmd is refused at Start, before any
// child runs, instead of one of the two being dropped.
func TestCommandStreamOptions(t *testing.T) {
	var out, errb strings.Builder
	err := reexec.Command(context.Background(), "exit3", nil, reexec.Stdout(&out), reexec.Stderr(&errb)).Run()
	var e *reexec.Error
	if !errors.As(err, &e) || e.Op != "exit" || e.Stderr != "marker:exit3" || errb.String() != "marker:exit3" {
		t.Fatalf("got %v, stderr %q; want exit status 3 with the marker in the error and in the Stderr option's writer", err, errb.String())
	}
	if err := reexec.Command(context.Background(), "cat-args", []string{"x"}, reexec.Stdout(&out)).Run(); err != nil || out.String() != "x\n" {
		t.Fatalf("got %q, %v; want the Stdout option's writer to get the output", out.String(), err)
	}

	var field strings.Builder
	for name, tc := range map[string]struct {
		opt reexec.Option
		set func(*reexec.Cmd) error
	}{
		"Stdout": {reexec.Stdout(&out), func(c *reexec.Cmd) error { c.Stdout = &field; return c.Run() }},
		"Stderr": {reexec.Stderr(&out), func(c *reexec.Cmd) error { c.Stderr = &field; return c.Run() }},
		"Stdout and Output": {reexec.Stdout(&out), func(c *reexec.Cmd) error {
			_, err := c.Output()
			return err
		}},
		"Stdout and StdoutPipe": {reexec.Stdout(&out), func(c *reexec.Cmd) error {
			if _, err := c.StdoutPipe(); err != nil {
				return err
			}
			return c.Start()
		}},
	} {
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			cmd := reexec.Command(context.Background(), "cat-args", nil, tc.opt)
			err := tc.set(cmd)
			var e *reexec.Error
			if !errors.As(err, &e) || e.Op != "option" || !strings.Contains(err.Error(), "both set") || cmd.Process != nil {
				t.Fatalf("got %v with process %v, want an option error and no child", err, cmd.Process)
			}
			if err2 := cmd.Wait(); err2 != err {
				t.Errorf("Wait returns %v, want Start's %v", err2, err)
			}
		})
	}
}
