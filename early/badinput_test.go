//go:build linux

package early_test

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/fs"
)

// bindNS bind-mounts the holder's namespace file of type typ onto a file
// in a fresh directory of the test's mount namespace and returns its path.
// Holders made before it do not see the mount.
func bindNS(t *testing.T, h *holder, typ string) string {
	t.Helper()
	file := fs.NewDir(t, "gons-bind", fs.WithMode(0o755), fs.WithFile(typ, "")).Join(typ)
	if err := unix.Mount(h.path(typ), file, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mounting %s: %v", h.path(typ), err)
	}
	t.Cleanup(func() { unix.Unmount(file, unix.MNT_DETACH) })
	return file
}

// deadPid returns the PID of a process that has exited and been reaped.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// nobody runs cmd as user and group nobody.
func nobody(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return cmd
}

// checkFailed checks that the probe reports the failure want (Msg: a part
// of the message), has joined the holder's namespaces of the types joined
// and no others, and has no fd open.
func checkFailed(t *testing.T, r *report, want probeError, joined []string, h *holder, self map[string]string) {
	t.Helper()
	if r.Err == nil {
		t.Fatalf("Err() = nil, want %+v", want)
	}
	got := *r.Err
	if !strings.Contains(got.Msg, want.Msg) {
		t.Errorf("Err() = %q, want it to contain %q", got.Msg, want.Msg)
	}
	got.Msg, want.Msg = "", ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Err() %q (-want +got):\n%s", r.Err.Msg, diff)
	}
	if !slices.Equal(r.Joined, joined) {
		t.Errorf("Joined() = %v, want %v", r.Joined, joined)
	}
	for _, typ := range allTypes {
		want := self[typ]
		if slices.Contains(joined, typ) {
			want = h.ns[typ]
		}
		if r.NS[typ] != want {
			t.Errorf("%s namespace %s, want %s", typ, r.NS[typ], want)
		}
	}
	checkClean(t, r)
}

