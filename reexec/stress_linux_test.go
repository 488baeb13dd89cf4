package reexec_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
)

// openFDs lists this process's open descriptors, with what they are.
func openFDs(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue // the descriptor ReadDir itself used
		}
		fds = append(fds, e.Name()+" -> "+target)
	}
	return fds
}

// children lists the children of every thread of this process.
func children(t *testing.T) []string {
	t.Helper()
	var pids []string
	for _, pid := range testutil.Children(os.Getpid()) {
		pids = append(pids, strconv.Itoa(pid))
	}
	return notServer(pids)
}

// settle retries cond a bounded number of times, to let goroutines that
// are on their way out finish; it reports cond's last result.
func settle(cond func() bool) bool {
	for range 200 {
		if cond() {
			return true
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// TestConcurrentNoLeaks makes 200 calls from 16 goroutines, a random mix
// of successes, failures and cancellations, checks every outcome, and then
// that no descriptor, goroutine or child process is left behind.
func TestConcurrentNoLeaks(t *testing.T) { forEachPath(t, concurrentNoLeaks) }

func concurrentNoLeaks(t *testing.T) {
	fdsBefore := openFDs(t)
	goroutinesBefore := goroutines()

	const calls, workers = 200, 16
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range work {
				kind, err := oneCall(rng, i)
				if err != nil {
					t.Errorf("call %d (%s): %v", i, kind, err)
				}
				mu.Lock()
				counts[kind]++
				mu.Unlock()
			}
		}()
	}
	for i := range calls {
		work <- i
	}
	close(work)
	wg.Wait()
	t.Logf("calls by kind: %v", counts)

	if !settle(func() bool { return slices.Equal(openFDs(t), fdsBefore) }) {
		t.Errorf("descriptors before: %q\nafter: %q", fdsBefore, openFDs(t))
	}
	if !settle(func() bool { return goroutines() <= goroutinesBefore }) {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", goroutinesBefore, goroutines(),
			buf[:runtime.Stack(buf, true)])
	}
	if pids := children(t); len(pids) != 0 {
		t.Errorf("children left behind: %v", pids)
	}
}

// oneCall makes a random call and checks its outcome; it returns the kind
// of call and an error if the outcome was not the expected one.
func oneCall(rng *rand.Rand, i int) (string, error) {
	switch rng.IntN(5) {
	case 0:
		p := payload{Text: strings.Repeat("y", rng.IntN(1<<16)), N: i}
		got, err := echo.Run(context.Background(), p)
		if err != nil || got.N != i+1 || got.Text != p.Text {
			return "success", errors.Join(errors.New("echo went wrong"), err)
		}
		return "success", nil
	case 1:
		_, err := failErrno.Run(context.Background(), struct{}{})
		if !errors.Is(err, unix.ENOENT) {
			return "action error", errors.Join(errors.New("want ENOENT"), err)
		}
		return "action error", nil
	case 2:
		err := reexec.RunReexecAction("exit3")
		var e *reexec.Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), "exit status 3") || e.Stderr != "marker:exit3" {
			return "exit", errors.Join(errors.New("want exit status 3 and the whole stderr"), err)
		}
		return "exit", nil
	case 3:
		if err := runSleeperCancelled(); !errors.Is(err, context.Canceled) {
			return "cancel", errors.Join(errors.New("want context.Canceled"), err)
		}
		return "cancel", nil
	default:
		// A deadline that may expire at any moment: before the start,
		// during it, or not at all for this quick action.
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(4000))*time.Microsecond)
		defer cancel()
		var answer int
		err := reexec.RunReexecActionContext(ctx, "answertoeverything", reexec.Result(&answer))
		if err == nil && answer == 42 || errors.Is(err, context.DeadlineExceeded) {
			return "deadline", nil
		}
		return "deadline", errors.Join(errors.New("want 42 or DeadlineExceeded"), err)
	}
}
