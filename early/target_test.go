//go:build linux

package early_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"
)

// pidfdInode returns the inode of a pidfd of pid, as nsenter prints it.
func pidfdInode(t *testing.T, pid int) uint64 {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestTarget checks that gons_target joins every namespace of a process
// by its PID, through one setns(2) of a pidfd and, as before Linux 5.8,
// one by one.
func TestTarget(t *testing.T) {
	h := startHolder(t)
	self := selfNS(t)
	pid := strconv.Itoa(h.pid)
	inode := pidfdInode(t, h.pid)
	for _, f := range []flavour{dynamic, staticMusl, fallback} {
		t.Run(f.name, func(t *testing.T) {
			for _, tt := range []struct {
				name  string
				env   []string
				types []string
			}{
				{"pid", []string{"gons_target=" + pid}, allTypes},
				{"pid:inode", []string{"gons_target=" + pid + ":" + strconv.FormatUint(inode, 10)}, allTypes},
				{"some types", []string{"gons_target=" + pid, "gons_target_ns= uts, net,mnt"}, []string{"mnt", "net", "uts"}},
			} {
				if f.name == fallback.name && tt.name == "pid:inode" {
					continue // refused without pidfs: TestTargetNoPidfs
				}
				t.Run(tt.name, func(t *testing.T) {
					r := runProbe(t, f, tt.env, "-exists", h.marker)
					checkJoined(t, r, h, self, tt.types...)
					var order []string
					for _, typ := range defaultOrder {
						if slices.Contains(tt.types, typ) {
							order = append(order, typ)
						}
					}
					if !slices.Equal(r.Joined, order) {
						t.Errorf("Joined() = %v, want %v", r.Joined, order)
					}
					if wantPID, _ := strconv.Atoi(strings.TrimPrefix(tt.env[0], "gons_target=")); r.TargetPID != wantPID && !strings.Contains(tt.env[0], ":") {
						t.Errorf("Target() = %d, want %d", r.TargetPID, wantPID)
					}
				})
			}
		})
	}
	// The test's own namespaces: nothing differs, nothing is joined.
	t.Run("own", func(t *testing.T) {
		for _, f := range []flavour{dynamic, fallback} {
			r := runProbe(t, f, []string{"gons_target=" + strconv.Itoa(os.Getpid())})
			if r.Err != nil || len(r.Joined) != 0 {
				t.Errorf("%s: Err() = %+v, Joined() = %v; want nil, []", f.name, r.Err, r.Joined)
			}
			if diff := cmp.Diff(self, r.NS, cmpopts.IgnoreMapEntries(func(k, _ string) bool { return strings.Contains(k, "_for_") })); diff != "" {
				t.Errorf("%s: namespaces (-want +got):\n%s", f.name, diff)
			}
			checkClean(t, r)
		}
	})
	t.Run("Target", func(t *testing.T) {
		r := runProbe(t, dynamic, []string{"gons_target=" + pid, "gons_target_ns=uts"})
		if r.TargetPID != h.pid || r.TargetInode != inode {
			t.Errorf("Target() = %d, %d; want %d, %d", r.TargetPID, r.TargetInode, h.pid, inode)
		}
	})
}

// TestTargetRefused checks what gons_target refuses: a PID:INODE that is
// not that process, a process that is gone, and malformed values. Nothing
// is switched and no fd is left open.
func TestTargetRefused(t *testing.T) {
	h := startHolder(t)
	self := selfNS(t)
	pid := strconv.Itoa(h.pid)
	other := exec.Command("sleep", "infinity")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	otherInode := strconv.FormatUint(pidfdInode(t, other.Process.Pid), 10)
	gone := strconv.Itoa(deadPid(t))

	tests := []struct {
		name string
		env  []string
		want probeError // Msg: a part of the message
	}{
		{"another process's inode", []string{"gons_target=" + pid + ":" + otherInode},
			probeError{Op: "target", Errno: int(unix.EINVAL), Msg: "process " + pid + " has pidfd inode"}},
		{"gone", []string{"gons_target=" + gone},
			probeError{Op: "target", Errno: int(unix.ESRCH), Msg: "process " + gone + ": no such process"}},
		{"not a number", []string{"gons_target=self"},
			probeError{Op: "parse", Msg: `gons_target: "self" is not a process ID`}},
		{"negative", []string{"gons_target=-1"},
			probeError{Op: "parse", Msg: `gons_target: "-1" is not`}},
		{"zero", []string{"gons_target=0"},
			probeError{Op: "parse", Msg: `gons_target: "0" is not`}},
		{"huge", []string{"gons_target=99999999999999999999"},
			probeError{Op: "parse", Msg: `gons_target: "99999999999999999999" is not`}},
		{"beyond pid_max", []string{"gons_target=2147483647"},
			probeError{Op: "target", Errno: int(unix.ESRCH)}},
		{"bad inode", []string{"gons_target=" + pid + ":x"},
			probeError{Op: "parse", Msg: `gons_target: "` + pid + `:x" is not`}},
		{"empty inode", []string{"gons_target=" + pid + ":"},
			probeError{Op: "parse", Msg: "is not a process ID"}},
		{"unknown type", []string{"gons_target=" + pid, "gons_target_ns=net,nett"},
			probeError{Op: "parse", Msg: `gons_target_ns: unknown namespace type "nett"`}},
		{"bang in target_ns", []string{"gons_target=" + pid, "gons_target_ns=!net"},
			probeError{Op: "parse", Msg: `gons_target_ns: unknown namespace type "!net"`}},
		{"duplicate type", []string{"gons_target=" + pid, "gons_target_ns=net,net"},
			probeError{Op: "parse", Type: "net", Msg: "gons_target_ns: net listed more than once"}},
		{"target_ns without target", []string{"gons_target_ns=net"},
			probeError{Op: "parse", Msg: "gons_target_ns is set without gons_target"}},
		{"with a path", []string{"gons_target=" + pid, "gons_net=" + h.path("net")},
			probeError{Op: "parse", Type: "net", Msg: "gons_net and gons_target both say which namespaces to join"}},
		{"with an order", []string{"gons_target=" + pid, "gons_order=net"},
			probeError{Op: "parse", Msg: "gons_order and gons_target"}},
		// gons_errors=status: the failure fails closed otherwise (TestDropFailsClosedAfterAnyStep).
		{"bad uid", []string{"gons_target=" + pid, "gons_uid=4294967295", "gons_errors=status"},
			probeError{Op: "parse", Msg: `gons_uid: "4294967295" is not a user ID`}},
		{"bad gid", []string{"gons_target=" + pid, "gons_gid=root", "gons_errors=status"},
			probeError{Op: "parse", Msg: `gons_gid: "root" is not a group ID`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFailed(t, runProbe(t, dynamic, tt.env), tt.want, nil, h, self)
		})
	}
}

// startUserHolder starts a process in new user and mount namespaces whose
// user namespace maps IDs 0 to 65535 to themselves, with setgroups allowed.
func startUserHolder(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "infinity")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
		GidMappingsEnableSetgroups: true,
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// TestCredentials checks gons_uid and gons_gid, inside a joined user
// namespace and without one.
func TestCredentials(t *testing.T) {
	h := startHolder(t)
	user := startUserHolder(t)
	for _, tt := range []struct {
		name string
		env  []string
		uid  int
		gid  int
	}{
		{"in a user namespace", []string{"gons_target=" + strconv.Itoa(user), "gons_uid=1000", "gons_gid=1001"}, 1000, 1001},
		{"by path", []string{"gons_user=/proc/" + strconv.Itoa(user) + "/ns/user", "gons_uid=1002", "gons_gid=1003"}, 1002, 1003},
		{"without a user namespace", []string{"gons_net=" + h.path("net"), "gons_uid=1234", "gons_gid=5678"}, 1234, 5678},
		{"uid alone", []string{"gons_uid=4321"}, 4321, 0},
		{"gid alone", []string{"gons_gid=4321"}, 0, 4321},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runProbe(t, dynamic, tt.env)
			if r.Err != nil {
				t.Fatalf("Err() = %+v", r.Err)
			}
			if want := [3]int{tt.uid, tt.uid, tt.uid}; r.UIDs != want {
				t.Errorf("getresuid() = %v, want %v", r.UIDs, want)
			}
			if want := [3]int{tt.gid, tt.gid, tt.gid}; r.GIDs != want {
				t.Errorf("getresgid() = %v, want %v", r.GIDs, want)
			}
			if len(r.Groups) != 0 {
				t.Errorf("supplementary groups %v, want none", r.Groups)
			}
		})
	}
	t.Run("unmapped", func(t *testing.T) {
		r := runProbe(t, dynamic, []string{"gons_target=" + strconv.Itoa(user), "gons_uid=70000", "gons_errors=status"})
		if r.Err == nil || r.Err.Op != "setuid" || r.Err.Errno != int(unix.EINVAL) {
			t.Errorf("Err() = %+v, want setuid EINVAL: 70000 is not mapped", r.Err)
		}
		r = runProbe(t, dynamic, []string{"gons_target=" + strconv.Itoa(user), "gons_gid=70000", "gons_errors=status"})
		if r.Err == nil || r.Err.Op != "setgid" || r.Err.Errno != int(unix.EINVAL) {
			t.Errorf("Err() = %+v, want setgid EINVAL: 70000 is not mapped", r.Err)
		}
	})
}

