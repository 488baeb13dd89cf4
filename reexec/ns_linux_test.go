package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/preinit"
	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

var nsTypes = []string{"user", "mnt", "cgroup", "ipc", "net", "uts", "time", "pid"}

// observation is what an action sees of the namespaces it runs in.
type observation struct {
	NS         map[string]string // type: readlink of /proc/self/ns/<type>
	Hostname   string
	Marker     string // content of the marker file, "" if missing
	Interfaces []string
	MsgQueues  int      // System V message queues
	Cgroup     []string // lines of /proc/self/cgroup
	Offsets    string   // /proc/self/timens_offsets
	Monotonic  int64    // CLOCK_MONOTONIC, seconds
	Ppid       int
	UIDMap     string
	Joined     []string // status.Joined()
}

// monotonic reads CLOCK_MONOTONIC through the system call, not the vDSO.
func monotonic() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return int64(ts.Sec) // int32 on 32-bit systems
}

func observe(marker string) (observation, error) {
	o := observation{NS: map[string]string{}, Monotonic: monotonic(), Ppid: os.Getppid(), Joined: status.Joined()}
	for _, typ := range nsTypes {
		l, err := os.Readlink("/proc/self/ns/" + typ)
		if err != nil {
			return o, err
		}
		o.NS[typ] = l
	}
	o.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile(marker); err == nil {
		o.Marker = string(b)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return o, err
	}
	for _, i := range ifs {
		o.Interfaces = append(o.Interfaces, i.Name)
	}
	if b, err := os.ReadFile("/proc/sysvipc/msg"); err == nil {
		o.MsgQueues = strings.Count(string(b), "\n") - 1
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return o, err
	}
	o.Cgroup = strings.Split(strings.TrimSpace(string(b)), "\n")
	if b, err := os.ReadFile("/proc/self/timens_offsets"); err == nil {
		o.Offsets = string(b)
	}
	if b, err := os.ReadFile("/proc/self/uid_map"); err == nil {
		o.UIDMap = string(b)
	}
	return o, nil
}

var (
	observer = reexec.RegisterFunc("observe", observe)
	// pidSleeper says its PID as the host's procfs shows it, then waits
	// to be killed.
	pidSleeper = reexec.RegisterFunc("pidsleeper", func(struct{}) (int, error) {
		self, err := os.Readlink("/proc/self")
		fmt.Fprintf(os.Stderr, "hostpid=%s %v ready\n", self, err)
		time.Sleep(time.Hour)
		return 0, nil
	})
)

// requireSwitching stops the test unless it can create namespaces and
// early switches in children.
func requireSwitching(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireTool(t, "unshare")
	if !preinit.Ran() {
		testutil.Unavailable(t, "package early's constructor did not run in the test binary (built with CGO_ENABLED=0?)")
	}
}

// holder starts a process in fresh namespaces of every type, set up by
// script, and returns its PID. It is killed when the test ends.
func holder(t *testing.T, script string) int {
	t.Helper()
	return testutil.Holder(t, []string{"--user", "--map-root-user", "--mount", "--uts", "--ipc",
		"--net", "--pid", "--cgroup", "--time", "--monotonic", "86400"}, script)
}

func nsLinks(t *testing.T, pid string) map[string]string {
	t.Helper()
	links := map[string]string{}
	for _, typ := range nsTypes {
		l, err := os.Readlink(filepath.Join("/proc", pid, "ns", typ))
		if err != nil {
			t.Fatal(err)
		}
		links[typ] = l
	}
	return links
}

