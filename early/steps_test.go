//go:build linux

package early_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestRootRelativeWd checks that a relative gons_wd is resolved under
// gons_root, not against the caller's directory, which lies outside the
// root: from a directory that holds "outside", gons_wd=outside must not
// reach it, and gons_wd=sub must reach the root's sub.
func TestRootRelativeWd(t *testing.T) {
	testutil.RequireRoot(t)
	root, caller := t.TempDir(), t.TempDir()
	for _, d := range []string{filepath.Join(root, "sub"), filepath.Join(caller, "outside")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "inroot"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			cmd := probeCmd(probe(t, f), []string{"gons_root=" + root, "gons_wd=sub"}, "-exists", "/inroot")
			cmd.Dir = caller
			r := run(t, cmd)
			if r.Err != nil || r.Cwd != "/sub" || !r.Exists {
				t.Errorf("gons_wd=sub: Err() = %+v, cwd %q, /inroot exists %v; want nil, /sub, true", r.Err, r.Cwd, r.Exists)
			}
			cmd = probeCmd(probe(t, f), []string{"gons_root=" + root, "gons_wd=outside"})
			cmd.Dir = caller
			r = run(t, cmd)
			if r.Err == nil || r.Err.Op != "chdir" || r.Err.Errno != int(unix.ENOENT) || r.Err.Path != "outside" {
				t.Errorf("gons_wd=outside: Err() = %+v, cwd %q; want chdir \"outside\" ENOENT", r.Err, r.Cwd)
			}
		})
	}
}

// TestDropFailsClosedAfterAnyStep checks that where gons_uid or gons_gid
// asks for a privilege drop, a failure of any step before it, parsing
// included, ends the program before it starts (one line on stderr, status
// 125), as a failed drop does; and that gons_errors=status, wherever it
// stands, lets the program run and see the failure, its IDs unchanged.
func TestDropFailsClosedAfterAnyStep(t *testing.T) {
	testutil.RequireRoot(t)
	drop := []string{"gons_uid=65534", "gons_gid=65534"}
	tests := []struct {
		name string
		env  []string
		line string
		op   string
	}{
		{"switch", []string{"gons_net=/nonexistent"}, "gons: open net: errno 2; privileges not dropped\n", "open"},
		{"root", []string{"gons_root=/nonexistent"}, "gons: chroot: errno 2; privileges not dropped\n", "chroot"},
		{"wd", []string{"gons_wd=/nonexistent"}, "gons: chdir: errno 2; privileges not dropped\n", "chdir"},
		{"unknown variable", []string{"gons_nett=/x"}, "gons: parse: bad gons_* variables; privileges not dropped\n", "parse"},
		{"bad ID", []string{"gons_uid=nobody", "gons_gid=65534"}, "gons: parse: bad gons_* variables; privileges not dropped\n", "parse"},
	}
	for _, f := range flavours {
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				env := tt.env
				if tt.name != "bad ID" {
					env = append(slices.Clone(tt.env), drop...)
				}
				cmd := probeCmd(probe(t, f), env)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 125 || stderr.String() != tt.line || stdout.Len() != 0 {
					t.Errorf("got %v, stderr %q, stdout %q; want exit status 125, stderr %q, no output", err, stderr.String(), stdout.String(), tt.line)
				}
				// gons_errors=status before the failure and after it.
				for _, env := range [][]string{append([]string{"gons_errors=status"}, env...), append(slices.Clone(env), "gons_errors=status")} {
					r := runProbe(t, f, env)
					if r.Err == nil || r.Err.Op != tt.op || r.UIDs != [3]int{} || r.GIDs != [3]int{} {
						t.Errorf("%q: Err() = %+v, IDs %v %v; want op %s and root's IDs", env, r.Err, r.UIDs, r.GIDs, tt.op)
					}
				}
			})
		}
	}
}

// execRaw runs bin by execve(2) with env as it is, duplicates included
// (os/exec keeps only the last of each), and files from fd 3 on; it
// returns what the probe reports.
func execRaw(t *testing.T, bin string, env []string, files ...*os.File) *report {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fds := []uintptr{0, w.Fd(), 2}
	for _, f := range files {
		fds = append(fds, f.Fd())
	}
	pid, err := syscall.ForkExec(bin, []string{bin}, &syscall.ProcAttr{Env: env, Files: fds})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	var ws syscall.WaitStatus
	if _, werr := unix.Wait4(pid, (*unix.WaitStatus)(&ws), 0, nil); werr != nil || err != nil || ws.ExitStatus() != 0 {
		t.Fatalf("%s: wait %v, status %v, read %v, output %q", bin, werr, ws, err, out)
	}
	return decode(t, out)
}

