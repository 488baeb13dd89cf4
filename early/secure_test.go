//go:build linux

package early_test

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// setuidCopy copies the probe built as f to a directory everybody can
// read, owned by root with the setuid bit set.
func setuidCopy(t *testing.T, f flavour) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.Open(probe(t, f))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(dir, "probe")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(path, os.ModeSetuid|0o755) // after writing, which clears the bit
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
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
