package nsexec_test

import (
	"testing"

	"github.com/gonsproject/gons/nsexec"
)

func TestForkServerUsed(t *testing.T) {
	if !nsexec.Forkable() {
		t.Fatal("the test binary imports reexec/forkserver, yet a Start would exec")
	}
	c := nsexec.Command("/bin/true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	if !nsexec.Forked(c) {
		t.Fatal("not started by the fork server")
	}
	out, err := nsexec.Command("echo", "hi").Output()
	if err != nil || string(out) != "hi\n" {
		t.Fatalf("%q %v", out, err)
	}
}
