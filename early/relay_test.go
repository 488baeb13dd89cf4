//go:build linux

package early_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/google/go-cmp/cmp"

	"github.com/gonsproject/gons/internal/testutil"
)

// withSIGCHLDIgnored returns a command that runs args with SIGCHLD
// ignored, which survives execve, as some supervisors leave it. bash, not
// sh: dash does not ignore SIGCHLD on trap "".
func withSIGCHLDIgnored(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	bash := testutil.RequireTool(t, "bash")
	cmd := exec.Command(bash, append([]string{"-c", `trap "" CHLD; exec "$@"`, "bash"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	return cmd
}

// TestPidIgnoredSIGCHLD checks that the relay reports the program's exit
// code when it was started with SIGCHLD ignored, as unshare --fork --pid
// does: the kernel would otherwise reap the program itself.
func TestPidIgnoredSIGCHLD(t *testing.T) {
	h := startHolder(t)
	testutil.RequireTool(t, "unshare")
	bin := probe(t, dynamic)

	// The wrapper must really leave SIGCHLD ignored, or the test proves
	// nothing.
	out, err := withSIGCHLDIgnored(t, nil, "grep", "^SigIgn:", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	ign, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(string(out), "SigIgn:")), 16, 64)
	if err != nil || ign&(1<<(17-1)) == 0 { // SIGCHLD is 17
		t.Fatalf("SIGCHLD not ignored under the wrapper: %q %v", out, err)
	}

	exit := func(cmd *exec.Cmd) int {
		t.Helper()
		cmd.Stdout, cmd.Stderr = nil, os.Stderr
		err := cmd.Run()
		if cmd.ProcessState == nil {
			t.Fatalf("%s: %v", cmd.Args, err)
		}
		return cmd.ProcessState.ExitCode()
	}
	gons := exit(withSIGCHLDIgnored(t, h.env("pid"), bin, "-exit", "5"))
	unshare := exit(withSIGCHLDIgnored(t, nil, "unshare", "--fork", "--pid", bin, "-exit", "5"))
	if gons != unshare || gons != 5 {
		t.Errorf("exit code with SIGCHLD ignored: %d with gons_pid, %d with unshare --fork --pid, want 5", gons, unshare)
	}
}

// program returns the process among the descendants of pid that runs
// bin, but pid itself, or 0.
func program(pid int, bin string) int {
	for _, p := range testutil.Descendants(pid) {
		if exe, _ := os.Readlink("/proc/" + strconv.Itoa(p) + "/exe"); exe == bin {
			return p
		}
	}
	return 0
}

// waitReport waits until the probe's report shows on the terminal, to its
// end: the probe fails if the terminal hangs up while it writes.
func waitReport(term *testutil.Terminal) (string, bool) {
	out, ok := term.Wait(`{"Ran":`)
	if ok {
		var end string
		end, ok = term.Wait("\n")
		out += end
	}
	return out, ok
}

// jobControl types cmdline, which runs the probe bin with -wait, into an
// interactive bash on a new terminal, then ^Z, fg and ^C, and returns what
// a user sees after each: bash's job report, the exit status, whether
// the process bash started (the job) and the program are stopped,
// running or ended.
func jobControl(t *testing.T, bin, cmdline string) []string {
	term := testutil.NewTerminal(t)
	shell := term.Shell(t, nil)
	var seen []string
	status := func(after string) { seen = append(seen, "status after "+after+": "+term.Status(t)) }

	term.Type(t, cmdline+"\n")
	if out, ok := waitReport(term); !ok {
		return append(seen, "no report from the program: "+out)
	}
	jobs := testutil.Descendants(shell.Process.Pid)
	if len(jobs) == 0 {
		t.Fatalf("bash (%d) started nothing for %q", shell.Process.Pid, cmdline)
	}
	job := jobs[0]
	prog := program(job, bin)
	if prog == 0 {
		t.Fatalf("no process of %s under %d", bin, job)
	}

	term.Type(t, "\x1a") // ^Z
	out, ok := term.Wait(testutil.Prompt)
	if !ok {
		st := testutil.WaitState(func([]byte) bool { return true }, job, prog)
		return append(seen, fmt.Sprintf("^Z: no prompt; job %s, program %s", testutil.Describe(st[0]), testutil.Describe(st[1])))
	}
	if report, ok := testutil.JobReport(out); ok {
		seen = append(seen, "^Z: bash reports the job "+report)
	} else {
		seen = append(seen, "^Z: no job report in "+out)
	}
	st := testutil.WaitState(testutil.AllAre("stopped"), job, prog)
	seen = append(seen, fmt.Sprintf("after ^Z: job %s, program %s", testutil.Describe(st[0]), testutil.Describe(st[1])))
	status("^Z")

	term.Type(t, "fg\n")
	st = testutil.WaitState(testutil.AllAre("running"), job, prog)
	seen = append(seen, fmt.Sprintf("after fg: job %s, program %s", testutil.Describe(st[0]), testutil.Describe(st[1])))

	term.Type(t, "\x03") // ^C
	if _, ok := term.Wait(testutil.Prompt); !ok {
		return append(seen, "^C: no prompt")
	}
	st = testutil.WaitState(testutil.AllAre("ended"), job, prog)
	seen = append(seen, fmt.Sprintf("after ^C: job %s, program %s", testutil.Describe(st[0]), testutil.Describe(st[1])))
	status("^C")
	return seen
}

// unshareCmdline returns a command line that runs bin with args in a new
// PID namespace through unshare --fork --pid, as a process that is not the
// namespace's init, like a program with gons_pid: the kernel shields an
// init from the signals it has no handler for, ^C and ^Z among them.
func unshareCmdline(bin string, args ...string) string {
	return `unshare --fork --pid sh -c '"$0" "$@"; exit $?' ` + bin + " " + strings.Join(args, " ")
}

// TestPidJobControl checks that a program started with gons_pid at an
// interactive shell stops on ^Z, gives the shell the terminal back,
// resumes on fg and ends on ^C, as one started by unshare --fork --pid.
func TestPidJobControl(t *testing.T) {
	h := startHolder(t)
	testutil.RequireTool(t, "unshare")
	bin := probe(t, dynamic)
	want := []string{
		"^Z: bash reports the job Stopped",
		"after ^Z: job stopped, program stopped",
		"status after ^Z: 148", // 128 + SIGTSTP
		"after fg: job running, program running",
		"after ^C: job ended, program ended",
		"status after ^C: 130", // 128 + SIGINT
	}
	unshare := jobControl(t, bin, unshareCmdline(bin, "-wait"))
	if diff := cmp.Diff(want, unshare); diff != "" {
		t.Fatalf("unshare --fork --pid at a terminal (-want +got):\n%s", diff)
	}
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			bin := probe(t, f)
			gons := jobControl(t, bin, h.env("pid")[0]+" "+bin+" -wait")
			if diff := cmp.Diff(unshare, gons); diff != "" {
				t.Errorf("gons_pid at a terminal, compared with unshare --fork --pid (-unshare +gons_pid):\n%s", diff)
			}
		})
	}
}

