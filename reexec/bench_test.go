package reexec_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/gonsproject/gons/reexec"
)

// BenchmarkExecBaseline execs the test binary, which exits at once: the
// floor that a round trip through an action is measured against.
func BenchmarkExecBaseline(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		cmd := exec.Command("/proc/self/exe")
		cmd.Env = append(os.Environ(), "GONS_TEST_EXIT=1")
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlain runs the plain "answertoeverything" action (the example of
// thediveo/gons's README) and decodes its stdout.
func BenchmarkPlain(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var answer int
		if err := reexec.RunReexecAction("answertoeverything", reexec.Result(&answer)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFunc runs a typed action with a small parameter and result.
func BenchmarkFunc(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if _, err := echo.Run(ctx, payload{Text: "ping"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStanding runs a typed action with a small parameter and result
// in a standing child.
func BenchmarkStanding(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	s, err := reexec.Start(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if _, err := echo.RunIn(ctx, s, payload{Text: "ping"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFuncResultFirst runs a typed action with a small parameter and
// result, returning once the result is in (ResultFirst).
func BenchmarkFuncResultFirst(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if _, err := echo.Run(ctx, payload{Text: "ping"}, reexec.ResultFirst()); err != nil {
			b.Fatal(err)
		}
	}
	reexec.WaitBackground()
}
