package reexec_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gonsproject/gons/reexec"
)

func init() {
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
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(outPipe)
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
