package reexec

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame reader, as a child
// that breaks the protocol would send them: it must return an error or a
// frame that encodes back to the bytes it consumed, and never allocate
// what a header announces before the bytes are there. The same bytes as a
// request and parameter must likewise fail or encode back to themselves.
func FuzzReadFrame(f *testing.F) {
	var seed bytes.Buffer
	writeFrame(&seed, tagResult, []byte(`{"n":1}`))
	f.Add(seed.Bytes())
	f.Add([]byte{tagStarted, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{tagError, 0, 0, 0, 0, 0x40, 0, 0, 0, '{'}) // announces 1 GiB
	f.Add([]byte{tagDone, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{tagRequest, 0, 0})
	var req bytes.Buffer
	writeRequest(&req, &request{Name: "x", Args: []string{"a"}, Depth: 1}, []byte("1"), true)
	f.Add(req.Bytes())
	req.Reset()
	writeRequest(&req, &request{Name: "y", Depth: 2, Stdin: true, Forked: true,
		Env: []string{"A=1", "B=", strings.Repeat("c", 200)}}, nil, false)
	f.Add(req.Bytes())
	req.Reset()
	writeRequest(&req, &request{Name: "z", Depth: 1, Forked: true, SameEnv: true}, nil, false)
	f.Add(req.Bytes())
	f.Add([]byte{tagRequest, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0x80, 0}) // a varint longer than needed
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		tag, payload, err := readFrame(r)
		if err != nil {
			if len(in) >= frameHeader && !errors.Is(err, errFrameTooLarge) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%q: unexpected error %v", in, err)
			}
			return
		}
		consumed := len(in) - r.Len()
		var out bytes.Buffer
		writeFrame(&out, tag, payload)
		if !bytes.Equal(out.Bytes(), in[:consumed]) {
			t.Fatalf("%q: read %q %q, which encodes as %q", in, tag, payload, out.Bytes())
		}
		if cap(payload) > 2*len(in)+readChunk {
			t.Fatalf("%d input bytes made a payload of capacity %d", len(in), cap(payload))
		}
		r = bytes.NewReader(in)
		req, param, err := readRequest(r)
		if err != nil {
			return
		}
		out.Reset()
		writeRequest(&out, req, param, param != nil)
		if consumed := len(in) - r.Len(); !bytes.Equal(out.Bytes(), in[:consumed]) {
			t.Fatalf("%q: read request %+v and parameter %q, which encode as %q", in, req, param, out.Bytes())
		}
	})
}

// TestReadFrameAnnouncedNotSent reads a header that announces the limit
// followed by a few bytes: the error says the frame ended early, and the
// reader allocated about what arrived, not what was announced.
func TestReadFrameAnnouncedNotSent(t *testing.T) {
	in := append([]byte{tagResult, 0, 0, 0, 0, 0x40, 0, 0, 0}, "0123456789"...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := readFrame(bytes.NewReader(in))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "1073741824 bytes, 10 read") {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF after 10 of 1073741824 bytes", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4*readChunk {
		t.Fatalf("a header announcing 1 GiB followed by 10 bytes cost %d bytes", got)
	}
}

// TestRequestRoundTrip checks that a request decodes as it was sent, and
// that a malformed one fails with an error that says what is wrong.
func TestRequestRoundTrip(t *testing.T) {
	want := request{Name: "act", Args: []string{"", "b c"}, Depth: MaxDepth, Stdin: true, Forked: true,
		Env: []string{"PATH=/bin", "X=ü"}}
	var buf bytes.Buffer
	writeRequest(&buf, &want, []byte(`{"a":1}`), true)
	got, param, err := readRequest(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) || string(param) != `{"a":1}` {
		t.Fatalf("got %+v %q, want %+v", *got, param, want)
	}
	same := request{Name: "act", Depth: 1, Forked: true, SameEnv: true}
	buf.Reset()
	writeRequest(&buf, &same, nil, false)
	if got, _, err := readRequest(&buf); err != nil || !reflect.DeepEqual(*got, same) {
		t.Fatalf("got %+v, %v, want %+v", got, err, same)
	}
	for _, tt := range []struct {
		payload []byte
		msg     string
	}{
		{nil, "empty"},
		{[]byte{8, 1, 1, 'x', 0, 0}, "unknown flags"},
		{[]byte{reqSameEnv, 1, 1, 'x', 0, 0}, "not forked"},
		{[]byte{reqSameEnv | reqForked, 1, 1, 'x', 0, 1, 3, 'A', '=', '1'}, "or with one"},
		{[]byte{0, 9, 1, 'x', 0, 0}, "depth 9 over 8"},
		{[]byte{0, 1, 0, 0, 0}, "no action name"},
		{[]byte{0, 1, 5, 'x', 0, 0}, "name: 5 bytes announced"},
		{[]byte{0, 1, 1, 'x', 0xff, 0xff, 0xff, 0x0f, 0}, "args: 33554431 strings announced"},
		{[]byte{0, 0x81, 0, 1, 'x', 0, 0}, "depth: not a minimal varint"},
		{[]byte{0, 1, 1, 'x', 0, 0, 0}, "1 bytes after the request"},
	} {
		buf.Reset()
		writeFrame(&buf, tagRequest, tt.payload)
		writeFrame(&buf, tagNoParam, nil)
		if _, _, err := readRequest(&buf); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("request %q: got %v, want an error with %q", tt.payload, err, tt.msg)
		}
	}
}

// The request and the parameter's header are read together; a parent that
// stops after the request, or half-way through the parameter's header,
// or that sends another frame first, is told apart as before.
func TestReadRequestEnds(t *testing.T) {
	var whole bytes.Buffer
	writeRequest(&whole, &request{Name: "x", Depth: 1}, []byte(`{"a":1}`), true)
	reqLen := frameHeader + len(encodeRequest(&request{Name: "x", Depth: 1}))
	for _, tt := range []struct {
		name string
		in   []byte
		want error  // for errors.Is, or nil
		msg  string // else in the message
	}{
		{"nothing", nil, errNoFrame, ""},
		{"request only", whole.Bytes()[:reqLen], errNoFrame, ""},
		{"half a header", whole.Bytes()[:reqLen+4], io.ErrUnexpectedEOF, "reading a frame header"},
		{"half a parameter", whole.Bytes()[:whole.Len()-2], io.ErrUnexpectedEOF, "reading frame 'P'"},
		{"half a request", whole.Bytes()[:reqLen-1], io.ErrUnexpectedEOF, "reading frame 'A'"},
		{"another frame", append([]byte{tagParam, 0, 0, 0, 0, 0, 0, 0, 1, '1'}, whole.Bytes()...), nil, "unexpected frame 'P'"},
	} {
		_, _, err := readRequest(bytes.NewReader(tt.in))
		if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want %v with %q", tt.name, err, tt.want, tt.msg)
		}
	}
	req, param, err := readRequest(bytes.NewReader(whole.Bytes()))
	if err != nil || req.Name != "x" || string(param) != `{"a":1}` {
		t.Errorf("whole: got %+v, %q, %v", req, param, err)
	}
}
