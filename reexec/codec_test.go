package reexec

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type codecInner struct {
	F32  float32
	S    string
	flag bool
}

type codecNamed int16

type codecMixed struct {
	B      bool
	I      int
	I8     int8
	I16    int16
	I32    int32
	I64    int64
	U      uint
	U8     uint8
	U16    uint16
	U32    uint32
	U64    uint64
	F32    float32
	F64    float64
	S      string
	N      codecNamed
	In     codecInner
	hidden int64
	ptr    *int // unexported: JSON leaves it out, whatever its type
	Anon   struct {
		X    int64
		y    string
		Deep struct{ F float64 }
	}
	Empty struct{}
}

// filler sets values, exported or not, at random with a bias to the
// values that codecs get wrong: extremes, signed zeros, subnormals,
// non-finite floats, NUL bytes, long and invalid UTF-8 strings.
type filler struct{ r *rand.Rand }

func (f filler) fill(v reflect.Value) {
	if !v.CanSet() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		lo, hi := int64(-1)<<(bits-1), int64(uint64(1)<<(bits-1)-1)
		switch f.r.IntN(6) {
		case 0:
			v.SetInt(lo)
		case 1:
			v.SetInt(hi)
		case 2:
			v.SetInt(int64(f.r.IntN(3)) - 1)
		default:
			v.SetInt(int64(f.r.Uint64()) >> (64 - bits))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := v.Type().Bits()
		switch f.r.IntN(5) {
		case 0:
			v.SetUint(math.MaxUint64 >> (64 - bits))
		case 1:
			v.SetUint(uint64(f.r.IntN(2)))
		default:
			v.SetUint(f.r.Uint64() >> (64 - bits))
		}
	case reflect.Float32, reflect.Float64:
		specials := []float64{0, math.Copysign(0, -1), math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
			math.MaxFloat64, -math.MaxFloat64, 1e300, 1e-300, 5e-324, 0.1, 1e21, 1e20, 123456789.125,
			math.NaN(), math.Inf(1), math.Inf(-1)}
		if v.Kind() == reflect.Float32 {
			specials = append(specials, math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32, 1e-7, 3.4e38)
		}
		var x float64
		switch f.r.IntN(4) {
		case 0:
			x = specials[f.r.IntN(len(specials))]
		case 1:
			x = f.r.NormFloat64() * math.Pow(10, float64(f.r.IntN(40)-20))
		default:
			if v.Kind() == reflect.Float32 {
				x = float64(math.Float32frombits(f.r.Uint32()))
			} else {
				x = math.Float64frombits(f.r.Uint64())
			}
		}
		if v.Kind() == reflect.Float32 && !math.IsNaN(x) && !math.IsInf(x, 0) && math.Abs(x) > math.MaxFloat32 {
			x = math.Copysign(math.MaxFloat32, x)
		}
		v.SetFloat(x)
	case reflect.String:
		switch f.r.IntN(7) {
		case 0:
			v.SetString("")
		case 1:
			v.SetString("a\x00b\x00")
		case 2:
			v.SetString(strings.Repeat("long é ☃ 😀 ", 1000+f.r.IntN(1000)))
		case 3:
			v.SetString("<script>&\u2028\u2029\"\\\t\n\x7f\ufffd")
		case 4: // random bytes: mostly invalid UTF-8
			b := make([]byte, f.r.IntN(40))
			for i := range b {
				b[i] = byte(f.r.Uint32())
			}
			v.SetString(string(b))
		default: // random runes, valid UTF-8
			var sb strings.Builder
			for range f.r.IntN(20) {
				r := rune(f.r.IntN(0x110000))
				if r >= 0xd800 && r < 0xe000 {
					r = 'x'
				}
				sb.WriteRune(r)
			}
			v.SetString(sb.String())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f.fill(v.Field(i))
		}
	case reflect.Pointer:
		n := f.r.Int()
		v.Set(reflect.ValueOf(&n))
	}
}

