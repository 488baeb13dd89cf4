//go:build cgo

package nsexec_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsexec"
	"github.com/gonsproject/gons/status"
)

// inheritProbes print what a process inherits from the thread that
// started it: the first its status (the program itself, for the signal
// mask, which a shell clears), the second the rest.
var inheritProbes = [][]string{
	{"grep", "-E", "^(Uid|Gid|Groups|NoNewPrivs|Umask|SigBlk|SigIgn|Cap(Inh|Prm|Eff|Bnd|Amb)|Seccomp|Cpus_allowed_list):", "/proc/self/status"},
	{"sh", "-c", "pwd; ulimit -Sn; ulimit -Hn; readlink /proc/self/ns/net /proc/self/ns/mnt; cat /proc/self/loginuid /proc/self/oom_score_adj"},
}

// compareWithOSExec runs the probes by the direct start and by os/exec
// from the calling thread and fails the test where the two differ.
func compareWithOSExec(t *testing.T, what string) string {
	t.Helper()
	var all string
	for _, p := range inheritProbes {
		c := nsexec.Command(p[0], p[1:]...)
		got, err := c.Output()
		if err != nil || nsexec.Route(c) != "direct" {
			t.Fatalf("%s: %v, route %s", what, err, nsexec.Route(c))
		}
		want, err := exec.Command(p[0], p[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: os/exec: %v", what, err)
		}
		if string(got) != string(want) {
			t.Fatalf("%s: direct child:\n%s\nos/exec child:\n%s", what, got, want)
		}
		all += string(got)
	}
	return all
}

// A direct child inherits what an os/exec child of the same thread does:
// the signal mask the program started with, ignored signals, the limit of
// open files before and after the program sets it, and the calling
// thread's network and mount namespaces, working directory, umask,
// no_new_privs and credentials. It runs in a child process, started with
// SIGWINCH blocked and a soft limit of 512 open files, which the Go
// runtime raises.
func TestDirectInheritsAsOSExec(t *testing.T) {
	testutil.RequireRoot(t)
	switch os.Getenv("NSEXEC_TEST_INHERIT") {
	case "":
		cmd := exec.Command("sh", "-c", `ulimit -Sn 512 && exec "$0" "$@"`, os.Args[0],
			"-test.run=^TestDirectInheritsAsOSExec$", "-test.v")
		cmd.Env = append(os.Environ(), "NSEXEC_TEST_INHERIT=block")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	case "block":
		// Blocked on this thread, the signal is blocked in the next
		// program as it starts.
		runtime.LockOSThread()
		var set unix.Sigset_t
		set.Val[0] = 1 << (unix.SIGWINCH - 1)
		if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil); err != nil {
			t.Fatal(err)
		}
		os.Setenv("NSEXEC_TEST_INHERIT", "run")
		env := os.Environ()
		t.Fatal(unix.Exec(os.Args[0], os.Args, env))
	}
	signal.Ignore(unix.SIGHUP)
	got := compareWithOSExec(t, "at the start")
	if !strings.Contains(got, "\n512\n") {
		t.Fatalf("the soft limit of open files is not the one the program started with:\n%s", got)
	}
	var st [2]uint64
	for i, f := range []string{"SigBlk:\t%x", "SigIgn:\t%x"} {
		for _, l := range strings.Split(got, "\n") {
			fmt.Sscanf(l, f, &st[i])
		}
	}
	if st[0]&(1<<(unix.SIGWINCH-1)) == 0 || st[1]&(1<<(unix.SIGHUP-1)) == 0 {
		t.Fatalf("SIGWINCH not blocked or SIGHUP not ignored:\n%s", got)
	}
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
	set := unix.Rlimit{Cur: 1000, Max: lim.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &set); err != nil {
		t.Fatal(err)
	}
	if got := compareWithOSExec(t, "after Setrlimit"); !strings.Contains(got, "\n1000\n") {
		t.Fatalf("the program's own limit is not passed on:\n%s", got)
	}

	// The rest on a thread of its own, which ends with the goroutine.
	errc := make(chan error, 1)
	go testutil.OnDiscardedThread(func() {
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNET | unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
				return err
			}
			unix.Umask(0o027)
			if err := unix.Chdir("/usr"); err != nil {
				return err
			}
			compareWithOSExec(t, "another net and mnt namespace, umask, directory")
			if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
				return err
			}
			// Raw, for this thread alone; the thread dies with the goroutine.
			groups := []uint32{4, 5}
			if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 2, uintptr(unsafe.Pointer(&groups[0])), 0); e != 0 {
				return e
			}
			if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, 65534, 65534, 65534); e != 0 {
				return e
			}
			if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, 65534, 65534, 65534); e != 0 {
				return e
			}
			got := compareWithOSExec(t, "no_new_privs, credentials")
			if !strings.Contains(got, "Uid:\t65534") || !strings.Contains(got, "NoNewPrivs:\t1") {
				return errors.New("the thread's state did not reach the child:\n" + got)
			}
			return nil
		}()
	})
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// Many goroutines start at once: every start succeeds, with its own
// output and the input copied in from a reader, and nothing is left behind, neither a descriptor nor a zombie.
func TestDirectConcurrent(t *testing.T) {
	testutil.RequireRoot(t)
	pid := testutil.Holder(t, []string{"--net"}, "")
	want := nsLink(t, strconv.Itoa(pid), "net")
	before := openFDs(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				c := nsexec.Command("sh", "-c", "readlink /proc/self/ns/net; echo $0; cat", strconv.Itoa(g*100+i))
				c.Target = &nsexec.Target{PID: pid, Types: []string{"net"}}
				c.Stdin = strings.NewReader("copied in\n")
				out, err := c.Output()
				if err == nil && (string(out) != want+"\n"+strconv.Itoa(g*100+i)+"\ncopied in\n" || nsexec.Route(c) != "direct") {
					err = fmt.Errorf("got %q by %s", out, nsexec.Route(c))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if after := openFDs(t); after != before {
		t.Fatalf("descriptors: %d before, %d after", before, after)
	}
	if z := zombies(); len(z) > 0 {
		t.Fatalf("zombies: %v", z)
	}
}

// openFDs counts this process's descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// zombies lists this process's children that ended and were not reaped.
func zombies() []int {
	return slices.DeleteFunc(testutil.Children(os.Getpid()), func(pid int) bool { return testutil.ProcState(pid) != 'Z' })
}

// A signal that this process handles in Go, delivered while direct
// children start, finds them with its default action: it kills them. A Go
// handler run in a child, which shares this process's memory, would have
// let it go on to its failure. The program does not exist, so that the
// child never executes anything that could set the default itself. It
// runs in a process group of its own, which the signals go to.
func TestDirectSignalNeverRunsAHandler(t *testing.T) {
	if os.Getenv("NSEXEC_TEST_SIGNALS") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDirectSignalNeverRunsAHandler$", "-test.v")
		cmd.Env = append(os.Environ(), "NSEXEC_TEST_SIGNALS=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	got := make(chan os.Signal, 1024)
	signal.Notify(got, unix.SIGUSR1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				unix.Kill(0, unix.SIGUSR1)
				time.Sleep(20 * time.Microsecond)
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	killed, failed := 0, 0
	deadline := time.Now().Add(10 * time.Second)
	for killed < 3 && time.Now().Before(deadline) {
		c := nsexec.Command("/nonexistent/program")
		err := c.Start()
		if err != nil {
			if !errors.Is(err, unix.ENOENT) {
				t.Fatalf("Start: %v", err)
			}
			failed++
			continue
		}
		if nsexec.Route(c) != "direct" {
			t.Fatalf("started by %s", nsexec.Route(c))
		}
		err = c.Wait()
		ws, _ := c.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != unix.SIGUSR1 {
			t.Fatalf("a child that never ran its program: %v, %v", err, c.ProcessState)
		}
		killed++
	}
	if killed == 0 {
		// With the default action, a few starts suffice; tens of
		// thousands fail this way when a handler catches the signal.
		t.Fatalf("no child died of the signal in %d starts: a handler caught it", failed)
	}
	t.Logf("%d children killed by the signal, %d failed as asked", killed, failed)
}

// The kernel lets a child that shares its parent's memory, but has its own
// file system attributes, join every type of namespace but time: a user
// namespace (the child is a thread group of its own), a mount namespace
// (not sharing the caller's fs_struct), a PID namespace for its children
// (NoFork), cgroup, ipc, net, uts. Time refuses it (EUSERS), so Start
// takes another route there.
func TestDirectKernelTakes(t *testing.T) {
	testutil.RequireRoot(t)
	holders := map[string]int{
		"user": testutil.Holder(t, []string{"--user", "--map-root-user"}, ""),
		"mnt":  testutil.Holder(t, []string{"--mount"}, ""),
		"":     testutil.Holder(t, []string{"--cgroup", "--ipc", "--net", "--uts", "--pid", "--time"}, ""),
	}
	for _, typ := range []string{"user", "mnt", "pid", "cgroup", "ipc", "net", "uts", "time"} {
		t.Run(typ, func(t *testing.T) {
			pid, ok := holders[typ]
			if !ok {
				pid = holders[""]
			}
			link := "/proc/self/ns/" + typ
			if typ == "pid" || typ == "time" {
				link += "_for_children"
			}
			c := nsexec.Command("readlink", link)
			c.Target = &nsexec.Target{PID: pid, Types: []string{typ}}
			c.NoFork = true
			if got, want := output(t, c), nsLink(t, strconv.Itoa(pid), typ); got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
			if typ != "time" {
				return
			}
			// Where the direct start declines, the kernel refuses it.
			nsexec.SetForceDirect(true)
			defer nsexec.SetForceDirect(false)
			c = nsexec.Command("/bin/true")
			c.Target = &nsexec.Target{PID: pid, Types: []string{typ}}
			err := c.Run()
			var se *status.Error
			if !errors.As(err, &se) || se.Op != "setns" || !errors.Is(err, unix.EUSERS) || nsexec.Route(c) != "exec" {
				t.Fatalf("forced: %v, route %s", err, nsexec.Route(c))
			}
		})
	}
}

// A Target without Types is checked on the calling thread: a time or PID
// namespace that differs sends the start to another route; one that does
// not leaves it direct.
func TestDirectTargetWithoutTypes(t *testing.T) {
	testutil.RequireRoot(t)
	for _, flags := range [][]string{{"--net", "--uts"}, {"--net", "--time"}, {"--net", "--pid", "--mount-proc"}} {
		t.Run(strings.Join(flags, ""), func(t *testing.T) {
			pid := testutil.Holder(t, flags, "")
			c := nsexec.Command("readlink", "/proc/self/ns/net", "/proc/self/ns/time_for_children")
			c.Target = &nsexec.Target{PID: pid}
			out, err := c.Output()
			direct := !strings.Contains(strings.Join(flags, " "), "time") && !strings.Contains(strings.Join(flags, " "), "pid")
			want := nsLink(t, strconv.Itoa(pid), "net") + "\n" + nsLink(t, strconv.Itoa(pid), "time") + "\n"
			if err != nil || string(out) != want || (nsexec.Route(c) == "direct") != direct {
				t.Fatalf("%q %v, route %s (want direct: %v)", out, err, nsexec.Route(c), direct)
			}
		})
	}
}

// A target that joins a time namespace after the check on the calling
// thread: the child's setns(2) of the pidfd fails, all or none, and Start
// takes another route. The check is skipped here, which leaves the time
// namespace for the child to find.
func TestDirectTargetRace(t *testing.T) {
	testutil.RequireRoot(t)
	pid := testutil.Holder(t, []string{"--net", "--time"}, "")
	nsexec.SetForceDirect(true)
	defer nsexec.SetForceDirect(false)
	c := nsexec.Command("readlink", "/proc/self/ns/net", "/proc/self/ns/time_for_children")
	c.Target = &nsexec.Target{PID: pid}
	out, err := c.Output()
	want := nsLink(t, strconv.Itoa(pid), "net") + "\n" + nsLink(t, strconv.Itoa(pid), "time") + "\n"
	if err != nil || string(out) != want || nsexec.Route(c) != "forkserver" {
		t.Fatalf("%q %v, route %s", out, err, nsexec.Route(c))
	}
}

// TestDirectFromSmallCThread starts a program from a thread that C code
// created with a 64 KiB stack, through a cgo callback (testdata/cthread):
// a cgo call runs on the calling thread's own stack, so a start must not
// put the child's stack there.
func TestDirectFromSmallCThread(t *testing.T) {
	testutil.RequireCgo(t)
	bin := t.TempDir() + "/cthread"
	build := exec.Command(testutil.GoTool(t), "build", "-buildvcs=false", "-o", bin, "./testdata/cthread")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("a start from a small C thread: %v\n%.2000s", err, out)
	}
}