// TestNamespaces runs an action in each namespace type of a holder on its
// own, then in all of them at once, and checks inside the child what
// changed.
func TestNamespaces(t *testing.T) {
	requireSwitching(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker")
	pid := holder(t, fmt.Sprintf(`
hostname gons-holder
mount -t tmpfs gons-test %[1]s
echo inside > %[1]s/marker
ip link add gons0 type veth peer name gons1
ipcmk -Q >/dev/null`, dir))
	hostNS := nsLinks(t, "self")
	holderNS := nsLinks(t, strconv.Itoa(pid))
	holderUIDMap, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid))
	if err != nil {
		t.Fatal(err)
	}
	parent, err := observe(marker)
	if err != nil {
		t.Fatal(err)
	}
	if parent.Hostname == "gons-holder" || parent.Marker != "" || slices.Contains(parent.Interfaces, "gons0") {
		t.Fatalf("the holder's set-up shows outside it: %+v", parent)
	}

	// What each type changes, as the child sees it.
	checks := map[string]func(t *testing.T, o observation){
		"uts": func(t *testing.T, o observation) {
			if o.Hostname != "gons-holder" {
				t.Errorf("hostname %q, want gons-holder", o.Hostname)
			}
		},
		"mnt": func(t *testing.T, o observation) {
			if o.Marker != "inside\n" {
				t.Errorf("marker %q, want the holder's tmpfs", o.Marker)
			}
		},
		"net": func(t *testing.T, o observation) {
			got := slices.Sorted(slices.Values(o.Interfaces))
			if !slices.Equal(got, []string{"gons0", "gons1", "lo"}) {
				t.Errorf("interfaces %q, want lo and the veth pair gons0, gons1", o.Interfaces)
			}
		},
		"ipc": func(t *testing.T, o observation) {
			if o.MsgQueues != 1 {
				t.Errorf("%d message queues, want the holder's one", o.MsgQueues)
			}
		},
		"cgroup": func(t *testing.T, o observation) {
			for _, l := range o.Cgroup {
				if !strings.HasSuffix(l, ":/") {
					t.Errorf("cgroup %q is not at the namespace's root", l)
				}
			}
		},
		"time": func(t *testing.T, o observation) {
			f := strings.Fields(o.Offsets)
			if len(f) < 2 || f[0] != "monotonic" || f[1] != "86400" {
				t.Errorf("timens_offsets %q, want monotonic 86400", o.Offsets)
			}
			if o.Monotonic < parent.Monotonic+86400 {
				t.Errorf("CLOCK_MONOTONIC %d s, want at least a day past the parent's %d s", o.Monotonic, parent.Monotonic)
			}
		},
		"pid": func(t *testing.T, o observation) {
			// The relay that early leaves outside the namespace is
			// the parent; it has no PID inside.
			if o.Ppid != 0 {
				t.Errorf("getppid() = %d, want 0", o.Ppid)
			}
		},
		"user": func(t *testing.T, o observation) {
			if o.UIDMap != string(holderUIDMap) {
				t.Errorf("uid_map %q, want the holder's %q", o.UIDMap, holderUIDMap)
			}
		},
	}

	run := func(t *testing.T, types []string, opts ...reexec.Option) {
		if opts == nil {
			var ns []reexec.Namespace
			for _, typ := range types {
				ns = append(ns, reexec.Namespace{Type: "!" + typ, Path: fmt.Sprintf("/proc/%d/ns/%s", pid, typ)})
			}
			opts = append(opts, reexec.Namespaces(ns))
		}
		o, err := observer.Run(context.Background(), marker, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(o.Joined, types) {
			t.Errorf("joined %q, want %q", o.Joined, types)
		}
		for _, typ := range nsTypes {
			want := hostNS[typ]
			if slices.Contains(types, typ) {
				want = holderNS[typ]
			}
			if o.NS[typ] != want {
				t.Errorf("%s namespace %s, want %s", typ, o.NS[typ], want)
			}
		}
		for _, typ := range types {
			checks[typ](t, o)
		}
	}
	forEachPath(t, func(t *testing.T) {
		for _, typ := range nsTypes {
			t.Run(typ, func(t *testing.T) { run(t, []string{typ}) })
		}
		t.Run("all", func(t *testing.T) { run(t, nsTypes) })
		t.Run("target", func(t *testing.T) { run(t, nsTypes, reexec.Target(pid)) })
		t.Run("target/some", func(t *testing.T) { run(t, []string{"mnt", "net"}, reexec.Target(pid, "net", "mnt")) })
	})
}

