package reexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gonsproject/gons/reexec"
)

type echoInner struct {
	F32 float32
	S   string
}

// echoValue is plain: it travels in the compact form unless it holds a
// value that JSON treats specially.
type echoValue struct {
	I      int64
	U      uint64
	F      float64
	S      string
	In     echoInner
	NaNOut bool // the action returns a NaN
	hidden int
}

var plainEcho = reexec.RegisterFunc("codec-echo", func(v echoValue) (echoValue, error) {
	if v.NaNOut {
		v.F = math.NaN()
	}
	return v, nil
})

// TestCodecEcho runs an action whose parameter and result are plain
// through each way of running it and checks that what comes back is what
// two JSON round trips give, as it was before the compact form, and that
// a value JSON cannot encode fails as it did.
func TestCodecEcho(t *testing.T) {
	values := []echoValue{
		{},
		{I: math.MinInt64, U: math.MaxUint64, F: math.Copysign(0, -1), S: "nul\x00é☃", In: echoInner{F32: math.SmallestNonzeroFloat32, S: strings.Repeat("x", 100000)}, hidden: 7},
		{I: math.MaxInt64, F: math.SmallestNonzeroFloat64, S: "<&>\u2028", In: echoInner{F32: float32(math.Copysign(0, -1))}},
		{F: math.MaxFloat64, S: "invalid \xff\xfe UTF-8", In: echoInner{F32: -math.MaxFloat32}},
		{F: 0.1, In: echoInner{S: "bad \xc3"}},
	}
	want := func(t *testing.T, v echoValue) string {
		var back echoValue
		for range 2 { // parameter, then result
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			back = echoValue{}
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			v = back
		}
		return fmt.Sprintf("%#v", back)
	}
	check := func(t *testing.T, how string, run func(echoValue) (echoValue, error)) {
		for _, v := range values {
			got, err := run(v)
			if err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			if g, w := fmt.Sprintf("%#v", got), want(t, v); g != w {
				t.Errorf("%s: %#v came back as\n%s, JSON gives\n%s", how, v, g, w)
			}
		}
		_, jerr := json.Marshal(math.NaN())
		_, err := run(echoValue{F: math.Inf(-1)})
		var e *reexec.Error
		if _, jinf := json.Marshal(math.Inf(-1)); !errors.As(err, &e) || e.Op != "param" || e.Err.Error() != jinf.Error() {
			t.Errorf("%s: an infinite parameter: %v, want Op param and %v", how, err, jinf)
		}
		_, err = run(echoValue{NaNOut: true})
		if !errors.As(err, &e) || e.Op != "result" || !strings.Contains(e.Err.Error(), jerr.Error()) {
			t.Errorf("%s: a NaN result: %v, want Op result and %v", how, err, jerr)
		}
	}
	ctx := context.Background()
	forEachPath(t, func(t *testing.T) {
		check(t, "Run", func(v echoValue) (echoValue, error) { return plainEcho.Run(ctx, v) })
		s := startStanding(t, ctx)
		check(t, "RunIn", func(v echoValue) (echoValue, error) { return plainEcho.RunIn(ctx, s, v) })
	})
	check(t, "InProcess", func(v echoValue) (echoValue, error) { return plainEcho.Run(ctx, v, reexec.InProcess()) })
}

// TestCodecByName runs the action of TestCodecEcho by name, with Param
// and Result, into the result type and into others: the result comes
// back as JSON would bring it, and a target that JSON refuses is refused.
func TestCodecByName(t *testing.T) {
	v := echoValue{I: -5, F: math.Copysign(0, -1), S: "by name", In: echoInner{F32: 1.5}}
	ctx := context.Background()
	forEachPath(t, func(t *testing.T) {
		for _, opts := range [][]reexec.Option{nil, {reexec.InProcess()}} {
			var same echoValue
			if err := reexec.RunReexecActionContext(ctx, plainEcho.Name(), append(opts, reexec.Param(v), reexec.Result(&same))...); err != nil {
				t.Fatal(err)
			}
			if g, w := fmt.Sprintf("%#v", same), fmt.Sprintf("%#v", v); g != w {
				t.Errorf("into %T: %s, want %s", same, g, w)
			}
			var m map[string]any
			if err := reexec.RunReexecActionContext(ctx, plainEcho.Name(), append(opts, reexec.Param(v), reexec.Result(&m))...); err != nil {
				t.Fatal(err)
			}
			if m["S"] != "by name" || m["I"] != float64(-5) || !math.Signbit(m["F"].(float64)) {
				t.Errorf("into a map: %v", m)
			}
			var fewer struct{ I int64 }
			err := reexec.RunReexecActionContext(ctx, plainEcho.Name(), append(opts, reexec.Param(v), reexec.Result(&fewer))...)
			var e *reexec.Error
			if !errors.As(err, &e) || e.Op != "result" || !strings.Contains(err.Error(), `unknown field "U"`) {
				t.Errorf("into a struct of fewer fields: %v, want Op result and an unknown field", err)
			}
		}
	})
}
