package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// settled is what an action sees of its root, directory and credentials.
type settled struct {
	Wd       string
	InRoot   bool // /inroot exists: the root is the test's directory
	UID, GID int
	Groups   []int
}

func init() {
	// settled-plain prints what settledFunc returns, for Command.
	reexec.Register("settled-plain", func() {
		s, err := observeSettled(struct{}{})
		fmt.Printf("%+v %v\n", s, err)
	})
}

func observeSettled(struct{}) (settled, error) {
	var s settled
	var err error
	if s.Wd, err = os.Getwd(); err != nil {
		return s, err
	}
	_, err = os.Stat("/inroot")
	s.InRoot = err == nil
	s.UID, s.GID = unix.Getuid(), unix.Getgid()
	s.Groups, err = unix.Getgroups()
	return s, err
}

var settledFunc = reexec.RegisterFunc("settled", observeSettled)

// TestRootDirCredential runs actions with Root, Dir and Credential and
// checks what the child sees.
func TestRootDirCredential(t *testing.T) {
	requireSwitching(t)
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "inroot"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Without Credential the child keeps the caller's supplementary groups:
	// none for root in a container, root's under sudo, which sets them.
	own, err := unix.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	own = append([]int{}, own...)
	for _, tt := range []struct {
		name string
		opts []reexec.Option
		want settled
	}{
		{"Dir", []reexec.Option{reexec.Dir(root)}, settled{Wd: root, Groups: own}},
		{"Root", []reexec.Option{reexec.Root(root)}, settled{Wd: "/", InRoot: true, Groups: own}},
		{"Root and Dir", []reexec.Option{reexec.Root(root), reexec.Dir("/sub")}, settled{Wd: "/sub", InRoot: true, Groups: own}},
		{"Credential", []reexec.Option{reexec.Credential(65534, 65533)}, settled{Wd: "/", UID: 65534, GID: 65533, Groups: []int{}}},
		{"gid only", []reexec.Option{reexec.Credential(-1, 65533)}, settled{Wd: "/", GID: 65533, Groups: []int{}}},
		{"all", []reexec.Option{reexec.Root(root), reexec.Dir("/sub"), reexec.Credential(65534, 65534)}, settled{Wd: "/sub", InRoot: true, UID: 65534, GID: 65534, Groups: []int{}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]reexec.Option{reexec.Dir("/")}, tt.opts...)
			got, err := settledFunc.Run(context.Background(), struct{}{}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got.Groups == nil {
				got.Groups = []int{}
			}
			if got.Wd != tt.want.Wd || got.InRoot != tt.want.InRoot || got.UID != tt.want.UID || got.GID != tt.want.GID || !slices.Equal(got.Groups, tt.want.Groups) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("Command", func(t *testing.T) {
		out, err := reexec.Command(context.Background(), "settled-plain", nil,
			reexec.Root(root), reexec.Dir("/sub"), reexec.Credential(65534, 65534)).Output()
		want := fmt.Sprintf("%+v <nil>\n", settled{Wd: "/sub", InRoot: true, UID: 65534, GID: 65534, Groups: []int{}})
		if err != nil || string(out) != want {
			t.Fatalf("got %q, %v; want %q", out, err, want)
		}
	})
}

// TestCredentialFails asks for an ID that the user namespace joined does
// not map: the run fails with the child's typed error, and the action
// never runs.
func TestCredentialFails(t *testing.T) {
	requireSwitching(t)
	pid := holder(t, "true")
	_, err := settledFunc.Run(context.Background(), struct{}{}, reexec.Credential(1000, 1000),
		reexec.Namespaces([]reexec.Namespace{{Type: "user", Path: fmt.Sprintf("/proc/%d/ns/user", pid)}}))
	var e *reexec.Error
	var se *status.Error
	if !errors.As(err, &e) || e.Op != "switch" || !errors.As(err, &se) || (se.Op != "setgid" && se.Op != "setgroups") || !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
		t.Fatalf("got %v, want a switch error wrapping the child's setgroups or setgid failure", err)
	}
}

func TestSettleOptionsRefused(t *testing.T) {
	opts := map[string]reexec.Option{
		"empty Root": reexec.Root(""),
		"empty Dir":  reexec.Dir(""),
	}
	if strconv.IntSize == 64 { // a 32-bit int holds no ID above the kernel's
		big := int64(1) << 32
		opts["big ID"] = reexec.Credential(int(big), 0)
	}
	for name, opt := range opts {
		t.Run(name, func(t *testing.T) {
			_, err := settledFunc.Run(context.Background(), struct{}{}, opt)
			var e *reexec.Error
			if !errors.As(err, &e) || e.Op != "option" {
				t.Fatalf("got %v, want an option error", err)
			}
		})
	}
}

var procEnviron = reexec.RegisterFunc("procenviron", func(struct{}) (string, error) {
	b, err := os.ReadFile("/proc/self/environ")
	return string(b), err
})

// TestChildEnvironWiped checks that no value of a variable reexec passes
// is readable in the child's /proc/PID/environ (the names stay, with
// their values overwritten).
func TestChildEnvironWiped(t *testing.T) {
	requireSwitching(t)
	env, err := procEnviron.Run(context.Background(), struct{}{}, reexec.Dir("/"), reexec.Credential(0, 0),
		reexec.Namespaces([]reexec.Namespace{{Type: "net", Path: "/proc/self/ns/net"}}))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"gons_order=net", "/proc/self/ns/net", "gons_wd=/", "gons_uid=0", "gons_gid=0", "GONS_REEXEC_FD=3"} {
		if strings.Contains(env, v) {
			t.Errorf("/proc/self/environ of the child shows %q: %q", v, env)
		}
	}
}
