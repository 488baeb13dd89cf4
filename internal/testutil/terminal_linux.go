package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Deadline bounds each wait of the terminal helpers: generous, for a
// loaded machine; a wait that ends early is the normal case.
const Deadline = 30 * time.Second

// Prompt is the prompt of [Terminal.Shell]'s shell.
const Prompt = "gons-test$ "

// Terminal is a pseudo-terminal pair for tests of job control: processes
// run on its terminal side ([Terminal.TTY]) as at a user's terminal, and
// the test types on the other side and reads what the terminal shows.
type Terminal struct {
	tty, master *os.File

	mu      sync.Mutex
	out     []byte        // everything read so far
	read    int           // how much of out the waits consumed
	rerr    error         // why reading stopped
	changed chan struct{} // a token after each read
}

// NewTerminal opens a pseudo-terminal through /dev/ptmx, 80 columns by
// 24 rows, and closes both sides when the test ends.
func NewTerminal(t testing.TB) *Terminal {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		Unavailable(t, "needs a pseudo-terminal: open /dev/ptmx: %v", err)
	}
	c := &Terminal{master: os.NewFile(uintptr(m), "/dev/ptmx"), changed: make(chan struct{}, 1)}
	t.Cleanup(func() { c.master.Close() })
	// unlockpt(3) and ptsname(3), which are these two ioctls.
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetUint32(m, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("the pseudo-terminal's number: %v", err)
	}
	name := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	s, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	c.tty = os.NewFile(uintptr(s), name)
	t.Cleanup(func() { c.tty.Close() })
	if err := unix.IoctlSetWinsize(s, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatalf("set the size of %s: %v", name, err)
	}
	go c.readAll()
	return c
}

func (c *Terminal) readAll() {
	buf := make([]byte, 4096)
	for {
		n, err := c.master.Read(buf)
		c.mu.Lock()
		c.out = append(c.out, buf[:n]...)
		c.rerr = err
		c.mu.Unlock()
		select {
		case c.changed <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// TTY returns the terminal side, for the standard streams of processes.
func (c *Terminal) TTY() *os.File { return c.tty }

// Start starts cmd on the terminal as a session leader whose controlling
// terminal it is, as a login or ssh -t starts a shell, and kills it when
// the test ends if it still runs.
func (c *Terminal) Start(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.tty, c.tty, c.tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
}

// Shell starts bash on the terminal as an interactive shell with job
// control, with env added to the test's environment, and returns once it
// shows its first prompt, [Prompt].
func (c *Terminal) Shell(t testing.TB, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(RequireTool(t, "bash"), "--norc", "--noprofile", "-i")
	// The prompt as an octal escape: the environment, which programs may
	// print, does not hold the prompt's text.
	// LC_ALL=C: bash's job reports ("Stopped") untranslated.
	cmd.Env = append(os.Environ(), `PS1=gons\055test$ `, "TERM=dumb", "HISTFILE=/dev/null", "LC_ALL=C")
	cmd.Env = append(cmd.Env, env...)
	c.Start(t, cmd)
	if _, ok := c.Wait(Prompt); !ok {
		t.Fatalf("bash -i showed no prompt within %v; the terminal shows %q", Deadline, c.Output())
	}
	return cmd
}

// Type writes s to the terminal as typed keys: "\x1a" is ^Z, "\x03" ^C.
func (c *Terminal) Type(t testing.TB, s string) {
	t.Helper()
	if _, err := c.master.Write([]byte(s)); err != nil {
		t.Fatalf("typing %q: %v", s, err)
	}
}

// Wait waits up to [Deadline] for s to show on the terminal after what
// earlier waits consumed, and returns what showed up to and including s,
// and true; or, when s does not show, what showed and false.
func (c *Terminal) Wait(s string) (string, bool) {
	timer := time.NewTimer(Deadline)
	defer timer.Stop()
	for {
		c.mu.Lock()
		rest, rerr := c.out[c.read:], c.rerr
		if i := bytes.Index(rest, []byte(s)); i >= 0 {
			c.read += i + len(s)
			c.mu.Unlock()
			return string(rest[:i+len(s)]), true
		}
		c.mu.Unlock()
		if rerr != nil {
			return string(rest), false
		}
		select {
		case <-c.changed:
		case <-timer.C:
			return string(rest), false
		}
	}
}

// exitStatus finds what "echo status=$?" printed.
var exitStatus = regexp.MustCompile(`status=([0-9]+)`)

// Status types "echo status=$?" at the shell on the terminal and returns
// the exit status it printed, or "none" when it printed none.
func (c *Terminal) Status(t testing.TB) string {
	t.Helper()
	c.Type(t, "echo status=$?\n")
	out, _ := c.Wait(Prompt)
	if m := exitStatus.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return "none"
}

// jobReport finds bash's report of job 1, such as "Stopped" or
// "Stopped (signal)".
var jobReport = regexp.MustCompile(`\[1\]\+ +([A-Z][a-z]+(?: \([a-z ]+\))?)`)

// JobReport returns bash's report of job 1 in out, and true; or false
// when out holds none.
func JobReport(out string) (string, bool) {
	if m := jobReport.FindStringSubmatch(out); m != nil {
		return m[1], true
	}
	return "", false
}

// Output returns everything the terminal showed so far.
func (c *Terminal) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.out)
}

// Hangup closes the other side of the terminal, as a network connection
// that drops closes ssh's: the kernel hangs the terminal up.
func (c *Terminal) Hangup() { c.master.Close() }

// ProcState returns the state of process pid as /proc/PID/stat shows it
// ('R', 'S', 'T', 'Z', ...), or 0 when the process is gone.
func ProcState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	// The command name, in parentheses, may hold blanks and parentheses.
	if i := bytes.LastIndexByte(b, ')'); err == nil && i >= 0 && i+2 < len(b) {
		return b[i+2]
	}
	return 0
}

