//go:build linux

package early_test

import (
	"errors"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestNotNsfsNotOpened checks that a gons_<type> path that is not a
// namespace file is refused without being opened: opening a device node
// can have effects of its own. inotify sees every open of the files.
func TestNotNsfsNotOpened(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	fifo, dev := filepath.Join(dir, "fifo"), filepath.Join(dir, "null")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(dev, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	in, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, dir, unix.IN_OPEN|unix.IN_ACCESS); err != nil {
		t.Fatal(err)
	}
	for _, f := range flavours {
		for _, path := range []string{fifo, dev} {
			r := runProbe(t, f, []string{"gons_net=" + path})
			if r.Err == nil || r.Err.Op != "check" || r.Err.Errno != int(unix.ENOTTY) || r.Err.Path != path {
				t.Errorf("%s: %s: Err() = %+v, want check ENOTTY naming the path", f.name, path, r.Err)
			}
		}
	}
	buf := make([]byte, 4096)
	n, err := unix.Read(in, buf)
	if !errors.Is(err, unix.EAGAIN) {
		t.Errorf("inotify: read %d bytes (%v): the probe opened a file it should only have looked at", n, err)
	}
}
