package nsthread

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"golang.org/x/sys/unix"
)

// envNobody makes the test binary run nobodyChild with the PID of a
// holder root started.
const envNobody = "GONS_NSTHREAD_TEST_NOBODY"

// TestUnprivileged runs the test binary as nobody (65534), with the
// descriptor of a root-owned holder's uts namespace as fd 3: its own
// namespaces, by path and by PID, mnt included, are skipped without an
// error; the holder's, by PID and by descriptor, fail with EPERM and an
// error naming CAP_SYS_ADMIN; a kernel thread fails with ESRCH; a holder
// in a user namespace nobody made fails saying that a child is needed.
func TestUnprivileged(t *testing.T) {
	pid := holder(t, "gons-rootowned")
	// The test binary, where nobody may run it.
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "nsthread.test")
	copyFile(t, os.Args[0], bin)
	uts, err := os.Open(fmt.Sprintf("/proc/%d/ns/uts", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer uts.Close()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), envNobody+"="+strconv.Itoa(pid))
	cmd.ExtraFiles = []*os.File{uts}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", out)
	if err != nil || !strings.Contains(string(out), "nobody: ok") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// nobodyChild is the child of TestUnprivileged. It returns the exit
// status.
func nobodyChild(rootHolder int) int {
	if os.Geteuid() == 0 {
		fmt.Println("nobody: running as root")
		return 1
	}
	hostname, _ := os.Hostname()
	self := os.Getpid()
	own := func(typ string) Namespace { return Namespace{Type: typ, Path: "/proc/self/ns/" + typ} }
	fail := 0
	check := func(doc string, err error, want ...error) {
		for _, w := range want {
			if !errors.Is(err, w) {
				fmt.Printf("%s: got %v, want %v\n", doc, err, want)
				fail = 1
				return
			}
		}
		if len(want) == 0 && err != nil {
			fmt.Printf("%s: %v\n", doc, err)
			fail = 1
		}
	}
	look := func() (string, error) { return os.Hostname() }
	for _, tc := range []struct {
		doc string
		opt Option
	}{
		{"own uts by PID", Target(self, "uts")},
		{"own namespaces by PID", Target(self)},
		{"own mnt and uts by PID", Target(self, "mnt", "uts")},
		{"own namespaces by path", Namespaces([]Namespace{own("uts"), own("net"), own("mnt"), own("ipc"), own("cgroup")})},
	} {
		h, err := Run(look, tc.opt)
		check(tc.doc, err)
		if err == nil && h != hostname {
			fmt.Printf("%s: hostname %q, want %q\n", tc.doc, h, hostname)
			fail = 1
		}
	}
	errMsg := func(doc string, err error, words ...string) {
		for _, w := range words {
			if err == nil || !strings.Contains(err.Error(), w) {
				fmt.Printf("%s: %v does not say %q\n", doc, err, w)
				fail = 1
			}
		}
	}
	err := Do(func() error { return nil }, Target(rootHolder, "uts"))
	check("root's holder by PID", err, unix.EPERM)
	errMsg("root's holder by PID", err, "CAP_SYS_ADMIN")
	err = Do(func() error { return nil }, Namespaces([]Namespace{{Type: "uts", Path: "/proc/self/fd/3"}}))
	check("root's holder by descriptor", err, unix.EPERM)
	errMsg("root's holder by descriptor", err, "CAP_SYS_ADMIN")
	err = Do(func() error { return nil }, Target(rootHolder, "mnt"))
	errMsg("root's holder's mnt by PID", err, "CAP_SYS_ADMIN")
	check("kernel thread", Do(func() error { return nil }, Target(2)), unix.ESRCH)

	// A namespace of nobody's own user namespace: the thread lacks
	// CAP_SYS_ADMIN in its own, which only a child that joins the user
	// namespace first gets.
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--uts", "sh", "-c", "hostname gons-rootless; echo ready; exec sleep 60")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fmt.Println("rootless:", err)
		return 1
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	b := make([]byte, 6)
	if _, err := io.ReadFull(out, b); err != nil {
		if testutil.InCI() {
			fmt.Println("rootless: unshare --user failed:", err)
			return 1
		}
		fmt.Println("rootless: skipped, no unprivileged user namespaces:", err)
	} else {
		err = Do(func() error { return nil }, Target(cmd.Process.Pid, "uts"))
		check("rootless", err, unix.EPERM)
		errMsg("rootless", err, "reexec", "user")
	}
	if fail == 0 {
		fmt.Println("nobody: ok")
	}
	return fail
}
