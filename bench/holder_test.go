package bench

import (
	"os"
	"strconv"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
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
	pid int
}

// ns returns the path of the holder's namespace file of type t.
func (h *holder) ns(t string) string {
	return "/proc/" + strconv.Itoa(h.pid) + "/ns/" + t
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
		theirs, err := os.Readlink(h.ns(t))
		if err != nil || ours == theirs {
			b.Fatalf("holder: no fresh %s namespace (%s, ours %s, %v)", t, theirs, ours, err)
		}
	}
	return h
}
