package reexec_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// rawFrame is what the rawframe action writes to the protocol socket
// itself, as a broken child would, before it blocks for good.
type rawFrame struct {
	Tag  byte   `json:"tag"`
	Len  uint64 `json:"len"` // announced payload length
	Body string `json:"body"`
}

var (
	rawFrames = reexec.RegisterFunc("rawframe", func(f rawFrame) (int, error) {
		conn := os.NewFile(3, "reexec")
		hdr := make([]byte, 9, 9+len(f.Body))
		hdr[0] = f.Tag
		binary.BigEndian.PutUint64(hdr[1:], f.Len)
		fmt.Fprintln(os.Stderr, "marker:rawframe sending")
		if _, err := conn.Write(append(hdr, f.Body...)); err != nil {
			return 0, err
		}
		time.Sleep(time.Hour)
		return 0, nil
	})
	goexitFunc = reexec.RegisterFunc("goexit", func(struct{}) (int, error) {
		fmt.Fprint(os.Stderr, "marker:goexit")
		runtime.Goexit()
		return 0, nil
	})
	bigResult = reexec.RegisterFunc("bigresult", func(n int) (string, error) {
		return strings.Repeat("x", n), nil
	})
	// recurse runs itself, without end.
	recurse *reexec.Func[int, int]
)

func init() {
	reexec.Register("goexitplain", func() {
		fmt.Fprint(os.Stderr, "marker:goexitplain")
		runtime.Goexit()
	})
	recurse = reexec.RegisterFunc("recurse", func(n int) (int, error) {
		return recurse.Run(context.Background(), n+1)
	})
}

// goroutines returns the number of goroutines, without the starters of
// exec'd children, which stay for the life of the program.
func goroutines() int { return runtime.NumGoroutine() - reexec.Starters() }

// noLeaks checks, when the test ends, that no descriptor, goroutine or
// child process is left over from it.
func noLeaks(t *testing.T) {
	t.Helper()
	fds, before := openFDs(t), goroutines()
	t.Cleanup(func() {
		if !settle(func() bool { return slices.Equal(openFDs(t), fds) }) {
			t.Errorf("descriptors before: %q\nafter: %q", fds, openFDs(t))
		}
		if !settle(func() bool { return goroutines() <= before }) {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines before, %d after:\n%s", before, goroutines(), buf[:runtime.Stack(buf, true)])
		}
		if pids := children(t); len(pids) != 0 {
			t.Errorf("children left behind: %v", pids)
		}
	})
}

// TestNeverHangs runs children that break the protocol or never return:
// each run must end with its error, the child killed and reaped, and
// nothing left behind.
func TestNeverHangs(t *testing.T) {
	reexec.SetFrameLimits(t, 1<<20, time.Second)
	runFaults(t, noLeaks, []fault{
		{
			doc: "frame over the limit announced",
			run: func() error {
				_, err := rawFrames.Run(context.Background(), rawFrame{Tag: 'R', Len: 1 << 40})
				return err
			},
			op: "result", msg: "frame 'R' of 1099511627776 bytes: frame exceeds the limit of 1048576 bytes", marker: "marker:rawframe sending",
		},
		{
			doc: "result over the limit, the child blocked writing it",
			run: func() error { _, err := bigResult.Run(context.Background(), 4<<20); return err },
			op:  "result", msg: "frame exceeds the limit",
		},
		{
			doc: "frame announced but never sent",
			run: func() error {
				_, err := rawFrames.Run(context.Background(), rawFrame{Tag: 'R', Len: 1 << 20, Body: `"abc`})
				return err
			},
			op: "result", msg: "i/o timeout", marker: "marker:rawframe sending",
		},
		{
			doc: "frame of an unknown kind",
			run: func() error {
				_, err := rawFrames.Run(context.Background(), rawFrame{Tag: 'Z', Len: 2, Body: "{}"})
				return err
			},
			op: "result", msg: `unexpected frame 'Z'`, marker: "marker:rawframe sending",
		},
		{
			doc: "typed action calls runtime.Goexit",
			run: func() error { _, err := goexitFunc.Run(context.Background(), struct{}{}); return err },
			op:  "action", is: reexec.ErrGoexit, marker: "marker:goexit",
		},
		{
			doc: "plain action calls runtime.Goexit",
			run: func() error { return reexec.RunReexecAction("goexitplain") },
			op:  "action", is: reexec.ErrGoexit, marker: "marker:goexitplain",
		},
		{
			doc: "action that runs itself without end",
			run: func() error { _, err := recurse.Run(context.Background(), 1); return err },
			op:  "action", is: reexec.ErrTooDeep, msg: fmt.Sprintf("nested more than %d children deep", reexec.MaxDepth),
		},
		{
			doc: "child that does not reach CheckAction and exits",
			run: func() error {
				return reexec.RunReexecAction("silent", reexec.Environment([]string{"GONS_TEST_EXIT=1"}))
			},
			op: "start", is: reexec.ErrNotChecked, msg: "the child ended (exit status 0) before it reached CheckAction",
		},
		{
			doc: "child that does not reach CheckAction and runs an action itself",
			run: func() error {
				return reexec.RunReexecAction("silent", reexec.Environment([]string{"GONS_TEST_NO_CHECK=1"}))
			},
			op: "start", is: reexec.ErrNotChecked, msg: "before it reached CheckAction",
		},
	})
}

// TestResultNil: Result(nil) asks for no result, which is no error.
func TestResultNil(t *testing.T) {
	if err := reexec.RunReexecAction("answertoeverything", reexec.Result(nil)); err != nil {
		t.Fatalf("Result(nil): %v", err)
	}
}

func TestNilErrorsPrint(t *testing.T) {
	var e *reexec.Error
	var se *status.Error
	for _, err := range []error{e, se} {
		if s := fmt.Sprint(err); !strings.Contains(s, "nil") {
			t.Errorf("a nil %T prints as %q", err, s)
		}
	}
}
