package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"golang.org/x/sys/unix"
)

// nsTypes are the eight namespace types, in the order of the gons_*
// variables' names.
var nsTypes = []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}

// defaultOrder is the order in which early switches when gons_order is not
// set; the floor program switches in the same order.
var defaultOrder = []string{"user", "mnt", "cgroup", "ipc", "net", "uts", "time", "pid"}

// holder is a process that keeps fresh namespaces alive for the switches to
// join (see testutil.Holder).
type holder struct {
	pid   int
	bound map[string]string // bind mounts of its namespace files, by type
}

// ns returns the path of the holder's namespace file of type t: its bind
// mount when bind made one, /proc/PID/ns/t otherwise.
func (h *holder) ns(t string) string {
	if p, ok := h.bound[t]; ok {
		return p
	}
	return h.procNS(t)
}

// procNS returns /proc/PID/ns/t of the holder, whose link names the
// namespace.
func (h *holder) procNS(t string) string {
	return "/proc/" + strconv.Itoa(h.pid) + "/ns/" + t
}

// bind bind-mounts the holder's namespace files of types on files of a
// directory of the benchmark's, as ip-netns(8) does under /run/netns, and
// has ns return those paths from then on. The mounts go with b.
func (h *holder) bind(b *testing.B, types []string) {
	b.Helper()
	dir := b.TempDir()
	h.bound = map[string]string{}
	for _, t := range types {
		p := filepath.Join(dir, t)
		if err := os.WriteFile(p, nil, 0o444); err != nil {
			b.Fatal(err)
		}
		if err := unix.Mount(h.procNS(t), p, "", unix.MS_BIND, ""); err != nil {
			b.Fatalf("bind mount of %s on %s: %v", h.procNS(t), p, err)
		}
		b.Cleanup(func() { unix.Unmount(p, unix.MNT_DETACH) })
		h.bound[t] = p
	}
}

// holderFlags are unshare's flags for the holders: without a user namespace
// they have seven fresh namespaces and stay in the initial user namespace,
// so joining any one of them as root needs no user namespace; with one, the
// user namespace owns the other seven.
var holderFlags = []string{"--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--time", "--monotonic", "3600"}

// newHolder starts a holder, with a user namespace or without, that ends
// with the benchmark b. It needs root; without, the benchmark is skipped
// outside CI and fails in CI.
func newHolder(b *testing.B, user bool) *holder {
	b.Helper()
	testutil.RequireRoot(b)
	flags := holderFlags
	if user {
		flags = append([]string{"--user", "--map-root-user"}, flags...)
	}
	h := &holder{pid: testutil.Holder(b, flags, "")}
	for _, t := range nsTypes {
		if t == "user" && !user {
			continue
		}
		ours, _ := os.Readlink("/proc/self/ns/" + t)
		theirs, err := os.Readlink(h.procNS(t))
		if err != nil || ours == theirs {
			b.Fatalf("holder: no fresh %s namespace (%s, ours %s, %v)", t, theirs, ours, err)
		}
	}
	return h
}
