//go:build cgo

package nsexec_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A program that imports nsexec, started with the marker in its
// environment but no pipe at its descriptor, runs as itself: setting a
// program's environment does not make it execute another program.
func TestMarkerWithoutPipe(t *testing.T) {
	if os.Getenv("NSEXEC_TEST_MARKER") != "" {
		// The child: it runs as itself, the marker left alone.
		if os.Getenv("GONS_EXEC") != "3,0,0,0,0" || len(os.Args) < 2 || os.Args[1] != "-test.run=^TestMarkerWithoutPipe$" {
			t.Fatalf("the marker was acted on: GONS_EXEC=%q, args %q", os.Getenv("GONS_EXEC"), os.Args)
		}
		return
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, files := range [][]*os.File{nil, {devnull}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMarkerWithoutPipe$", "-test.v")
		cmd.Env = append(os.Environ(), "NSEXEC_TEST_MARKER=1", "GONS_EXEC=3,0,0,0,0")
		cmd.ExtraFiles = files
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestMarkerWithoutPipe") {
			t.Fatalf("with %d files: %v\n%s", len(files), err, out)
		}
	}
}