// Describe says what a process state (see [ProcState]) means to a user
// at a terminal: "ended", "stopped" or "running".
func Describe(state byte) string {
	switch state {
	case 0, 'Z', 'X':
		return "ended"
	case 'T', 't':
		return "stopped"
	}
	return "running"
}

// AllAre returns a condition for [WaitState]: every state is described as
// want (see [Describe]).
func AllAre(want string) func(states []byte) bool {
	return func(states []byte) bool {
		for _, s := range states {
			if Describe(s) != want {
				return false
			}
		}
		return true
	}
}

// WaitState waits up to [Deadline] until ok holds for the states of the
// processes pids (see [ProcState]), and returns their last states.
func WaitState(ok func(states []byte) bool, pids ...int) []byte {
	states := make([]byte, len(pids))
	for deadline := time.Now().Add(Deadline); ; time.Sleep(10 * time.Millisecond) {
		for i, pid := range pids {
			states[i] = ProcState(pid)
		}
		if ok(states) || time.Now().After(deadline) {
			return states
		}
	}
}

// Descendants returns the children of process pid, their children and so
// on, parents first. A child of any thread counts: a Go program forks
// from whichever thread runs the goroutine.
func Descendants(pid int) []int {
	var all []int
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		kids := Children(queue[0])
		all = append(all, kids...)
		queue = append(queue, kids...)
	}
	return all
}

// Children returns the children of every thread of process pid, those
// that ended and were not reaped included.
func Children(pid int) []int {
	var b []byte
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		b = append(append(b, c...), ' ')
	}
	var kids []int
	for _, f := range strings.Fields(string(b)) {
		if child, err := strconv.Atoi(f); err == nil {
			kids = append(kids, child)
		}
	}
	return kids
}

// AsNobody returns a command that runs args with a copy of the running
// test binary, in a directory of its own that nobody may enter, as
// nobody (uid and gid 65534, no supplementary groups), with the caller's
// environment less GOCOVERDIR, where nobody could not write. The
// directory goes when the test ends.
func AsNobody(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	dir, err := os.MkdirTemp("", "gons-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe := filepath.Join(dir, filepath.Base(os.Args[0]))
	b, err := os.ReadFile("/proc/self/exe")
	if err == nil {
		err = os.WriteFile(exe, b, 0o755)
	}
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "GOCOVERDIR" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	return cmd
}
