package reexec

import (
	"bytes"
	"errors"
	"testing"
)

// TestFramesInPieces feeds a stream of answers to the parent's frame
// buffer of a standing child in pieces of every size, as reads that end
// anywhere (a deadline, a short read) leave them: every frame comes out
// whole and in order, and nothing else.
func TestFramesInPieces(t *testing.T) {
	type frame struct {
		tag     byte
		payload []byte
	}
	want := []frame{
		{tagValue, []byte(`{}`)},
		{tagFailure, []byte(`{"Kind":"action"}`)},
		{tagValue, nil},
		{tagValue, bytes.Repeat([]byte("x"), readChunk+3*minRead+1)},
		{tagValue, []byte(`1`)},
	}
	var stream bytes.Buffer
	for _, f := range want {
		if err := writeFrame(&stream, f.tag, f.payload); err != nil {
			t.Fatal(err)
		}
	}
	for _, piece := range []int{1, 2, frameHeader, 1000, minRead, readChunk + 5, stream.Len()} {
		var fr frames
		var got []frame
		rest := stream.Bytes()
		for len(rest) > 0 {
			space := fr.space()
			n := copy(space, rest[:min(piece, len(rest))])
			fr.buf = fr.buf[:len(fr.buf)+n]
			rest = rest[n:]
			for {
				tag, b, err := fr.next()
				if err != nil {
					t.Fatalf("pieces of %d: %v", piece, err)
				}
				if b == nil {
					break
				}
				got = append(got, frame{tag, b})
			}
		}
		if fr.partial() {
			t.Errorf("pieces of %d: %d bytes left over", piece, len(fr.buf)-fr.off)
		}
		if len(got) != len(want) {
			t.Fatalf("pieces of %d: %d frames, want %d", piece, len(got), len(want))
		}
		for i := range want {
			if got[i].tag != want[i].tag || !bytes.Equal(got[i].payload, want[i].payload) {
				t.Errorf("pieces of %d: frame %d is %q of %d bytes, want %q of %d", piece, i,
					got[i].tag, len(got[i].payload), want[i].tag, len(want[i].payload))
			}
		}
	}
}

// TestFramesRefused: a frame of a tag that the parent does not expect, or
// announcing more than the limit, is an error at its header; a header
// that announces much and sends little makes the buffer grow by no more
// than what arrived, give or take a read's room.
func TestFramesRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header []byte
		is     error
	}{
		{"tag", []byte{tagResult, 0, 0, 0, 0, 0, 0, 0, 1, 'x'}, nil},
		{"size", []byte{tagValue, 0xff, 0, 0, 0, 0, 0, 0, 0}, errFrameTooLarge},
	} {
		var fr frames
		fr.buf = append(fr.space()[:0], tc.header...)
		_, b, err := fr.next()
		if err == nil || b != nil || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %q, %v; want an error", tc.name, b, err)
		}
	}
	var fr frames
	fr.buf = append(fr.space()[:0], tagValue, 0, 0, 0, 0, 0x20, 0, 0, 0) // 512 MiB
	for range 10 {
		fr.buf = fr.buf[:len(fr.buf)+copy(fr.space(), "0123456789")]
		if _, b, err := fr.next(); b != nil || err != nil {
			t.Fatalf("half a frame: %q, %v", b, err)
		}
	}
	if cap(fr.buf) > 2*minRead {
		t.Errorf("%d bytes arrived, the buffer holds %d", len(fr.buf), cap(fr.buf))
	}
}