// TestTargetFDClosedOnParseFailure checks that every descriptor a
// gons_target_fd names is closed after a parse failure, also where the
// variable is set twice, first empty: the duplicate is the failure.
func TestTargetFDClosedOnParseFailure(t *testing.T) {
	h := startHolder(t)
	pid := strconv.Itoa(h.pid)
	for _, f := range flavours {
		for name, env := range map[string][]string{
			"empty, then 3": {"gons_target=" + pid, "gons_target_fd=", "gons_target_fd=3"},
			"3, then empty": {"gons_target=" + pid, "gons_target_fd=3", "gons_target_fd="},
			"3, then 4":     {"gons_target=" + pid, "gons_target_fd=3", "gons_target_fd=4"},
			"bad, then 3":   {"gons_target=" + pid, "gons_target_fd=x", "gons_target_fd=3"},
		} {
			t.Run(f.name+"/"+name, func(t *testing.T) {
				r := execRaw(t, probe(t, f), env, pidfdFile(t, h.pid), pidfdFile(t, h.pid))
				if r.Err == nil || r.Err.Op != "parse" || len(r.Joined) != 0 {
					t.Errorf("Err() = %+v, Joined() = %v; want a parse error, nothing joined", r.Err, r.Joined)
				}
				for _, fd := range r.FDs {
					if n, _, _ := strings.Cut(fd, "="); n == "3" || (n == "4" && name == "3, then 4") {
						t.Errorf("descriptor %s is still open", fd)
					}
				}
			})
		}
	}
}

// startZombie returns the PID of a process that exited and that its
// parent, which lives until the test ends, does not reap.
func startZombie(t *testing.T) int {
	t.Helper()
	parent := exec.Command("sh", "-c", "true & exec sleep infinity")
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { parent.Process.Kill(); parent.Wait() })
	for range 500 {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(parent.Process.Pid) + "/task/" + strconv.Itoa(parent.Process.Pid) + "/children")
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if _, rest, _ := strings.Cut(string(stat), ") "); strings.HasPrefix(rest, "Z") {
				return pid
			}
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 10e6}, nil)
	}
	t.Fatal("no zombie")
	return 0
}

// TestTargetZombie checks that a process that exited but is not reaped,
// which has no namespaces left, is refused as gone (ESRCH), never joined
// as "nothing differs"; with gons_target_ns naming types, by pidfd, and
// on the way of older kernels.
func TestTargetZombie(t *testing.T) {
	testutil.RequireRoot(t)
	zombie := strconv.Itoa(startZombie(t))
	for _, f := range []flavour{dynamic, staticMusl, fallback} {
		for _, env := range [][]string{{"gons_target=" + zombie}, {"gons_target=" + zombie, "gons_target_ns=net,uts"}} {
			t.Run(f.name+"/"+strings.Join(env, ","), func(t *testing.T) {
				r := runProbe(t, f, env)
				want := "gons: target: process " + zombie + ": no such process"
				if r.Err == nil || r.Err.Op != "target" || r.Err.Errno != int(unix.ESRCH) || r.Err.Msg != want || len(r.Joined) != 0 {
					t.Errorf("Err() = %+v, Joined() = %v; want %q, nothing joined", r.Err, r.Joined, want)
				}
				checkClean(t, r)
			})
		}
	}
}

// TestTargetKernelThread checks gons_target on kthreadd (PID 2), a
// kernel thread: like a zombie, it has no memory and no process of its
// own to join, and is refused as gone (ESRCH), as nsthread refuses it,
// although /proc/2/ns shows the initial namespaces.
func TestTargetKernelThread(t *testing.T) {
	testutil.RequireRoot(t)
	comm, err := os.ReadFile("/proc/2/comm")
	if err != nil || string(comm) != "kthreadd\n" {
		testutil.Unavailable(t, "PID 2 is not kthreadd here (%q, %v): not the initial PID namespace", comm, err)
	}
	for _, f := range []flavour{dynamic, fallback} {
		t.Run(f.name, func(t *testing.T) {
			r := runProbe(t, f, []string{"gons_target=2"})
			want := "gons: target: process 2: no such process"
			if r.Err == nil || r.Err.Op != "target" || r.Err.Errno != int(unix.ESRCH) || r.Err.Msg != want || len(r.Joined) != 0 {
				t.Errorf("Err() = %+v, Joined() = %v; want %q, nothing joined", r.Err, r.Joined, want)
			}
			checkClean(t, r)
		})
	}
}
