//go:build linux

package early_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// env returns gons_<type>=<holder's path> for each type.
func (h *holder) env(types ...string) []string {
	var env []string
	for _, typ := range types {
		env = append(env, "gons_"+typ+"="+h.path(typ))
	}
	return env
}

// checkJoined checks that the probe is in the holder's namespaces of the
// given types and in the test's own namespaces of all other types, and
// that nothing of gons is left in it.
func checkJoined(t *testing.T, r *report, h *holder, self map[string]string, types ...string) {
	t.Helper()
	if !r.Ran || r.Err != nil {
		t.Fatalf("Ran() = %v, Err() = %+v", r.Ran, r.Err)
	}
	want := map[string]string{}
	for _, typ := range allTypes {
		want[typ] = self[typ]
		if slices.Contains(types, typ) {
			want[typ] = h.ns[typ]
		}
	}
	got := map[string]string{}
	for _, typ := range allTypes {
		got[typ] = r.NS[typ]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
	if joined := slices.Sorted(slices.Values(r.Joined)); !slices.Equal(joined, slices.Sorted(slices.Values(types))) {
		t.Errorf("Joined() = %v, want %v in some order", r.Joined, types)
	}
	in := func(typ string) bool { return slices.Contains(types, typ) }
	if r.Exists != in("mnt") {
		t.Errorf("holder's marker file visible = %v, want %v", r.Exists, in("mnt"))
	}
	if (r.Hostname == holderHostname) != in("uts") {
		t.Errorf("hostname = %q with uts joined = %v", r.Hostname, in("uts"))
	}
	ahead := r.Monotonic-monotonic(t) > h.offset/2
	if ahead != in("time") {
		t.Errorf("monotonic clock %d s ahead of the test's, with time joined = %v", r.Monotonic-monotonic(t), in("time"))
	}
	if (r.Dumpable == 0) != in("user") {
		t.Errorf("dumpable = %d with user joined = %v", r.Dumpable, in("user"))
	}
	checkClean(t, r)
}

// checkClean checks that the probe has no fd open but 0, 1, 2 and sees no
// gons_* variable.
func checkClean(t *testing.T, r *report) {
	t.Helper()
	if len(r.FDs) != 0 {
		t.Errorf("fds left open: %v", r.FDs)
	}
	if len(r.Env) != 0 {
		t.Errorf("gons_* variables visible to the program: %v", r.Env)
	}
	checkWiped(t, "/proc/self/environ", r.ProcEnv)
}

// checkWiped checks that the entries of an environ file show no value of a
// gons_* variable or of GONS_REEXEC_FD: at most its name and "=".
func checkWiped(t *testing.T, file string, entries []string) {
	t.Helper()
	for _, kv := range entries {
		name, value, _ := strings.Cut(kv, "=")
		if (strings.HasPrefix(name, "gons_") || name == "GONS_REEXEC_FD") && value != "" {
			t.Errorf("%s shows %q", file, kv)
		}
	}
}

var defaultOrder = []string{"user", "mnt", "cgroup", "ipc", "net", "uts", "time", "pid"}

func TestSwitch(t *testing.T) {
	h := startHolder(t)
	self := selfNS(t)
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			for _, typ := range allTypes {
				t.Run(typ, func(t *testing.T) {
					r := runProbe(t, f, h.env(typ), "-exists", h.marker)
					checkJoined(t, r, h, self, typ)
				})
			}
			t.Run("all/default-order", func(t *testing.T) {
				r := runProbe(t, f, h.env(allTypes...), "-exists", h.marker)
				checkJoined(t, r, h, self, allTypes...)
				if !slices.Equal(r.Joined, defaultOrder) {
					t.Errorf("Joined() = %v, want the default order %v", r.Joined, defaultOrder)
				}
			})
			t.Run("all/explicit-order", func(t *testing.T) {
				order := []string{"user", "net", "uts", "ipc", "cgroup", "time", "mnt", "pid"}
				env := append(h.env(allTypes...), "gons_order= "+strings.Join(order, " , ")+" ")
				r := runProbe(t, f, env, "-exists", h.marker)
				checkJoined(t, r, h, self, allTypes...)
				if !slices.Equal(r.Joined, order) {
					t.Errorf("Joined() = %v, want %v", r.Joined, order)
				}
			})
		})
	}
}