// TestPIDNamespaceCancel cancels an action that runs in a PID namespace
// and checks that both the relay and the action's process are gone.
func TestPIDNamespaceCancel(t *testing.T) {
	requireSwitching(t)
	forEachPath(t, pidNamespaceCancel)
}

func pidNamespaceCancel(t *testing.T) {
	pid := holder(t, "true")
	before := children(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOn{word: "ready", cancel: cancel}
	_, err := pidSleeper.Run(ctx, struct{}{}, reexec.Stderr(stderr), reexec.Namespaces([]reexec.Namespace{
		{Type: "pid", Path: fmt.Sprintf("/proc/%d/ns/pid", pid)},
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	var hostPID int
	if _, err := fmt.Sscanf(stderr.seen.String(), "hostpid=%d", &hostPID); err != nil {
		t.Fatalf("stderr %q: %v", stderr.seen.String(), err)
	}
	// The action's process was in the holder's PID namespace, whose init
	// (a sleep) inherits it and does not reap it: dead means gone or a
	// zombie.
	dead := func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", hostPID))
		if err != nil {
			return true
		}
		_, rest, _ := strings.Cut(string(b), ") ")
		return strings.HasPrefix(rest, "Z")
	}
	if !settle(dead) {
		t.Errorf("the action's process %d outlived the cancelled run", hostPID)
	}
	if after := children(t); !slices.Equal(after, before) {
		t.Errorf("children before %v, after %v", before, after)
	}
}

// TestNamespaceOrder checks that the child switches in the order of the
// Namespaces list, "!" or not.
func TestNamespaceOrder(t *testing.T) {
	requireSwitching(t)
	forEachPath(t, namespaceOrder)
}

func namespaceOrder(t *testing.T) {
	pid := holder(t, "hostname ordered")
	// Inside the holder's mount namespace, /proc is still the host's, so
	// the same path works either way; the order shows in Joined.
	ns := []reexec.Namespace{
		{Type: "uts", Path: fmt.Sprintf("/proc/%d/ns/uts", pid)},
		{Type: "!mnt", Path: fmt.Sprintf("/proc/%d/ns/mnt", pid)},
	}
	o, err := observer.Run(context.Background(), "/nonexistent", reexec.Namespaces(ns))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Joined, []string{"uts", "mnt"}) || o.Hostname != "ordered" {
		t.Fatalf("joined %q with hostname %q, want uts then mnt, hostname ordered", o.Joined, o.Hostname)
	}
}

// TestTargetRefused checks the errors of the Target option: the caller's,
// reported before any child starts, as such.
func TestTargetRefused(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []reexec.Option
		is   error
	}{
		{"with Namespaces", []reexec.Option{reexec.Target(1), reexec.Namespaces([]reexec.Namespace{{Type: "net", Path: "/x"}})}, status.ErrConflict},
		{"unknown type", []reexec.Option{reexec.Target(1, "nett")}, status.ErrUnknownType},
		{"duplicate type", []reexec.Option{reexec.Target(1, "net", "net")}, status.ErrDuplicate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := observer.Run(context.Background(), "", tt.opts...)
			var e *reexec.Error
			var se *status.Error
			if !errors.Is(err, tt.is) || !errors.As(err, &e) || e.Op != "option" || errors.As(err, &se) {
				t.Errorf("got %v, want the caller's error (Op option, no *status.Error) wrapping %v", err, tt.is)
			}
		})
	}
	t.Run("invalid PID", func(t *testing.T) {
		if _, err := observer.Run(context.Background(), "", reexec.Target(0)); err == nil || !strings.Contains(err.Error(), "not a process ID") {
			t.Errorf("got %v, want an error saying 0 is not a process ID", err)
		}
	})
	t.Run("gone", func(t *testing.T) {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		_, err := observer.Run(context.Background(), "", reexec.Target(pid))
		var e *reexec.Error
		if !errors.Is(err, unix.ESRCH) || !errors.As(err, &e) || e.Op != "target" || !strings.Contains(err.Error(), fmt.Sprintf("process %d", pid)) {
			t.Errorf("got %v, want a target error naming process %d, ESRCH, as nsthread's", err, pid)
		}
	})
}
