//go:build linux

package early_test

import (
	"bytes"
	"errors"
	"os/exec"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestSetgroupsDenied checks that gons_uid and gons_gid work in a user
// namespace whose setgroups file says "deny", which the process is in
// already (unshare --map-root-user writes "deny"), as root and as an
// unprivileged user: the supplementary groups stay, as nobody can drop
// them there.
func TestSetgroupsDenied(t *testing.T) {
	testutil.RequireRoot(t)
	unshare := testutil.RequireTool(t, "unshare")
	for _, f := range flavours {
		for _, who := range []string{"root", "nobody"} {
			t.Run(f.name+"/"+who, func(t *testing.T) {
				cmd := probeCmd(unshare, []string{"gons_uid=0", "gons_gid=0"}, "--user", "--map-root-user", probe(t, f))
				if who == "nobody" {
					nobody(cmd)
				}
				r := run(t, cmd)
				if r.Err != nil || r.UIDs != [3]int{} || r.GIDs != [3]int{} {
					t.Errorf("Err() = %+v, getresuid() = %v, getresgid() = %v; want nil and 0s", r.Err, r.UIDs, r.GIDs)
				}
			})
		}
	}
}

// TestDropFailsClosed checks that a privilege drop that fails ends the
// program before it starts, with one line on stderr and status 125, and
// that with gons_errors=status the program runs and status reports it.
func TestDropFailsClosed(t *testing.T) {
	testutil.RequireRoot(t)
	user := startUserHolder(t)
	inUser := "gons_target=" + strconv.Itoa(user)
	tests := []struct {
		name  string
		env   []string
		line  string
		op    string
		errno unix.Errno
	}{
		// nobody may not drop its groups: no CAP_SETGID.
		{"setgroups", []string{"gons_uid=0"}, "gons: setgroups: EPERM\n", "setgroups", unix.EPERM},
		{"setgid", []string{inUser, "gons_gid=70000"}, "gons: setgid 70000: EINVAL\n", "setgid", unix.EINVAL},
		{"setuid", []string{inUser, "gons_uid=70000"}, "gons: setuid 70000: EINVAL\n", "setuid", unix.EINVAL},
	}
	for _, f := range flavours {
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				cmd := probeCmd(probe(t, f), tt.env)
				if tt.name == "setgroups" {
					nobody(cmd)
				}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 125 || stderr.String() != tt.line || stdout.Len() != 0 {
					t.Errorf("got %v, stderr %q, stdout %q; want exit status 125, stderr %q, no output", err, stderr.String(), stdout.String(), tt.line)
				}

				cmd = probeCmd(probe(t, f), append(tt.env, "gons_errors=status"))
				if tt.name == "setgroups" {
					nobody(cmd)
				}
				r := run(t, cmd)
				if r.Err == nil || r.Err.Op != tt.op || r.Err.Errno != int(tt.errno) {
					t.Errorf("with gons_errors=status: Err() = %+v, want %s %v", r.Err, tt.op, tt.errno)
				}
				checkClean(t, r)
			})
		}
	}
	t.Run("bad value", func(t *testing.T) {
		r := runProbe(t, dynamic, []string{"gons_errors=exit"})
		if r.Err == nil || r.Err.Op != "parse" || r.Err.Msg != `gons: parse: gons_errors: "exit" is not "status"` {
			t.Errorf("Err() = %+v, want a parse error naming gons_errors", r.Err)
		}
	})
}
