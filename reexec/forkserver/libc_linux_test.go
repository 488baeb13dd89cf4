//go:build cgo

package forkserver_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/reexec/forkserver/internal/probe"
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

func init() {
	reexec.Register("libc-probe", func() {
		json.NewEncoder(os.Stdout).Encode(probe.Read())
	})
}

// TestLibcOfChild compares what the program, a child of the fork server and
// an exec'd child (reexec.Command always execs) see of the C library: the
// forked child alone keeps one malloc arena, set in the server, and was
// told its main thread's stack from the server's data, which is what the
// C library reports in it; the program keeps its own arenas, and neither
// it nor an exec'd child is answered from the server.
func TestLibcOfChild(t *testing.T) {
	if spawn.PID() == 0 {
		testutil.Unavailable(t, "the test binary has no fork server")
	}
	program := probe.Read()
	if program.Arenas == -1 {
		testutil.Unavailable(t, "not glibc: runtime/cgo asks no stack, and mallopt does nothing")
	}
	before := spawn.Spawned()
	var forked probe.Probe
	if err := reexec.RunReexecAction("libc-probe", reexec.Result(&forked)); err != nil {
		t.Fatal(err)
	}
	if spawn.Spawned() == before {
		t.Fatal("the fork server started no child")
	}
	out, err := reexec.Command(context.Background(), "libc-probe", nil).Output()
	if err != nil {
		t.Fatal(err)
	}
	var execd probe.Probe
	if err := json.Unmarshal(out, &execd); err != nil {
		t.Fatalf("%v: %q", err, out)
	}

	t.Logf("program %+v\nforked %+v\nexecd %+v", program, forked, execd)
	if program.Arenas < 2 || program.Answered {
		t.Errorf("the program: %+v, want arenas of its own and no answer from the server", program)
	}
	if execd.Arenas < 2 || execd.Answered {
		t.Errorf("an exec'd child: %+v, want arenas of its own and no answer from the server", execd)
	}
	if forked.Arenas != 1 || !forked.Answered {
		t.Errorf("a forked child: %+v, want one arena and the stack from the server", forked)
	}
	if forked.Inherited != forked.Real || forked.Real[1] == 0 {
		t.Errorf("a forked child was told the stack %#x, the C library reports %#x", forked.Inherited, forked.Real)
	}
}
