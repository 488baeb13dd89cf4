//go:build linux

package early_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/fs"
)

// setuidCopy copies the probe built as f to a directory everybody can
// read, owned by root with the setuid bit set.
func setuidCopy(t *testing.T, f flavour) string {
	t.Helper()
	b, err := os.ReadFile(probe(t, f))
	assert.NilError(t, err)
	// The mode after the content: writing clears the setuid bit.
	dir := fs.NewDir(t, "gons-setuid", fs.WithMode(0o755),
		fs.WithFile("probe", "", fs.WithBytes(b), fs.WithMode(os.ModeSetuid|0o755)))
	return dir.Join("probe")
}

// TestSecure checks that a setuid-root program run by an unprivileged user
// ignores the caller's gons_* variables and GONS_REEXEC_FD, says so, and
// hides them.
func TestSecure(t *testing.T) {
	h := startHolder(t)
	self := selfNS(t)
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			cmd := nobody(probeCmd(setuidCopy(t, f), append(h.env("net", "mnt", "user"), "GONS_REEXEC_FD=0")))
			want := probeError{Op: "secure", Errno: int(unix.EPERM), Msg: "AT_SECURE"}
			r := run(t, cmd)
			checkFailed(t, r, want, nil, h, self)
			// Else a caller could have a privileged program run an action of its choosing.
			if r.ReexecFD != -1 {
				t.Errorf("GONS_REEXEC_FD handed over as %d", r.ReexecFD)
			}
		})
	}
}

// TestNotRun checks that a program whose constructor cannot run says so.
func TestNotRun(t *testing.T) {
	for _, tt := range []struct {
		f   flavour
		why string
	}{
		{internal, "-linkmode=internal"},
		{noCgo, "CGO_ENABLED=0"},
	} {
		t.Run(tt.f.name, func(t *testing.T) {
			r := runProbe(t, tt.f, nil)
			if r.Ran || r.Err != nil {
				t.Errorf("without gons_*: Ran() = %v, Err() = %+v; want false, nil", r.Ran, r.Err)
			}
			r = runProbe(t, tt.f, []string{"gons_net=/proc/1/ns/net"})
			if r.Ran || r.Err == nil || r.Err.Op != "start" || !strings.Contains(r.Err.Msg, tt.why) ||
				!strings.Contains(r.Err.Msg, "gons_net") {
				t.Errorf("with gons_net: Ran() = %v, Err() = %+v; want false and an error naming gons_net and %s",
					r.Ran, r.Err, tt.why)
			}
			if !slices.Equal(r.Env, []string{"gons_net=/proc/1/ns/net"}) {
				t.Errorf("environment %v: without the constructor, the variable stays", r.Env)
			}
		})
	}
}