// TestBadInput checks that every malformed or unusable input gives a clear
// error, switches nothing (or, past the first switch, nothing more), and
// leaves no fd open.
func TestBadInput(t *testing.T) {
	h := startHolder(t)
	self := selfNS(t)
	files := fs.NewDir(t, "gons-bad", fs.WithFile("regular", "net"))
	regular, fifo := files.Join("regular"), files.Join("fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	long := "/" + strings.Repeat("x", 5000)
	dead := "/proc/" + strconv.Itoa(deadPid(t)) + "/ns/net"
	netFile := bindNS(t, h, "net")

	tests := []struct {
		name   string
		env    []string
		nobody bool
		want   probeError // Msg: a part of the message
		joined []string
	}{{
		name: "unknown type in order",
		env:  []string{"gons_net=" + h.path("net"), "gons_order=net,foo"},
		want: probeError{Op: "parse", Msg: `gons_order: unknown namespace type "foo"`},
	}, {
		name: "duplicate type",
		env:  []string{"gons_net=" + h.path("net"), "gons_order=net,!net"},
		want: probeError{Op: "parse", Type: "net", Msg: "gons_order: net listed more than once"},
	}, {
		name: "empty item",
		env:  []string{"gons_net=" + h.path("net"), "gons_order=net, ,uts"},
		want: probeError{Op: "parse", Msg: "gons_order: item 2 is empty"},
	}, {
		name: "trailing comma",
		env:  []string{"gons_net=" + h.path("net"), "gons_order=net,"},
		want: probeError{Op: "parse", Msg: "gons_order: item 2 is empty"},
	}, {
		name: "bang alone",
		env:  []string{"gons_net=" + h.path("net"), "gons_order=net,!"},
		want: probeError{Op: "parse", Msg: `gons_order: item 2 is "!" without a type`},
	}, {
		name: "variable left out of the order",
		env:  []string{"gons_net=" + h.path("net"), "gons_uts=" + h.path("uts"), "gons_order=net"},
		want: probeError{Op: "parse", Type: "uts", Msg: "gons_uts is set but gons_order leaves uts out"},
	}, {
		name: "unknown variable",
		env:  []string{"gons_net=" + h.path("net"), "gons_nett=" + h.path("net")},
		want: probeError{Op: "parse", Msg: `unknown variable "gons_nett"`},
	}, {
		name: "uppercase type",
		env:  []string{"gons_NET=" + h.path("net")},
		want: probeError{Op: "parse", Msg: `unknown variable "gons_NET"`},
	}, {
		name: "relative path that does not exist",
		env:  []string{"gons_net=no/such/ns"},
		want: probeError{Op: "open", Type: "net", Path: "no/such/ns", Errno: int(unix.ENOENT)},
	}, {
		name: "absolute path that does not exist",
		env:  []string{"gons_net=/no/such/ns"},
		want: probeError{Op: "open", Type: "net", Path: "/no/such/ns", Errno: int(unix.ENOENT)},
	}, {
		name: "path longer than PATH_MAX",
		env:  []string{"gons_net=" + long},
		want: probeError{Op: "parse", Type: "net", Path: long[:4092] + "...", Errno: int(unix.ENAMETOOLONG),
			Msg: "gons_net is longer than PATH_MAX"},
	}, {
		name: "directory",
		env:  []string{"gons_net=/proc/self/ns"},
		want: probeError{Op: "check", Type: "net", Path: "/proc/self/ns", Errno: int(unix.ENOTTY), Msg: "not a namespace file"},
	}, {
		name: "regular file",
		env:  []string{"gons_net=" + regular},
		want: probeError{Op: "check", Type: "net", Path: regular, Errno: int(unix.ENOTTY), Msg: "not a namespace file"},
	}, {
		name: "fifo",
		env:  []string{"gons_net=" + fifo},
		want: probeError{Op: "check", Type: "net", Path: fifo, Errno: int(unix.ENOTTY), Msg: "not a namespace file"},
	}, {
		name: "namespace of the wrong type",
		env:  []string{"gons_net=" + h.path("uts")},
		want: probeError{Op: "check", Type: "net", Path: h.path("uts"), Errno: int(unix.EINVAL),
			Msg: "a uts namespace, not net"},
	}, {
		name: "wrong type found before the first switch",
		env:  []string{"gons_user=" + h.path("user"), "gons_net=" + h.path("uts")},
		want: probeError{Op: "check", Type: "net", Path: h.path("uts"), Errno: int(unix.EINVAL)},
	}, {
		name: "dead process",
		env:  []string{"gons_net=" + dead},
		want: probeError{Op: "open", Type: "net", Path: dead, Errno: int(unix.ENOENT)},
	}, {
		name: "order of 100,000 characters, one item",
		env:  []string{"gons_net=" + h.path("net"), "gons_order=" + strings.Repeat("n", 100000)},
		want: probeError{Op: "parse", Msg: `gons_order: unknown namespace type "nnnn`},
	}, {
		name: "order of 100,000 characters, many items",
		env:  []string{"gons_net=" + h.path("net"), "gons_order=" + strings.Repeat("net,", 25000)},
		want: probeError{Op: "parse", Type: "net", Msg: "net listed more than once"},
	}, {
		name: "non-UTF-8 order",
		env:  []string{"gons_net=" + h.path("net"), "gons_order=n\xffet"},
		want: probeError{Op: "parse", Msg: `gons_order: unknown namespace type "n\xffet"`},
	}, {
		name: "non-UTF-8 path",
		env:  []string{"gons_net=/no/such/\xff"},
		want: probeError{Op: "open", Type: "net", Path: "/no/such/\xff", Errno: int(unix.ENOENT),
			Msg: `"/no/such/\xff"`},
	}, {
		name:   "no permission to open",
		env:    []string{"gons_net=" + h.path("net")},
		nobody: true,
		want:   probeError{Op: "open", Type: "net", Path: h.path("net"), Errno: int(unix.EACCES)},
	}, {
		name:   "no permission to join",
		env:    []string{"gons_net=" + netFile},
		nobody: true,
		want:   probeError{Op: "setns", Type: "net", Path: netFile, Errno: int(unix.EPERM)},
	}, {
		name:   "failure after the first switch",
		env:    []string{"gons_uts=" + h.path("uts"), "gons_net=/no/such/ns", "gons_order=uts,net"},
		want:   probeError{Op: "open", Type: "net", Path: "/no/such/ns", Errno: int(unix.ENOENT)},
		joined: []string{"uts"},
	}, {
		name:   "path visible only before the mnt switch, opened after it",
		env:    []string{"gons_mnt=" + h.path("mnt"), "gons_net=" + netFile, "gons_order=mnt,net"},
		want:   probeError{Op: "check", Type: "net", Path: netFile, Errno: int(unix.ENOTTY)},
		joined: []string{"mnt"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := probeCmd(probe(t, dynamic), tt.env)
			if tt.nobody {
				nobody(cmd)
			}
			r := run(t, cmd)
			checkFailed(t, r, tt.want, tt.joined, h, self)
			if q := strconv.Quote(tt.want.Path); tt.want.Path != "" && !strings.Contains(r.Err.Msg, q[:min(len(q), 40)]) {
				t.Errorf("Err() = %q does not name the path", r.Err.Msg)
			}
		})
	}
}

// TestBang checks that "!" opens a path before the first switch: the
// holder's net namespace, bind-mounted where only the test's mount
// namespace sees it, is reachable with !net and not without (see the
// TestBadInput case above).
func TestBang(t *testing.T) {
	h := startHolder(t)
	self := selfNS(t)
	netFile := bindNS(t, h, "net")
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			r := runProbe(t, f, []string{"gons_mnt=" + h.path("mnt"), "gons_net=" + netFile, "gons_order=mnt,!net"},
				"-exists", h.marker)
			checkJoined(t, r, h, self, "mnt", "net")
			if want := []string{"mnt", "net"}; !slices.Equal(r.Joined, want) {
				t.Errorf("Joined() = %v, want %v", r.Joined, want)
			}
		})
	}
}

