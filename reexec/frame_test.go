package reexec

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame reader, as a child
// that breaks the protocol would send them: it must return an error or a
// frame that encodes back to the bytes it consumed, and never allocate
// what a header announces before the bytes are there.
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
		// The same bytes as a request must not crash the child's side.
		readRequest(bytes.NewReader(in))
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
