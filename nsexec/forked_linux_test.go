//go:build cgo

package nsexec_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsexec"
)

func TestForkServerUsed(t *testing.T) {
	noDirect(t)
	if !nsexec.Forkable() {
		t.Fatal("the test binary imports reexec/forkserver, yet a Start would exec")
	}
	c := nsexec.Command("/bin/true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	if !nsexec.Forked(c) {
		t.Fatal("not started by the fork server")
	}
	out, err := nsexec.Command("echo", "hi").Output()
	if err != nil || string(out) != "hi\n" {
		t.Fatalf("%q %v", out, err)
	}
}

// A caller whose state differs from the fork server's, which its child
// would start with, execs: a umask, a resource limit, a nice value.
func TestForkServerFallsBack(t *testing.T) {
	noDirect(t)
	if !nsexec.Forkable() {
		t.Fatal("not forkable to begin with")
	}
	old := unix.Umask(0o077)
	forkable := nsexec.Forkable()
	c := nsexec.Command("sh", "-c", "umask")
	out, err := c.Output()
	unix.Umask(old)
	if forkable || nsexec.Forked(c) || err != nil || string(out) != "0077\n" {
		t.Fatalf("umask: forkable %v, forked %v, %q %v", forkable, nsexec.Forked(c), out, err)
	}
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
	low := lim
	low.Cur--
	unix.Setrlimit(unix.RLIMIT_NOFILE, &low)
	forkable = nsexec.Forkable()
	unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
	if forkable {
		t.Fatal("forkable with another RLIMIT_NOFILE")
	}
	if !nsexec.Forkable() {
		t.Fatal("not forkable once the state is back")
	}
}

// The Go runtime raises its soft limit of open files as it starts, and
// os/exec gives children the limit from before, as the fork server's
// children have it: a program started with a low soft limit still forks.
func TestForkServerWithRaisedNofile(t *testing.T) {
	if os.Getenv("NSEXEC_TEST_NOFILE") != "" {
		noDirect(t)
		c := nsexec.Command("sh", "-c", "ulimit -Sn")
		out, err := c.Output()
		if err != nil || string(out) != "512\n" || !nsexec.Forked(c) {
			t.Fatalf("%q %v, forked %v", out, err, nsexec.Forked(c))
		}
		return
	}
	cmd := exec.Command("sh", "-c", `ulimit -Sn 512 && exec "$0" "$@"`, os.Args[0], "-test.run=^TestForkServerWithRaisedNofile$", "-test.v")
	cmd.Env = append(os.Environ(), "NSEXEC_TEST_NOFILE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// A caller that the check sends to exec may see what a child of the
// server would not: here a namespace file that exists only in the calling
// thread's mount namespace. The exec'd child opens and joins it, and
// Start reports that child's outcome.
func TestForkServerFallsBackWhereTheThreadSeesMore(t *testing.T) {
	noDirect(t)
	testutil.RequireRoot(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "net")
	errc := make(chan error, 1)
	var forked bool
	// The thread ends with the goroutine.
	go testutil.OnDiscardedThread(func() {
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			errc <- err
			return
		}
		if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			errc <- err
			return
		}
		if err := unix.Mount("none", dir, "tmpfs", 0, ""); err != nil {
			errc <- err
			return
		}
		if err := os.WriteFile(path, nil, 0o444); err != nil {
			errc <- err
			return
		}
		if err := unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, ""); err != nil {
			errc <- err
			return
		}
		c := nsexec.Command("/bin/true")
		c.Namespaces = []nsexec.Namespace{{Type: "net", Path: path}}
		err := c.Run()
		forked = nsexec.Forked(c)
		errc <- err
	})
	if err := <-errc; err != nil || forked {
		t.Fatalf("forked %v: %v", forked, err)
	}
	// What the server's child saw: no such file.
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s in the test's mount namespace: %v", path, err)
	}
}
