package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/reexec"
)

// TestResultFirst makes runs with ResultFirst from 16 goroutines at once:
// each returns its result, the children still exiting never exceed
// MaxBackground, a failing run returns its error as without the option,
// and once WaitBackground returns no child is left.
func TestResultFirst(t *testing.T) { forEachPath(t, resultFirst) }

func resultFirst(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				got, err := echo.Run(ctx, payload{Text: "first", N: g*100 + i}, reexec.ResultFirst())
				if err != nil || got.Text != "first" || got.N != g*100+i+1 {
					t.Errorf("goroutine %d, run %d: %+v, %v", g, i, got, err)
				}
				if n := reexec.Background(); n > reexec.MaxBackground {
					t.Errorf("%d children being reaped, over %d", n, reexec.MaxBackground)
				}
			}
		}()
	}
	wg.Wait()
	_, err := failErrno.Run(ctx, struct{}{}, reexec.ResultFirst())
	var e *reexec.Error
	if !errors.As(err, &e) || e.Op != "action" || !errors.Is(err, unix.ENOENT) {
		t.Errorf("a failing run: %v, want the action's error with ENOENT", err)
	}
	reexec.WaitBackground()
	if n := reexec.Background(); n != 0 {
		t.Errorf("%d children being reaped after WaitBackground", n)
	}
	if kids := children(t); len(kids) != 0 {
		t.Errorf("children after WaitBackground: %v", kids)
	}
}

// TestResultFirstSameAsWithout runs the same typed actions with and
// without ResultFirst: the same results and errors.
func TestResultFirstSameAsWithout(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	for _, run := range []func(opts ...reexec.Option) (any, error){
		func(opts ...reexec.Option) (any, error) { return echo.Run(ctx, payload{Text: "x"}, opts...) },
		func(opts ...reexec.Option) (any, error) { return failErrno.Run(ctx, struct{}{}, opts...) },
		func(opts ...reexec.Option) (any, error) { return panics.Run(ctx, struct{}{}, opts...) },
		func(opts ...reexec.Option) (any, error) { return strict.Run(ctx, strictParam{A: 2}, opts...) },
	} {
		r1, err1 := run()
		r2, err2 := run(reexec.ResultFirst())
		if fmt.Sprint(r1) != fmt.Sprint(r2) || errString(err1) != errString(err2) {
			t.Errorf("without: %v, %v\nwith:    %v, %v", r1, err1, r2, err2)
		}
	}
	reexec.WaitBackground()
}

// errString is the error's message without its stderr tail, which holds
// the markers of both runs.
func errString(err error) string {
	var e *reexec.Error
	if errors.As(err, &e) {
		return e.Op + ": " + e.Err.Error()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
