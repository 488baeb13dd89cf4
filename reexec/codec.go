package reexec

import (
	"encoding"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"unicode/utf8"
)

// The parameter and the result of a typed action travel as JSON, unless
// their type is plain (see plainCodec): then in a compact form that costs
// a few per cent of JSON's time, and decodes to the value that the JSON
// round trip gives. Both ends are the same program, so the type on the
// other side is the same; a compact payload starts with compactMark, a
// byte that no JSON text starts with, so either end decodes either form.
// A value that JSON treats specially (a NaN or infinite float, a string
// that is not valid UTF-8) travels as JSON.
//
// The compact form of a value is, by kind: a bool as one byte 0 or 1; a
// signed integer as a zig-zag varint; an unsigned one as a varint; a
// float as its IEEE 754 bits, little-endian (4 or 8 bytes); a string as
// its length as a varint, then its bytes; a struct as its exported
// fields in order.
const compactMark = 0x00

// codec encodes and decodes the values of one plain type.
type codec struct {
	kind   reflect.Kind
	fields []fieldCodec // of a struct: its exported fields
}

type fieldCodec struct {
	index int
	*codec
}

var (
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonNumber      = reflect.TypeFor[json.Number]() // a string that JSON writes as a number
)

// plainCodec returns the codec of t, or nil if t is not plain. Plain are
// bool, the integers but uintptr, the floats, string, and structs of
// plain fields, none embedded, none with a tag; neither the type nor a
// pointer to it may have methods that change how JSON encodes it, and
// json.Number, which JSON encodes as a number, is not plain either.
func plainCodec(t reflect.Type) *codec {
	if t == nil || t == jsonNumber {
		return nil
	}
	p := reflect.PointerTo(t)
	for _, m := range []reflect.Type{jsonMarshaler, jsonUnmarshaler, textMarshaler, textUnmarshaler} {
		if t.Implements(m) || p.Implements(m) {
			return nil
		}
	}
	c := &codec{kind: t.Kind()}
	switch c.kind {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return c
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous || f.Tag != "" {
				return nil
			}
			if !f.IsExported() {
				continue // JSON leaves it out too
			}
			fc := plainCodec(f.Type)
			if fc == nil {
				return nil
			}
			c.fields = append(c.fields, fieldCodec{index: i, codec: fc})
		}
		return c
	}
	return nil
}

// encodeValue encodes v as c's compact form, or as JSON if c is nil or v
// holds a value that JSON treats specially.
func encodeValue(c *codec, v any) ([]byte, error) {
	if c != nil {
		if b, ok := c.encode(append(make([]byte, 0, 64), compactMark), reflect.ValueOf(v)); ok {
			return b, nil
		}
	}
	return json.Marshal(v)
}

// decodeValue decodes b, compact or JSON, into v, a pointer to a value of
// c's type; JSON strictly (see decodeStrict). Without a codec, b is
// JSON.
func decodeValue(c *codec, b []byte, v any) error {
	if c == nil || len(b) == 0 || b[0] != compactMark {
		return decodeStrict(b, v)
	}
	rv := reflect.ValueOf(v).Elem()
	rest, err := c.decode(b[1:], rv)
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d bytes of trailing data", len(rest))
	}
	if err != nil {
		rv.SetZero()
		return fmt.Errorf("compact value: %w", err)
	}
	return nil
}

// encode appends v's compact form to b; false: v is to travel as JSON.
func (c *codec) encode(b []byte, v reflect.Value) ([]byte, bool) {
	switch c.kind {
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1), true
		}
		return append(b, 0), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return binary.AppendUvarint(b, v.Uint()), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		if c.kind == reflect.Float32 {
			return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f))), true
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f)), true
	case reflect.String:
		s := v.String()
		if !utf8.ValidString(s) {
			return nil, false
		}
		return append(binary.AppendUvarint(b, uint64(len(s))), s...), true
	case reflect.Struct:
		for _, f := range c.fields {
			var ok bool
			if b, ok = f.encode(b, v.Field(f.index)); !ok {
				return nil, false
			}
		}
		return b, true
	}
	return nil, false
}

var (
	errShort     = errors.New("truncated")
	errNotFinite = errors.New("a float that is not finite") // JSON has none
)

// decode decodes a value from the front of b into v and returns the rest.
func (c *codec) decode(b []byte, v reflect.Value) ([]byte, error) {
	switch c.kind {
	case reflect.Bool:
		if len(b) == 0 {
			return nil, errShort
		}
		if b[0] > 1 {
			return nil, fmt.Errorf("bool byte %#x", b[0])
		}
		v.SetBool(b[0] == 1)
		return b[1:], nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(b)
		if n <= 0 {
			return nil, errors.New("malformed signed varint")
		}
		if v.OverflowInt(x) {
			return nil, fmt.Errorf("%d overflows %s", x, v.Type())
		}
		v.SetInt(x)
		return b[n:], nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("malformed varint")
		}
		if v.OverflowUint(x) {
			return nil, fmt.Errorf("%d overflows %s", x, v.Type())
		}
		v.SetUint(x)
		return b[n:], nil
	case reflect.Float32, reflect.Float64:
		size := 8
		if c.kind == reflect.Float32 {
			size = 4
		}
		if len(b) < size {
			return nil, errShort
		}
		var f float64
		if size == 4 {
			f = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		} else {
			f = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errNotFinite
		}
		v.SetFloat(f)
		return b[size:], nil
	case reflect.String:
		n, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, errors.New("malformed string length")
		}
		b = b[k:]
		if n > uint64(len(b)) {
			return nil, errShort
		}
		if !utf8.Valid(b[:n]) {
			return nil, errors.New("a string that is not UTF-8")
		}
		v.SetString(string(b[:n]))
		return b[n:], nil
	case reflect.Struct:
		var err error
		for _, f := range c.fields {
			if b, err = f.decode(b, v.Field(f.index)); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("kind %s is not plain", c.kind)
}

// decodeResult decodes the result b of action name into o's Result
// target. A typed action run by name, with [Result] rather than through
// its Func, sends a plain result in the compact form all the same: it is
// decoded as the action's result type, then re-encoded as JSON (which
// gives the JSON the action would have sent) for the target, whatever its
// type.
func decodeResult(name string, o *options, b []byte) error {
	if o.rc != nil {
		return decodeValue(o.rc, b, o.result)
	}
	a := lookup(name)
	if a == nil || a.rc == nil || len(b) == 0 || b[0] != compactMark {
		return decodeStrict(b, o.result)
	}
	v := reflect.New(a.rt)
	if err := decodeValue(a.rc, b, v.Interface()); err != nil {
		return err
	}
	j, err := json.Marshal(v.Elem().Interface())
	if err != nil {
		return err
	}
	return decodeStrict(j, o.result)
}
