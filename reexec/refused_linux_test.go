package reexec_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// TestRefusedChildHolds asks the fork server for a child and refuses it
// in the request's Check, which runs while the server clones: the child
// has one thread and sleeps, as it must until its socket has data (no Go
// runtime, which starts threads at once, and none of the program's code);
// it is killed and reaped, not counted as started, and Spawn says so.
func TestRefusedChildHolds(t *testing.T) {
	if spawn.PID() == 0 {
		testutil.Unavailable(t, "the test binary has no fork server")
	}
	sock, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sock[0])
	defer unix.Close(sock[1])
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	dir, err := unix.Open(".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dir)
	n := int(null.Fd())
	before := children(t)
	spawned := spawn.Spawned()
	var kid, held string
	check := func() bool {
		// The child is the program's; it holds once it has one thread
		// and sleeps, and must go on holding.
		settle(func() bool {
			kids := slices.DeleteFunc(children(t), func(p string) bool { return slices.Contains(before, p) })
			if len(kids) == 1 {
				kid = kids[0]
				held = holding(kid)
			}
			return held == "" && kid != ""
		})
		if held == "" {
			time.Sleep(50 * time.Millisecond)
			held = holding(kid)
		}
		return false
	}
	_, err = spawn.Spawn(context.Background(), &spawn.Request{FDs: []int{n, n, n, sock[1]}, Socket: 3, Dir: dir, Check: check})
	if !errors.Is(err, spawn.ErrRefused) {
		t.Fatalf("Spawn returned %v, want ErrRefused", err)
	}
	if kid == "" {
		t.Fatal("the server started no child")
	}
	if held != "" {
		t.Errorf("the child %s did not hold before the runtime: %s", kid, held)
	}
	if spawn.Spawned() != spawned {
		t.Errorf("a refused child was counted as started")
	}
	pid, _ := strconv.Atoi(kid)
	if !settle(func() bool { return processGone(pid) }) {
		t.Errorf("the refused child %s is not reaped", kid)
	}
}

// holding returns "" when process pid has one thread and sleeps, or else
// what its status says.
func holding(pid string) string {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return err.Error()
	}
	var state, threads string
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		switch k {
		case "State":
			state = strings.TrimSpace(v)
		case "Threads":
			threads = strings.TrimSpace(v)
		}
	}
	if threads == "1" && strings.HasPrefix(state, "S") {
		return ""
	}
	return "state " + state + ", threads " + threads
}
