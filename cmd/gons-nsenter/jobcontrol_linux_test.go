package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gonsproject/gons/internal/testutil"
)

// jobControl types cmdline into an interactive bash on a new terminal,
// then ^Z (unless the program stops by itself: selfStop), fg and ^C, and
// returns what a user sees after each: bash's job report, the exit
// status, and whether the process bash started (the job) and the
// program, when it is another process, are stopped, running or ended.
// The program is sleep, or, with selfStop, a shell that stops and then
// executes sleep.
func jobControl(t *testing.T, cmdline string, selfStop bool) []string {
	term := testutil.NewTerminal(t)
	shell := term.Shell(t, nil)
	var seen []string
	status := func(after string) { seen = append(seen, "status after "+after+": "+term.Status(t)) }
	term.Type(t, cmdline+"\n")
	// The job, and the program: itself, or the deepest descendant that
	// is the program (sleep, or the shell stopped by itself). Not merely
	// the last descendant: a Go program's first start of a process
	// clones a short-lived probe of its own (os's pidfd check), which
	// may be listed after the program.
	var procs []int
	for i := 0; i < 1000 && len(procs) == 0; i++ {
		all := testutil.Descendants(shell.Process.Pid)
		for _, p := range all {
			exe, _ := os.Readlink("/proc/" + strconv.Itoa(p) + "/exe")
			if exe == sleepPath || selfStop && testutil.ProcState(p) == 'T' {
				procs = []int{all[0]}
				if p != all[0] {
					procs = append(procs, p)
				}
			}
		}
		if len(procs) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(procs) == 0 {
		t.Fatalf("no program under bash for %q; the terminal shows %q", cmdline, term.Output())
	}
	state := func(s []byte) string {
		d := "job " + testutil.Describe(s[0])
		if len(s) > 1 {
			d += ", program " + testutil.Describe(s[1])
		}
		return d
	}
	stop := "^Z"
	if selfStop {
		stop = "the stop"
	} else {
		term.Type(t, "\x1a")
	}
	out, ok := term.Wait(testutil.Prompt)
	if !ok {
		st := testutil.WaitState(func([]byte) bool { return true }, procs...)
		return append(seen, stop+": no prompt; "+state(st))
	}
	if report, ok := testutil.JobReport(out); ok {
		seen = append(seen, stop+": bash reports the job "+report)
	} else {
		seen = append(seen, stop+": no job report in "+out)
	}
	seen = append(seen, "after "+stop+": "+state(testutil.WaitState(testutil.AllAre("stopped"), procs...)))
	status(stop)
	term.Type(t, "fg\n")
	seen = append(seen, "after fg: "+state(testutil.WaitState(testutil.AllAre("running"), procs...)))
	term.Type(t, "\x03") // ^C
	if _, ok := term.Wait(testutil.Prompt); !ok {
		st := testutil.WaitState(func([]byte) bool { return true }, procs...)
		return append(seen, "^C: no prompt; "+state(st))
	}
	seen = append(seen, "after ^C: "+state(testutil.WaitState(testutil.AllAre("ended"), procs...)))
	status("^C")
	return seen
}

var sleepPath string

// TestJobControl types, at an interactive shell on a terminal, a command
// that runs a program in a holder's uts namespace, then ^Z, fg and ^C,
// and the same with a program that stops by itself (as one that reads
// the terminal raw and takes ^Z as a key may): with gons-nsenter, which
// runs the program as its child, the user sees what nsenter shows, which
// executes the program in place, and the program stops and resumes with
// gons-nsenter.
func TestJobControl(t *testing.T) {
	testutil.RequireRoot(t)
	nsenter := testutil.RequireTool(t, "nsenter")
	sleepPath = testutil.RequireTool(t, "sleep")
	sh := testutil.RequireTool(t, "sh")
	bin := binary(t)
	h := testutil.Holder(t, []string{"--uts", "--pid", "--mount-proc"}, "hostname gons-job")
	selfStopping := sh + ` -c 'kill -STOP $$; exec ` + sleepPath + ` 1000'`
	for _, tc := range []struct {
		name     string
		ns       string // the namespace options
		program  string
		selfStop bool
		stop     string
		status   string
	}{
		{"^Z", "-u", sleepPath + " 1000", false, "^Z", "148"},        // 128 + SIGTSTP
		{"stop", "-u", selfStopping, true, "the stop", "147"},        // 128 + SIGSTOP
		{"pid/^Z", "-u -p", sleepPath + " 1000", false, "^Z", "148"}, // a relay between
		{"pid/stop", "-u -p", selfStopping, true, "the stop", "147"}, // them, as with nsenter
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := fmt.Sprintf(" -t %d %s %s", h, tc.ns, tc.program)
			want := []string{
				tc.stop + ": bash reports the job Stopped",
				"after " + tc.stop + ": job stopped",
				"status after " + tc.stop + ": " + tc.status,
				"after fg: job running",
				"after ^C: job ended",
				"status after ^C: 130", // 128 + SIGINT
			}
			// The program, as another process than the job's, goes
			// along with it.
			withProgram := slices.Clone(want)
			for _, i := range []int{1, 3, 4} {
				withProgram[i] += ", program " + strings.Fields(want[i])[len(strings.Fields(want[i]))-1]
			}
			// nsenter forks too when it joins a PID namespace, and then
			// at times stops again after fg: its waitpid may report the
			// program's stop from before, which it follows with a stop
			// of its own. There the outcome is compared with what
			// nsenter shows without a fork.
			if !strings.Contains(tc.ns, "-p") {
				if diff := cmp.Diff(want, jobControl(t, nsenter+args, tc.selfStop)); diff != "" {
					t.Fatalf("nsenter at a terminal (-want +got):\n%s", diff)
				}
			}
			want = withProgram
			if diff := cmp.Diff(want, jobControl(t, bin+args, tc.selfStop)); diff != "" {
				t.Errorf("gons-nsenter at a terminal (-want +got):\n%s", diff)
			}
		})
	}
}
