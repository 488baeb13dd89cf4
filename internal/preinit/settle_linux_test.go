package preinit_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
)

// descendants returns the processes below pid, children of any of their
// threads: Go starts a child from whichever thread runs the call.
func descendants(pid int) []int {
	var all []int
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", queue[0]))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, s := range strings.Fields(string(b)) {
				if child, err := strconv.Atoi(s); err == nil {
					all = append(all, child)
					queue = append(queue, child)
				}
			}
		}
	}
	return all
}

// TestCredentialKeepsParentDeathSignal starts, from a caller of its own,
// a child that drops its credentials to nobody's, alone and through the
// relay of a PID namespace, by exec and through the fork server; then it
// kills the caller with SIGKILL. A change of credentials clears the
// parent-death signal: unless the constructor sets it again, the child
// (and the relay) run on as orphans.
func TestCredentialKeepsParentDeathSignal(t *testing.T) {
	testutil.RequireRoot(t)
	holder := testutil.Holder(t, []string{"--pid"}, "true")
	for _, path := range []struct{ name, tags string }{{"exec", "none"}, {"forkserver", "forkserver"}} {
		bin := buildSteer(t, path.tags)
		for _, pid := range []bool{false, true} {
			name := path.name
			env := append(cleanEnv(), "STEER_SLEEP=1")
			if pid {
				name += "/pid"
				env = append(env, "STEER_PID=/proc/"+strconv.Itoa(holder)+"/ns/pid")
			}
			t.Run(name, func(t *testing.T) {
				cmd := exec.Command(bin)
				cmd.Env = env
				cmd.Stderr = os.Stderr
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer cmd.Wait()
				defer cmd.Process.Kill()
				if line, err := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
					t.Fatalf("the sleeper said %q (%v), want ready", line, err)
				}
				kids := descendants(cmd.Process.Pid)
				want := 1
				if pid {
					want = 2 // the relay and the program
				}
				if len(kids) < want {
					t.Fatalf("the caller has descendants %v, want at least %d", kids, want)
				}
				pidfds := map[int]int{}
				for _, k := range kids {
					fd, err := unix.PidfdOpen(k, 0)
					if err != nil {
						t.Fatalf("pidfd of %d: %v", k, err)
					}
					pidfds[k] = fd
					defer unix.Close(fd)
					defer unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
				}
				cmd.Process.Kill()
				cmd.Wait()
				// A pidfd polls readable once its process exited.
				deadline := time.Now().Add(20 * time.Second)
				for k, fd := range pidfds {
					fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
					n, err := unix.Poll(fds, remaining(deadline))
					for err == unix.EINTR {
						n, err = unix.Poll(fds, remaining(deadline))
					}
					if n != 1 {
						status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", k))
						t.Errorf("process %d runs on after its caller died (%v):\n%s", k, err, status)
					}
				}
			})
		}
	}
}

// remaining returns the milliseconds until deadline for poll(2), 0 once
// it passed: a negative timeout would wait for ever.
func remaining(deadline time.Time) int {
	return max(int(time.Until(deadline).Milliseconds()), 0)
}
