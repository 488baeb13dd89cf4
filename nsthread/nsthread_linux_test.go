package nsthread

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonsproject/gons/internal/testutil"
	"golang.org/x/sys/unix"
)

// allTypes are the types a thread can join: Types and mnt.
var allTypes = append(slices.Clip(Types), "mnt")

// original holds the namespaces of the test process, as its main thread
// shows them when the tests start.
var original = nsOf("/proc/self")

// The main goroutine keeps the main thread, so that no call runs there:
// the runtime parks a discarded main thread instead of ending it, and
// TestRestoreFails would leave it in the holder's namespaces.
func init() { runtime.LockOSThread() }

func TestMain(m *testing.M) {
	if os.Getenv(envReuse) != "" {
		os.Exit(reuseChild())
	}
	if pid, err := strconv.Atoi(os.Getenv(envNobody)); err == nil {
		os.Exit(nobodyChild(pid))
	}
	if arg := os.Getenv(envMain); arg != "" {
		os.Exit(mainChild(arg))
	}
	if pid, err := strconv.Atoi(os.Getenv(envLost)); err == nil {
		os.Exit(lostChild(pid))
	}
	before := nsFDs()
	code := m.Run()
	// Every test has ended: no thread may be left in another
	// namespace, and no namespace or pidfd descriptor left open.
	if err := threadsBack(10 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		code = 1
	}
	// The package keeps one descriptor of each of the process's own
	// namespaces open, mnt included, and nothing else.
	after := slices.DeleteFunc(nsFDs(), func(fd string) bool {
		for _, typ := range allTypes {
			if strings.HasSuffix(fd, " "+original[typ]) {
				return true
			}
		}
		return false
	})
	if kept := len(nsFDs()) - len(after); !slices.Equal(before, after) || kept > len(Types)+1 {
		fmt.Fprintf(os.Stderr, "FAIL: namespace and pidfd descriptors before the tests %q, after %q and %d of the process's own\n", before, after, kept)
		code = 1
	}
	os.Exit(code)
}

// nsOf reads the links of the thread-joinable namespaces of a process or
// thread directory in /proc.
func nsOf(dir string) map[string]string {
	links := map[string]string{}
	for _, typ := range allTypes {
		links[typ], _ = os.Readlink(filepath.Join(dir, "ns", typ))
	}
	return links
}

// nsFDs lists the descriptors of this process that are namespaces or
// pidfds, with their targets.
func nsFDs() []string {
	ents, _ := os.ReadDir("/proc/self/fd")
	var fds []string
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && (strings.Contains(l, ":[40") || strings.Contains(l, "pidfd")) {
			fds = append(fds, e.Name()+" "+l)
		}
	}
	return fds
}

// originalFS is the working directory and root of the test process.
var originalFS = fsOf("/proc/self")

// fsOf returns the working directory and root of a process or thread
// directory in /proc, as the links show them, with their inodes: a root
// in another mount namespace may have the same name.
func fsOf(dir string) string {
	var s []string
	for _, l := range []string{"cwd", "root"} {
		name, _ := os.Readlink(filepath.Join(dir, l))
		var st unix.Stat_t
		unix.Stat(filepath.Join(dir, l), &st)
		s = append(s, fmt.Sprintf("%s=%s(%d:%d)", l, name, st.Dev, st.Ino))
	}
	return strings.Join(s, " ")
}

// strayThreads lists the threads of the process that are not in the
// original namespaces, working directory and root.
func strayThreads() []string {
	var bad []string
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		dir := "/proc/self/task/" + task.Name()
		ns := nsOf(dir)
		for _, typ := range allTypes {
			if ns[typ] != "" && ns[typ] != original[typ] {
				bad = append(bad, fmt.Sprintf("thread %s is in %s", task.Name(), ns[typ]))
			}
		}
		if fs := fsOf(dir); fs != originalFS && ns["mnt"] != "" {
			bad = append(bad, fmt.Sprintf("thread %s has %s, not %s", task.Name(), fs, originalFS))
		}
	}
	return bad
}

