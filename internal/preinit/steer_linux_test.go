package preinit_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/icmd"

	"github.com/gonsproject/gons/internal/testutil"
)

// view and steered are what testdata/steer prints.
type view struct {
	Hostname string
	Ran      bool
	Joined   []string
	Err      string
	Gons     []string
}

type steered struct {
	Self, Plain, Switched view
	PlainErr, SwitchedErr string
}

// buildSteer builds testdata/steer with tags.
func buildSteer(t *testing.T, tags string) string {
	t.Helper()
	testutil.RequireCgo(t)
	bin := filepath.Join(t.TempDir(), "steer")
	build := icmd.Command(testutil.GoTool(t), "build", "-buildvcs=false", "-tags", tags, "-o", bin, "./testdata/steer")
	build.Env = append(os.Environ(), "CGO_ENABLED=1") // the constructor needs cgo, whatever the test binary was built with
	icmd.RunCmd(build).Assert(t, icmd.Success)
	return bin
}

// cleanEnv is the test's environment without gons_* variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "gons_") && !strings.HasPrefix(kv, "GONS_") {
			env = append(env, kv)
		}
	}
	return env
}

func runSteer(t *testing.T, bin string, env ...string) steered {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	assert.NilError(t, err, "%s with %q", bin, env)
	var s steered
	assert.NilError(t, json.Unmarshal(out, &s), "%s", out)
	return s
}

// TestReexecAloneIsNotSteered: a program that links the constructor
// through reexec alone ignores the gons_* variables of its own
// environment, leaves them there, and passes none of them on, while the
// children it starts with namespaces still switch; over both start paths.
// A program that imports early is steered.
func TestReexecAloneIsNotSteered(t *testing.T) {
	testutil.RequireRoot(t)
	host, err := os.Hostname()
	assert.NilError(t, err)
	holder := testutil.Holder(t, []string{"--uts"}, "hostname gons-steer")
	uts := "/proc/" + strconv.Itoa(holder) + "/ns/uts"
	for _, path := range []struct{ name, tags string }{{"exec", "none"}, {"forkserver", "forkserver"}} {
		t.Run(path.name, func(t *testing.T) {
			bin := buildSteer(t, path.tags)
			s := runSteer(t, bin, "gons_uts="+uts, "STEER_UTS="+uts)
			assert.Check(t, is.Equal(s.Self.Hostname, host), "the program was switched")
			assert.Check(t, is.DeepEqual(s.Self.Gons, []string{"gons_uts=" + uts}), "the program's own variable is left alone")
			assert.Check(t, !s.Self.Ran)
			assert.Check(t, is.Contains(s.Self.Err, "package early is not linked"))
			// A plain child neither switches nor sees the program's variable.
			assert.Check(t, is.Equal(s.PlainErr, ""))
			assert.Check(t, is.DeepEqual(s.Plain, view{Hostname: host, Ran: true}))
			// A child told to switch does.
			assert.Check(t, is.Equal(s.SwitchedErr, ""))
			assert.Check(t, is.DeepEqual(s.Switched, view{Hostname: "gons-steer", Ran: true, Joined: []string{"uts"}}))

			// A bad path in the program's environment fails nothing.
			s = runSteer(t, bin, "gons_mnt=/nonexistent")
			assert.Check(t, is.Equal(s.Self.Hostname, host))
			assert.Check(t, is.DeepEqual(s.Plain, view{Hostname: host, Ran: true}))

			// GONS_REEXEC_FD on a descriptor that is no socket does not
			// make the program a child to steer; reexec refuses it.
			cmd := exec.Command(bin)
			cmd.Env = append(cleanEnv(), "gons_uts="+uts, "GONS_REEXEC_FD=2", "STEER_INIT=1")
			out, err := cmd.CombinedOutput()
			assert.Check(t, is.ErrorContains(err, "exit status 2"))
			assert.Check(t, is.Contains(string(out), "init hostname "+host+"\n"))
			assert.Check(t, is.Contains(string(out), "is not the protocol socket"))
		})
	}
	t.Run("early", func(t *testing.T) {
		bin := buildSteer(t, "early")
		s := runSteer(t, bin, "gons_uts="+uts)
		assert.Check(t, is.DeepEqual(s.Self, view{Hostname: "gons-steer", Ran: true, Joined: []string{"uts"}}))
		assert.Check(t, is.DeepEqual(s.Plain, view{Hostname: "gons-steer", Ran: true}))
		s = runSteer(t, bin, "gons_mnt=/nonexistent")
		assert.Check(t, is.Contains(s.Self.Err, `open mnt "/nonexistent"`))
	})
}
