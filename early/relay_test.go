//go:build linux

package early_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

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