// threadsBack waits, at most for max, until every thread of the process is
// in the original namespaces, working directory and root: discarded
// threads take a moment to end.
func threadsBack(max time.Duration) error {
	deadline := time.Now().Add(max)
	for {
		bad := strayThreads()
		if bad == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("threads not back in the original namespaces %v: %v", original, bad)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// threadEnds waits, at most 10 s, for thread tid to end.
func threadEnds(t *testing.T, tid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d was not discarded", tid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// requireNS stops the test unless it can make namespaces.
func requireNS(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireTool(t, "unshare")
}

// holder starts a process in fresh net, uts, ipc and cgroup namespaces,
// with hostname name, an interface gons0 and one message queue. Its cgroup
// namespace is rooted at a cgroup of its own, below the test's, so that
// the cgroup paths a thread sees differ once it joins. It returns the
// holder's PID.
func holder(t *testing.T, name string) int {
	t.Helper()
	requireNS(t)
	testutil.RequireTool(t, "ip")
	testutil.RequireTool(t, "ipcmk")
	cg := cgroup2Dir(t)
	if err := os.Mkdir(cg, 0o755); err != nil {
		testutil.Unavailable(t, "making a cgroup: %v", err)
	}
	t.Cleanup(func() {
		// The holder is killed by now, but may take a moment to leave.
		for i := 0; i < 500 && unix.Rmdir(cg) == unix.EBUSY; i++ {
			time.Sleep(10 * time.Millisecond)
		}
	})
	return testutil.Holder(t, []string{"--net", "--uts", "--ipc"}, fmt.Sprintf(`hostname %s
ip link add gons0 type veth peer name gons1
ipcmk -Q >/dev/null
echo $$ > %s/cgroup.procs
exec unshare --cgroup sh -c 'echo ready; exec sleep infinity'`, name, cg))
}

// cgroup2Dir returns a path for a new cgroup below the test's own in the
// cgroup2 hierarchy.
func cgroup2Dir(t *testing.T) string {
	t.Helper()
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var rel string
	for _, l := range strings.Split(string(own), "\n") {
		if r, ok := strings.CutPrefix(l, "0::"); ok {
			rel = r
		}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// ... mount-point ... - cgroup2 ...
		pre, post, _ := strings.Cut(s.Text(), " - ")
		if fs := strings.Fields(post); len(fs) > 0 && fs[0] == "cgroup2" && rel != "" {
			return filepath.Join(strings.Fields(pre)[4], rel, fmt.Sprintf("gons-nsthread-%d-%d", os.Getpid(), time.Now().UnixNano()))
		}
	}
	testutil.Unavailable(t, "no cgroup2 hierarchy mounted")
	return ""
}

// seen is what a function sees of the namespaces it runs in.
type seen struct {
	NS         map[string]string
	Hostname   string
	Interfaces []string
	MsgQueues  int
	Cgroup     string // the cgroup2 line of /proc/thread-self/cgroup
}

func look() (seen, error) {
	s := seen{NS: nsOf("/proc/thread-self")}
	var err error
	if s.Hostname, err = os.Hostname(); err != nil {
		return s, err
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return s, err
	}
	for _, i := range ifs {
		s.Interfaces = append(s.Interfaces, i.Name)
	}
	b, err := os.ReadFile("/proc/sysvipc/msg")
	if err != nil {
		return s, err
	}
	s.MsgQueues = strings.Count(string(b), "\n") - 1
	b, err = os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return s, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "0::") {
			s.Cgroup = l
		}
	}
	return s, nil
}

// TestJoin runs a function in each type of a holder's namespaces alone,
// then in all four, by path and by PID, and checks inside the function
// what it sees.
func TestJoin(t *testing.T) {
	pid := holder(t, "gons-holder")
	holderNS := nsOf(fmt.Sprintf("/proc/%d", pid))
	outside, err := look()
	if err != nil {
		t.Fatal(err)
	}
	if outside.Hostname == "gons-holder" || slices.Contains(outside.Interfaces, "gons0") ||
		outside.Cgroup == "0::/.." {
		t.Fatalf("the holder's set-up shows outside it: %+v", outside)
	}
	checks := map[string]func(t *testing.T, s seen){
		"uts": func(t *testing.T, s seen) {
			if s.Hostname != "gons-holder" {
				t.Errorf("hostname %q, want gons-holder", s.Hostname)
			}
		},
		"net": func(t *testing.T, s seen) {
			if got := slices.Sorted(slices.Values(s.Interfaces)); !slices.Equal(got, []string{"gons0", "gons1", "lo"}) {
				t.Errorf("interfaces %q, want the holder's gons0, gons1 and lo", got)
			}
		},
		"ipc": func(t *testing.T, s seen) {
			if s.MsgQueues != 1 {
				t.Errorf("%d message queues, want the holder's one", s.MsgQueues)
			}
		},
		"cgroup": func(t *testing.T, s seen) {
			// The test's cgroup is the parent of the holder's
			// namespace root.
			if s.Cgroup != "0::/.." {
				t.Errorf("cgroup %q, want 0::/.. (above the holder's root)", s.Cgroup)
			}
		},
	}
	run := func(t *testing.T, types []string, opt Option) {
		s, err := Run(look, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range Types {
			want := original[typ]
			if slices.Contains(types, typ) {
				want = holderNS[typ]
				checks[typ](t, s)
			}
			if s.NS[typ] != want {
				t.Errorf("%s namespace %s, want %s", typ, s.NS[typ], want)
			}
		}
		// The parts not joined look as they do outside.
		if !slices.Contains(types, "uts") && s.Hostname != outside.Hostname {
			t.Errorf("hostname %q without uts, want %q", s.Hostname, outside.Hostname)
		}
	}
	byPath := func(types []string) Option {
		var ns []Namespace
		for _, typ := range types {
			ns = append(ns, Namespace{Type: typ, Path: fmt.Sprintf("/proc/%d/ns/%s", pid, typ)})
		}
		return Namespaces(ns)
	}
	for _, typ := range Types {
		t.Run(typ+"/path", func(t *testing.T) { run(t, []string{typ}, byPath([]string{typ})) })
		t.Run(typ+"/pid", func(t *testing.T) { run(t, []string{typ}, Target(pid, typ)) })
	}
	all := []string{"uts", "net", "cgroup", "ipc"}
	t.Run("all/path", func(t *testing.T) { run(t, all, byPath(all)) })
	t.Run("all/pid", func(t *testing.T) { run(t, all, Target(pid)) })
	t.Run("some/pid", func(t *testing.T) { run(t, []string{"net", "uts"}, Target(pid, "!uts", "net")) })
	t.Run("all/pidfd", func(t *testing.T) {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			testutil.Unavailable(t, "pidfd_open: %v", err)
		}
		defer unix.Close(fd)
		run(t, all, TargetPidfd(fd))
	})
	t.Run("bang", func(t *testing.T) {
		run(t, []string{"net"}, Namespaces([]Namespace{{Type: "!net", Path: fmt.Sprintf("/proc/%d/ns/net", pid)}}))
	})
	t.Run("none", func(t *testing.T) { run(t, nil, nil) })
}

// TestOtherThreads checks, inside a function that joined all four types,
// that every other thread of the process stayed in its namespaces: the
// switch is the thread's alone, cgroup included.
func TestOtherThreads(t *testing.T) {
	pid := holder(t, "gons-other")
	// Keep a few more threads around than the runtime needs.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			<-stop
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	err := Do(func() error {
		self := strconv.Itoa(unix.Gettid())
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		if len(tasks) < 5 {
			return fmt.Errorf("only %d threads", len(tasks))
		}
		for _, task := range tasks {
			ns := nsOf("/proc/self/task/" + task.Name())
			for _, typ := range Types {
				inside := ns[typ] != original[typ]
				if inside != (task.Name() == self) {
					return fmt.Errorf("thread %s (function's: %s) is in %s namespace %s", task.Name(), self, typ, ns[typ])
				}
			}
		}
		return nil
	}, Target(pid))
	if err != nil {
		t.Fatal(err)
	}
}