// sameBits reports whether a and b hold the same values, floats to the
// bit (so that -0 and 0 differ), unexported fields included.
func sameBits(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.String:
		return a.String() == b.String()
	case reflect.Pointer:
		return a.IsNil() == b.IsNil()
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameBits(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	panic("sameBits: " + a.Kind().String())
}

// checkRoundTrip compares the codec's round trip of v with JSON's: the
// same error, or the same value. It reports whether v went compact.
func checkRoundTrip[T any](t *testing.T, v T) bool {
	t.Helper()
	c := plainCodec(reflect.TypeFor[T]())
	if c == nil {
		t.Fatalf("%T is not plain", v)
	}
	jb, jerr := json.Marshal(v)
	cb, cerr := encodeValue(c, v)
	if (jerr == nil) != (cerr == nil) || jerr != nil && jerr.Error() != cerr.Error() {
		t.Fatalf("%#v: encoding error %v, JSON's %v", v, cerr, jerr)
	}
	if jerr != nil {
		return false
	}
	var jv, cv T
	if err := decodeStrict(jb, &jv); err != nil {
		t.Fatalf("%#v: JSON round trip: %v", v, err)
	}
	if err := decodeValue(c, cb, &cv); err != nil {
		t.Fatalf("%#v: round trip: %v", v, err)
	}
	if !sameBits(reflect.ValueOf(cv), reflect.ValueOf(jv)) {
		t.Fatalf("round trip of %#v\ngives %#v\nJSON's %#v", v, cv, jv)
	}
	compact := len(cb) > 0 && cb[0] == compactMark
	if !compact && string(cb) != string(jb) {
		t.Fatalf("%#v: fell back to %q, not JSON's %q", v, cb, jb)
	}
	return compact
}

// TestCodecSameAsJSON checks, for many random values of plain types, that
// the compact form decodes to what the JSON round trip gives, and that
// values JSON cannot encode fail with JSON's error.
func TestCodecSameAsJSON(t *testing.T) {
	f := filler{rand.New(rand.NewPCG(1, 2))}
	var compact, json int
	count := func(ok bool) {
		if ok {
			compact++
		} else {
			json++
		}
	}
	for range 3000 {
		var m codecMixed
		f.fill(reflect.ValueOf(&m).Elem())
		count(checkRoundTrip(t, m))
		var in codecInner
		f.fill(reflect.ValueOf(&in).Elem())
		count(checkRoundTrip(t, in))
		var (
			i64 int64
			f64 float64
			f32 float32
			s   string
			u8  uint8
			b   bool
			n   codecNamed
			d   time.Duration
		)
		for _, p := range []any{&i64, &f64, &f32, &s, &u8, &b, &n, &d} {
			f.fill(reflect.ValueOf(p).Elem())
		}
		count(checkRoundTrip(t, i64))
		count(checkRoundTrip(t, f64))
		count(checkRoundTrip(t, f32))
		count(checkRoundTrip(t, s))
		count(checkRoundTrip(t, u8))
		count(checkRoundTrip(t, b))
		count(checkRoundTrip(t, n))
		count(checkRoundTrip(t, d))
		count(checkRoundTrip(t, struct{}{}))
	}
	// Both ways must have been taken often, or the test compares little.
	if compact < 10000 || json < 1000 {
		t.Fatalf("%d values went compact, %d as JSON", compact, json)
	}
}

// TestCodecNegativeZero pins what JSON does with -0, which the codec
// must carry over: it keeps the sign.
func TestCodecNegativeZero(t *testing.T) {
	neg := math.Copysign(0, -1)
	if !checkRoundTrip(t, neg) || !checkRoundTrip(t, float32(neg)) {
		t.Fatal("-0 did not go compact")
	}
	var back float64
	b, _ := encodeValue(plainCodec(reflect.TypeFor[float64]()), neg)
	if err := decodeValue(plainCodec(reflect.TypeFor[float64]()), b, &back); err != nil || !math.Signbit(back) {
		t.Fatalf("-0 came back as %v (%v)", back, err)
	}
}

type (
	valueMarshaler   struct{ A int }
	ptrUnmarshaler   struct{ A int }
	valueText        int
	ptrText          string
	withMarshalField struct {
		A int
		T valueText
	}
	withTime struct{ T time.Time }
	embedded struct{ codecInner }
	tagged   struct {
		A int `json:"a"`
	}
	otherTag struct {
		A int `yaml:"a"`
	}
	withPtr   struct{ P *int }
	withSlice struct{ S []int }
	withArray struct{ A [2]int }
	withMap   struct{ M map[string]int }
	withAny   struct{ V any }
	withUptr  struct{ U uintptr }
	nestedBad struct{ In withPtr }
	hiddenBad struct {
		p *int
		m map[int]int
		A int
	}
	hiddenFunc struct{ f func() }
)

func (valueMarshaler) MarshalJSON() ([]byte, error) { return []byte(`1`), nil }
func (*ptrUnmarshaler) UnmarshalJSON([]byte) error  { return nil }
func (valueText) MarshalText() ([]byte, error)      { return []byte(`x`), nil }
func (*ptrText) UnmarshalText([]byte) error         { return nil }

// TestPlain checks which types take the compact form.
func TestPlain(t *testing.T) {
	for _, tt := range []struct {
		t     reflect.Type
		plain bool
	}{
		{reflect.TypeFor[bool](), true},
		{reflect.TypeFor[int](), true},
		{reflect.TypeFor[int8](), true},
		{reflect.TypeFor[uint64](), true},
		{reflect.TypeFor[float32](), true},
		{reflect.TypeFor[string](), true},
		{reflect.TypeFor[codecNamed](), true},
		{reflect.TypeFor[time.Duration](), true},
		{reflect.TypeFor[struct{}](), true},
		{reflect.TypeFor[codecMixed](), true},
		{reflect.TypeFor[hiddenBad](), true}, // its unexported fields do not travel
		{reflect.TypeFor[hiddenFunc](), true},
		{reflect.TypeFor[withMap](), false},
		{reflect.TypeFor[uintptr](), false},
		{reflect.TypeFor[*int](), false},
		{reflect.TypeFor[[]byte](), false},
		{reflect.TypeFor[[2]int](), false},
		{reflect.TypeFor[map[string]int](), false},
		{reflect.TypeFor[any](), false},
		{reflect.TypeFor[error](), false},
		{reflect.TypeFor[chan int](), false},
		{reflect.TypeFor[func()](), false},
		{reflect.TypeFor[complex128](), false},
		{reflect.TypeFor[valueMarshaler](), false},
		{reflect.TypeFor[ptrUnmarshaler](), false},
		{reflect.TypeFor[valueText](), false},
		{reflect.TypeFor[ptrText](), false},
		{reflect.TypeFor[withMarshalField](), false},
		{reflect.TypeFor[withTime](), false},
		{reflect.TypeFor[time.Time](), false},
		{reflect.TypeFor[embedded](), false},
		{reflect.TypeFor[tagged](), false},
		{reflect.TypeFor[otherTag](), false},
		{reflect.TypeFor[withPtr](), false},
		{reflect.TypeFor[withSlice](), false},
		{reflect.TypeFor[withArray](), false},
		{reflect.TypeFor[withAny](), false},
		{reflect.TypeFor[withUptr](), false},
		{reflect.TypeFor[nestedBad](), false},
		{reflect.TypeFor[struct{ In struct{ P *int } }](), false},
		{reflect.TypeFor[json.Number](), false}, // a string that JSON writes as a number
		{reflect.TypeFor[struct{ N json.Number }](), false},
	} {
		if got := plainCodec(tt.t) != nil; got != tt.plain {
			t.Errorf("%v: plain %v, want %v", tt.t, got, tt.plain)
		}
	}
}

// TestCodecMalformed checks that a truncated, lengthened or garbled
// compact payload fails to decode, or decodes, but never panics, and that
// a failure leaves the target zero.
func TestCodecMalformed(t *testing.T) {
	c := plainCodec(reflect.TypeFor[codecMixed]())
	f := filler{rand.New(rand.NewPCG(3, 4))}
	var m codecMixed
	for {
		f.fill(reflect.ValueOf(&m).Elem())
		if b, _ := encodeValue(c, m); len(b) > 0 && b[0] == compactMark {
			break
		}
	}
	b, _ := encodeValue(c, m)
	for n := range len(b) {
		var got codecMixed
		if err := decodeValue(c, b[:n], &got); err == nil {
			t.Fatalf("a payload truncated to %d of %d bytes decoded", n, len(b))
		}
		if !sameBits(reflect.ValueOf(got), reflect.ValueOf(codecMixed{})) {
			t.Fatalf("a failed decoding left %#v", got)
		}
	}
	var got codecMixed
	if err := decodeValue(c, append(b, 0), &got); err == nil {
		t.Fatal("trailing data decoded")
	}
	if err := decodeValue(nil, b, &got); err == nil {
		t.Fatal("a compact payload decoded for a type that is not plain")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		g := append([]byte(nil), b[:r.IntN(len(b))+1]...)
		for range 1 + r.IntN(4) {
			g[r.IntN(len(g))] = byte(r.Uint32())
		}
		var got codecMixed
		_ = decodeValue(c, g, &got) // must not panic
	}
	for _, tt := range []struct {
		c *codec
		b []byte
		v any
	}{
		{plainCodec(reflect.TypeFor[bool]()), []byte{compactMark, 2}, new(bool)},
		{plainCodec(reflect.TypeFor[int8]()), []byte{compactMark, 0x80, 0x02}, new(int8)}, // 128
		{plainCodec(reflect.TypeFor[uint16]()), []byte{compactMark, 0x80, 0x80, 0x04}, new(uint16)},
		{plainCodec(reflect.TypeFor[float64]()), []byte{compactMark, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f}, new(float64)}, // NaN
		{plainCodec(reflect.TypeFor[float32]()), []byte{compactMark, 0, 0, 0x80, 0x7f}, new(float32)},             // +Inf
		{plainCodec(reflect.TypeFor[string]()), []byte{compactMark, 1, 0xff}, new(string)},
		{plainCodec(reflect.TypeFor[string]()), []byte{compactMark, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, new(string)},
		{plainCodec(reflect.TypeFor[int64]()), []byte{compactMark, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, new(int64)},
	} {
		if err := decodeValue(tt.c, tt.b, tt.v); err == nil {
			t.Errorf("%x decoded into %T", tt.b, tt.v)
		}
	}
}

// BenchmarkCodec times the encoding and decoding of a small parameter,
// compact and as JSON.
func BenchmarkCodec(b *testing.B) {
	type param struct {
		Name string
		N    int
	}
	v := param{Name: "ping", N: 42}
	c := plainCodec(reflect.TypeFor[param]())
	for _, bc := range []struct {
		name string
		c    *codec
	}{{"compact", c}, {"json", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := encodeValue(bc.c, v)
				if err != nil {
					b.Fatal(err)
				}
				var back param
				if err := decodeValue(bc.c, p, &back); err != nil || back != v {
					b.Fatal(back, err)
				}
			}
		})
	}
}

// The unexported fields of the test types are set through reflect alone.
var _ = []any{codecInner{flag: true}, codecMixed{hidden: 1, ptr: nil}, hiddenBad{p: nil, m: nil}, hiddenFunc{f: nil}}
