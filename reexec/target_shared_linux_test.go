package reexec_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// TestTargetShared joins, by PID, a process that shares some namespaces
// with the caller: the join succeeds, Joined lists only what changed, and
// the action sees the target's namespaces. The caller is root, and then
// nobody, whose target is in a user namespace nobody made, or in nobody's
// own namespaces.
func TestTargetShared(t *testing.T) {
	if os.Getenv("GONS_TEST_UNPRIVILEGED") != "" {
		targetShared(t, []string{"--user", "--map-root-user", "--uts"}, []string{"user", "uts"})
		// A process in the caller's own namespaces: nothing to join.
		sleep := exec.Command("sleep", "1000")
		if err := sleep.Start(); err != nil {
			t.Fatal(err)
		}
		defer sleep.Wait()
		defer sleep.Process.Kill()
		o, err := observer.Run(context.Background(), "", reexec.Target(sleep.Process.Pid))
		if err != nil || len(o.Joined) != 0 {
			t.Fatalf("targeting a process in the same namespaces: joined %q, %v; want nothing joined and no error", o.Joined, err)
		}
		// Root's process, every type: the refusal names no type the
		// caller did not ask for, and says what it needs.
		_, err = observer.Run(context.Background(), "", reexec.Target(1))
		var se *status.Error
		if !errors.As(err, &se) || se.Type != "" || se.Path != "/proc/1/ns" || !errors.Is(err, syscall.EACCES) ||
			!strings.Contains(err.Error(), "CAP_SYS_PTRACE") {
			t.Errorf("targeting root's PID 1: %v; want EACCES on /proc/1/ns, no type, and what it needs", err)
		}
		if strings.Contains(err.Error(), "/ns/") {
			t.Errorf("%v names a type, which the caller did not", err)
		}
		return
	}
	requireSwitching(t)
	t.Run("root", func(t *testing.T) {
		targetShared(t, []string{"--uts", "--net"}, []string{"net", "uts"})
	})
	t.Run("root, some types", func(t *testing.T) {
		pid := testutil.Holder(t, []string{"--uts", "--net"}, "hostname gons-shared")
		o, err := observer.Run(context.Background(), "", reexec.Target(pid, "!uts", "ipc"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(o.Joined, []string{"uts"}) {
			t.Errorf("Joined() = %q, want [uts]: ipc is the caller's", o.Joined)
		}
	})
	t.Run("nobody", func(t *testing.T) {
		// A copy of the test binary, run as nobody.
		cmd := testutil.AsNobody(t, "-test.run=^TestTargetShared$", "-test.v")
		cmd.Env = append(cmd.Env, "GONS_TEST_UNPRIVILEGED=1")
		out, err := cmd.CombinedOutput()
		t.Logf("as nobody:\n%s", out)
		if err != nil {
			t.Fatalf("as nobody: %v", err)
		}
	})
}

// targetShared starts a holder with unshare's flags and joins it by PID.
func targetShared(t *testing.T, flags, want []string) {
	pid := testutil.Holder(t, flags, "hostname gons-shared")
	self := nsLinks(t, "self")
	target := nsLinks(t, strconv.Itoa(pid))
	o, err := observer.Run(context.Background(), "", reexec.Target(pid))
	if err != nil {
		t.Fatalf("uid %d: %v", os.Getuid(), err)
	}
	if !slices.Equal(o.Joined, want) {
		t.Errorf("Joined() = %q, want %q: the other types are the caller's", o.Joined, want)
	}
	for _, typ := range nsTypes {
		if o.NS[typ] != target[typ] {
			t.Errorf("%s: %s, want the target's %s (the caller's: %s)", typ, o.NS[typ], target[typ], self[typ])
		}
	}
	if o.Hostname != "gons-shared" {
		t.Errorf("hostname %q, want gons-shared", o.Hostname)
	}
}