// TestPidStopContinue checks that a supervisor's SIGTSTP to the relay
// stops the program and then the relay, and that a SIGCONT to the relay
// alone resumes both: unlike a shell's fg, it does not reach the program.
func TestPidStopContinue(t *testing.T) {
	h := startHolder(t)
	// In a process group of its own, whose parent, the test, is in another
	// one of the same session: the kernel discards SIGTSTP to an orphaned
	// group, which the test's own group may be.
	cmd := probeCmd(probe(t, dynamic), h.env("pid"), "-wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd = startWaitingCmd(t, h, cmd)
	relay := cmd.Process.Pid
	prog := program(relay, cmd.Path)
	if prog == 0 {
		t.Fatalf("no program under the relay %d", relay)
	}
	if err := cmd.Process.Signal(unix.SIGTSTP); err != nil {
		t.Fatal(err)
	}
	if st := testutil.WaitState(testutil.AllAre("stopped"), relay, prog); !testutil.AllAre("stopped")(st) {
		t.Fatalf("after SIGTSTP to the relay: relay %s, program %s; want both stopped", testutil.Describe(st[0]), testutil.Describe(st[1]))
	}
	if err := cmd.Process.Signal(unix.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if st := testutil.WaitState(testutil.AllAre("running"), relay, prog); !testutil.AllAre("running")(st) {
		t.Fatalf("after SIGCONT to the relay: relay %s, program %s; want both running", testutil.Describe(st[0]), testutil.Describe(st[1]))
	}
	if err := cmd.Process.Signal(unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 42 {
		t.Errorf("exit: %v, want code 42 (the program's answer to SIGUSR1)", err)
	}
}

// hangup starts args, which run the probe bin with -wait, as the session
// leader of a new terminal, as ssh -t or docker run -it do, hangs the
// terminal up, and returns how the leader ended and whether the program
// did.
func hangup(t *testing.T, bin string, env []string, args ...string) []string {
	term := testutil.NewTerminal(t)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(cleanEnv(), env...)
	term.Start(t, cmd)
	if out, ok := waitReport(term); !ok {
		return []string{"no report from the program: " + out}
	}
	prog := program(cmd.Process.Pid, bin)
	if prog == 0 {
		t.Fatalf("no process of %s under %d", bin, cmd.Process.Pid)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	term.Hangup()
	var seen []string
	select {
	case <-done:
		seen = append(seen, "session leader: "+cmd.ProcessState.String())
	case <-time.After(testutil.Deadline):
		seen = append(seen, "session leader: still running")
	}
	st := testutil.WaitState(testutil.AllAre("ended"), prog)
	return append(seen, "program "+testutil.Describe(st[0]))
}

// TestPidHangup checks that when the relay leads the session of a
// terminal that hangs up, the program dies of the hangup, and so does the
// relay, as with unshare --fork --pid: the kernel sends SIGHUP to the
// session leader alone.
func TestPidHangup(t *testing.T) {
	h := startHolder(t)
	testutil.RequireTool(t, "unshare")
	bin := probe(t, dynamic)
	want := []string{"session leader: signal: hangup", "program ended"}
	unshare := hangup(t, bin, nil, "unshare", "--fork", "--pid", "sh", "-c", `"$0" "$@"; exit $?`, bin, "-wait")
	if diff := cmp.Diff(want, unshare); diff != "" {
		t.Fatalf("unshare --fork --pid leading a session (-want +got):\n%s", diff)
	}
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			bin := probe(t, f)
			gons := hangup(t, bin, h.env("pid"), bin, "-wait")
			if diff := cmp.Diff(unshare, gons); diff != "" {
				t.Errorf("gons_pid leading a session, compared with unshare --fork --pid (-unshare +gons_pid):\n%s", diff)
			}
		})
	}
}