// TestDirectories checks gons_wd and gons_root, resolved in the mount
// namespace joined.
func TestDirectories(t *testing.T) {
	h := startHolder(t)
	dir := filepath.Dir(h.marker)
	target := "gons_target=" + strconv.Itoa(h.pid)
	t.Run("wd", func(t *testing.T) {
		r := runProbe(t, dynamic, []string{target, "gons_wd=" + dir}, "-exists", "marker")
		if r.Err != nil || r.Cwd != dir || !r.Exists {
			t.Errorf("Err() = %+v, cwd %q, marker seen %v; want nil, %q, true", r.Err, r.Cwd, r.Exists, dir)
		}
	})
	t.Run("root", func(t *testing.T) {
		r := runProbe(t, dynamic, []string{target, "gons_root=" + dir}, "-exists", "/marker")
		if r.Err != nil || r.Cwd != "/" || !r.Exists {
			t.Errorf("Err() = %+v, cwd %q, /marker seen %v; want nil, /, true", r.Err, r.Cwd, r.Exists)
		}
	})
	t.Run("root and wd", func(t *testing.T) {
		r := runProbe(t, dynamic, []string{"gons_mnt=" + h.path("mnt"), "gons_root=/", "gons_wd=" + dir})
		if r.Err != nil || r.Cwd != dir {
			t.Errorf("Err() = %+v, cwd %q; want nil, %q", r.Err, r.Cwd, dir)
		}
	})
	t.Run("wd missing", func(t *testing.T) {
		r := runProbe(t, dynamic, []string{"gons_wd=/no/such/dir"})
		if r.Err == nil || r.Err.Op != "chdir" || r.Err.Path != "/no/such/dir" || r.Err.Errno != int(unix.ENOENT) {
			t.Errorf("Err() = %+v, want chdir ENOENT naming the path", r.Err)
		}
	})
	t.Run("root missing", func(t *testing.T) {
		r := runProbe(t, dynamic, []string{"gons_root=/no/such/root", "gons_wd=/"})
		if r.Err == nil || r.Err.Op != "chroot" || r.Err.Path != "/no/such/root" || r.Err.Errno != int(unix.ENOENT) {
			t.Errorf("Err() = %+v, want chroot ENOENT naming the path", r.Err)
		}
	})
}
