package nsexec_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsexec"
	"github.com/gonsproject/gons/status"
)

func TestRunTrue(t *testing.T) {
	if err := nsexec.Command("/bin/true").Run(); err != nil {
		t.Fatal(err)
	}
	out, err := nsexec.Command("echo", "a", "b").Output()
	if err != nil || string(out) != "a b\n" {
		t.Fatalf("%q %v", out, err)
	}
}

func TestExitStatus(t *testing.T) {
	err := nsexec.Command("sh", "-c", "exit 127").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 127 {
		t.Fatalf("%v", err)
	}
}

func TestNotFound(t *testing.T) {
	err := nsexec.Command("no-such-program-here").Run()
	var se *status.Error
	if !errors.As(err, &se) || se.Op != "exec" || !errors.Is(err, unix.ENOENT) {
		t.Fatalf("%#v", err)
	}
	t.Log(err)
}

func TestTargetNet(t *testing.T) {
	testutil.RequireRoot(t)
	pid := testutil.Holder(t, []string{"--net"}, "")
	want, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
	c := nsexec.Command("readlink", "/proc/self/ns/net")
	c.Target = &nsexec.Target{PID: pid, Types: []string{"net"}}
	out, err := c.Output()
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Fatalf("%q %v, want %s", out, err, want)
	}
	var b bytes.Buffer
	_ = b
}