// TestAlreadyMember checks that joining a namespace the process is in is
// no error: user and mnt are skipped (joining one's own user namespace
// fails, one's own mount namespace resets the working directory, which
// must be kept), other types are joined again.
func TestAlreadyMember(t *testing.T) {
	h := startHolder(t)
	env := []string{"gons_user=/proc/self/ns/user", "gons_mnt=/proc/self/ns/mnt", "gons_net=" + h.path("net"),
		"gons_uts=/proc/self/ns/uts", "gons_pid=/proc/self/ns/pid"}
	for _, f := range []flavour{dynamic, fallback} {
		t.Run(f.name, func(t *testing.T) {
			cmd := probeCmd(probe(t, f), env)
			cmd.Dir = t.TempDir()
			r := run(t, cmd)
			if r.Err != nil {
				t.Fatalf("Err() = %+v", r.Err)
			}
			// user, mnt and pid are skipped; uts is joined again, which
			// changes nothing.
			if want := []string{"net", "uts"}; !slices.Equal(r.Joined, want) {
				t.Errorf("Joined() = %v, want %v", r.Joined, want)
			}
			self := selfNS(t)
			for _, typ := range []string{"user", "mnt", "uts", "pid"} {
				if r.NS[typ] != self[typ] {
					t.Errorf("%s namespace %s, want the test's %s", typ, r.NS[typ], self[typ])
				}
			}
			if r.Cwd != cmd.Dir {
				t.Errorf("working directory %q, want %q", r.Cwd, cmd.Dir)
			}
		})
	}
}
