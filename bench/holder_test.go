package bench

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonsproject/gons/internal/testutil"
)

// nsTypes are the eight namespace types, in the order of the gons_*
// variables' names.
var nsTypes = []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}

// defaultOrder is the order in which early switches when gons_order is not
// set; the floor program switches in the same order.
var defaultOrder = []string{"user", "mnt", "cgroup", "ipc", "net", "uts", "time", "pid"}

// holder is a process that keeps fresh namespaces alive for the switches to
// join: a sleep forked by unshare(1), so that it is also inside the PID and
// time namespaces, which unshare's own process is not.
type holder struct {
	cmd    *exec.Cmd
	exited chan error // receives cmd.Wait's result
	pid    int        // the sleep inside the namespaces
}

// ns returns the path of the holder's namespace file of type t.
func (h *holder) ns(t string) string {
	return "/proc/" + strconv.Itoa(h.pid) + "/ns/" + t
}

var (
	holderMu sync.Mutex
	holders  = map[string]*holder{}
)

// Holders: "root" has seven fresh namespaces and stays in the initial user
// namespace, so joining any one of them as root needs no user namespace;
// "user" has all eight, the user namespace owning the other seven.
var holderArgs = map[string][]string{
	"root": {"--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--time", "--monotonic", "3600"},
	"user": {"--user", "--map-root-user", "--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--time", "--monotonic", "3600"},
}

// getHolder starts the named holder once per process and returns it. It
// needs root and unshare(1); without them the benchmark is skipped outside
// CI and fails in CI.
func getHolder(b *testing.B, name string) *holder {
	b.Helper()
	testutil.RequireRoot(b)
	unshare := lookTool(b, "unshare")
	holderMu.Lock()
	defer holderMu.Unlock()
	if h, ok := holders[name]; ok {
		return h
	}
	args := append(append([]string(nil), holderArgs[name]...), "--fork", "--kill-child", "sleep", "infinity")
	cmd := exec.Command(unshare, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting holder: %v", err)
	}
	h := &holder{cmd: cmd, exited: make(chan error, 1)}
	go func() { h.exited <- cmd.Wait() }()
	holders[name] = h // stopHolders ends it even if it never got ready
	children := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/" + strconv.Itoa(cmd.Process.Pid) + "/children"
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		select {
		case err := <-h.exited:
			// unshare failed: most likely the kernel lacks a namespace
			// type, or the sandbox forbids creating it.
			delete(holders, name)
			testutil.Unavailable(b, "holder %s: unshare %s: %v: %s", name, strings.Join(args, " "), err, stderr.Bytes())
		default:
		}
		data, _ := os.ReadFile(children)
		if f := strings.Fields(string(data)); len(f) > 0 {
			h.pid, _ = strconv.Atoi(f[0])
			// The child is forked before it leaves unshare for sleep; wait
			// until it runs sleep, past every namespace set-up.
			if comm, _ := os.ReadFile("/proc/" + f[0] + "/comm"); strings.TrimSpace(string(comm)) == "sleep" {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("holder %s (unshare %s): no sleep child after 5s", name, strings.Join(args, " "))
		}
	}
	for _, t := range nsTypes {
		if t == "user" && name != "user" {
			continue
		}
		ours, _ := os.Readlink("/proc/self/ns/" + t)
		theirs, err := os.Readlink(h.ns(t))
		if err != nil || ours == theirs {
			testutil.Unavailable(b, "holder %s: no fresh %s namespace (%s vs ours %s, %v)", name, t, theirs, ours, err)
		}
	}
	return h
}

// stopHolders ends every holder this process started.
func stopHolders() {
	holderMu.Lock()
	defer holderMu.Unlock()
	for name, h := range holders {
		// The sleep first, so that unshare reaps it and exits; killed
		// the other way round, the sleep would be left to init to reap.
		if h.pid > 0 {
			syscall.Kill(h.pid, syscall.SIGKILL)
		}
		select {
		case <-h.exited:
		case <-time.After(time.Second):
			h.cmd.Process.Kill()
			<-h.exited
		}
		delete(holders, name)
	}
}
