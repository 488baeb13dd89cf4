package reexec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// The protocol socket carries frames. A frame is a tag byte, the payload's
// length as a big-endian uint64, and the payload. The parent sends the
// request, then the parameter; the child answers with an acknowledgement as
// soon as CheckAction runs, then with its outcome:
//
//	parent: 'A' request, then 'P' parameter or 'N' none
//	child:  'S', then one of 'R' result, 'D' done, 'E' error
//
// Each side reads exactly the tag it expects next and fails on any other.
const (
	tagRequest = 'A' // parent: request (action name, arguments, depth; see encodeRequest)
	tagParam   = 'P' // parent: JSON parameter
	tagNoParam = 'N' // parent: no parameter
	tagStarted = 'S' // child: CheckAction runs; the request is understood
	tagResult  = 'R' // child: JSON result of a typed action
	tagDone    = 'D' // child: a plain action returned
	tagError   = 'E' // child: JSON wireError
)

// frameHeader is the size of a frame's header.
const frameHeader = 9

// maxPayload bounds what a frame may announce. A reader refuses a larger
// frame at its header, before reading or allocating any of it.
var maxPayload uint64 = 1 << 30

// stall bounds how long the parent waits for the rest of a frame whose
// first bytes have arrived: the child writes a frame in one go.
var stall = 5 * time.Second

// readChunk is how much of a payload a reader allocates before the bytes
// are there: a header alone never makes it allocate what it announces.
const readChunk = 64 << 10

// request is the payload of the first frame: what the child is to run.
type request struct {
	Name string
	Args []string // the child's os.Args[1:]
	// Depth is how many reexec children the child is deep: 1 for a child
	// of a process that is no child itself.
	Depth int
	// Stdin: the child makes the parameter its standard input, as
	// thediveo/gons does for plain actions.
	Stdin bool
	// Forked: the fork server started the child, whose runtime started
	// with the program's environment; Env is the child's, unless
	// SameEnv: the child keeps the one it has, which is the program's
	// when it enabled the server, and Env is empty.
	Forked  bool
	SameEnv bool
	Env     []string
}

// errFrameTooLarge is wrapped by the error of a frame over maxPayload.
var errFrameTooLarge = errors.New("frame exceeds the limit")

// errNoFrame means the peer closed the socket before a frame began.
var errNoFrame = errors.New("the peer closed the socket")

func writeFrame(w io.Writer, tag byte, payload []byte) error {
	if len(payload) <= readChunk {
		// One write: a small frame arrives whole or not at all.
		_, err := w.Write(appendFrame(make([]byte, 0, frameHeader+len(payload)), tag, payload))
		return err
	}
	var hdr [frameHeader]byte
	if _, err := w.Write(appendHeader(hdr[:0], tag, len(payload))); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// newFrame returns the start of a frame of tag, with room for a payload
// of up to size bytes to be appended: a frame built in place, written at
// once with no copy into a buffer of its own (see sealFrame).
func newFrame(tag byte, size int) []byte {
	b := make([]byte, frameHeader, frameHeader+size)
	b[0] = tag
	return b
}

// sealFrame sets the length in the header of frame b, made by newFrame,
// to what follows the header, and returns b.
func sealFrame(b []byte) []byte {
	binary.BigEndian.PutUint64(b[1:frameHeader], uint64(len(b)-frameHeader))
	return b
}

// readFrame reads one frame. It refuses a header that announces more than
// maxPayload, and allocates the payload as it arrives, so that a header
// that announces more than is sent costs no more than what was sent.
func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF {
			return 0, nil, errNoFrame
		}
		return 0, nil, fmt.Errorf("reading a frame header: %w", err)
	}
	return readPayload(r, hdr)
}

// readPayload reads the payload of the frame whose header is hdr.
func readPayload(r io.Reader, hdr [frameHeader]byte) (byte, []byte, error) {
	n := binary.BigEndian.Uint64(hdr[1:])
	if n > maxPayload {
		return 0, nil, fmt.Errorf("frame %q of %d bytes: %w of %d bytes", hdr[0], n, errFrameTooLarge, maxPayload)
	}
	if n <= readChunk {
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return 0, nil, fmt.Errorf("reading frame %q of %d bytes: %w", hdr[0], n, eofIsUnexpected(err))
		}
		return hdr[0], payload, nil
	}
	var buf bytes.Buffer
	buf.Grow(readChunk)
	got, err := buf.ReadFrom(io.LimitReader(r, int64(n)))
	if err == nil && uint64(got) < n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return 0, nil, fmt.Errorf("reading frame %q of %d bytes, %d read: %w", hdr[0], n, got, err)
	}
	return hdr[0], buf.Bytes(), nil
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// expectFrame reads a frame and fails unless its tag is one of tags.
func expectFrame(r io.Reader, tags ...byte) (byte, []byte, error) {
	tag, payload, err := readFrame(r)
	if err != nil {
		return 0, nil, err
	}
	if bytes.IndexByte(tags, tag) < 0 {
		return 0, nil, fmt.Errorf("unexpected frame %q (%d bytes), want one of %q", tag, len(payload), tags)
	}
	return tag, payload, nil
}

// readRequest reads what the parent sends: the request and the parameter
// (nil when there is none).
func readRequest(r io.Reader) (*request, []byte, error) {
	b, rest, err := readRequestFrame(r)
	if err != nil {
		return nil, nil, err
	}
	req, err := decodeRequest(b)
	if err != nil {
		return nil, nil, fmt.Errorf("malformed request: %w", err)
	}
	tag, param, err := expectFrame(rest, tagParam, tagNoParam)
	if err != nil {
		return nil, nil, err
	}
	if tag == tagNoParam {
		if len(param) != 0 {
			return nil, nil, fmt.Errorf("malformed request: a frame of no parameter carries %d bytes", len(param))
		}
		param = nil
	}
	return req, param, nil
}

// readRequestFrame reads the request's frame and returns its payload and
// the reader of the parameter's frame. The parent writes both frames at
// once (see writeRequest), so a request of up to readChunk bytes is read
// with the parameter's header in one read rather than two; the reader
// returned then starts with what that read took of the next frame.
func readRequestFrame(r io.Reader) (payload []byte, rest io.Reader, err error) {
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF {
			return nil, nil, errNoFrame
		}
		return nil, nil, fmt.Errorf("reading a frame header: %w", err)
	}
	n := binary.BigEndian.Uint64(hdr[1:])
	if hdr[0] != tagRequest || n > readChunk {
		tag, payload, err := readPayload(r, hdr)
		if err == nil && tag != tagRequest {
			err = fmt.Errorf("unexpected frame %q (%d bytes), want one of %q", tag, len(payload), []byte{tagRequest})
		}
		return payload, r, err
	}
	buf := make([]byte, n+frameHeader)
	got, err := io.ReadFull(r, buf)
	if uint64(got) < n {
		return nil, nil, fmt.Errorf("reading frame %q of %d bytes: %w", hdr[0], n, eofIsUnexpected(err))
	}
	if uint64(got) == n {
		// Nothing of the next frame: reading it again says why.
		return buf[:n], r, nil
	}
	return buf[:n:n], io.MultiReader(bytes.NewReader(buf[n:got]), r), nil
}

// writeRequest writes the request and the parameter (none when paramSet
// is false).
func writeRequest(w io.Writer, req *request, param []byte, paramSet bool) error {
	enc := encodeRequest(req)
	tag := byte(tagParam)
	if !paramSet {
		tag, param = tagNoParam, nil
	}
	if len(enc)+len(param) <= readChunk {
		// Both frames in one write, as the child reads them (see
		// readRequest): one system call on each side, not two.
		b := make([]byte, 0, 2*frameHeader+len(enc)+len(param))
		b = appendFrame(b, tagRequest, enc)
		b = appendFrame(b, tag, param)
		_, err := w.Write(b)
		return err
	}
	if err := writeFrame(w, tagRequest, enc); err != nil {
		return err
	}
	return writeFrame(w, tag, param)
}

// appendFrame appends a frame of tag and payload to b.
func appendFrame(b []byte, tag byte, payload []byte) []byte {
	return append(appendHeader(b, tag, len(payload)), payload...)
}

// appendHeader appends the header of a frame of tag with a payload of n
// bytes to b.
func appendHeader(b []byte, tag byte, n int) []byte {
	return binary.BigEndian.AppendUint64(append(b, tag), uint64(n))
}

// A request's payload is binary, not JSON: the child decodes it first
// thing, and a cold JSON decoder costs it tens of microseconds of
// reflection on every call. Integers are unsigned varints of minimal
// length, a string is its length and its bytes, a list its length and its
// strings:
//
//	flags (one byte: reqStdin, reqForked, reqSameEnv), depth, name, args, env
const (
	reqStdin   = 1 << iota // request.Stdin
	reqForked              // request.Forked
	reqSameEnv             // request.SameEnv
)

// encodeRequest returns the payload of req's frame.
func encodeRequest(req *request) []byte {
	size := 1 + 3*binary.MaxVarintLen64 + len(req.Name)
	for _, list := range [][]string{req.Args, req.Env} {
		for _, s := range list {
			size += binary.MaxVarintLen64 + len(s)
		}
	}
	b := make([]byte, 1, size)
	if req.Stdin {
		b[0] |= reqStdin
	}
	if req.Forked {
		b[0] |= reqForked
	}
	if req.SameEnv {
		b[0] |= reqSameEnv
	}
	b = binary.AppendUvarint(b, uint64(req.Depth))
	b = appendString(b, req.Name)
	for _, list := range [][]string{req.Args, req.Env} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			b = appendString(b, s)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeRequest decodes a request's payload. Only the payload that
// encodeRequest makes of the result decodes: no unknown flag, no varint
// longer than it needs to be, nothing left over, and a name.
func decodeRequest(b []byte) (*request, error) {
	d := reqDecoder{b: b}
	if len(b) == 0 {
		return nil, errors.New("empty")
	}
	flags := b[0]
	if flags&^(reqStdin|reqForked|reqSameEnv) != 0 {
		return nil, fmt.Errorf("unknown flags %#x", flags)
	}
	d.b = b[1:]
	req := &request{Stdin: flags&reqStdin != 0, Forked: flags&reqForked != 0, SameEnv: flags&reqSameEnv != 0}
	depth := d.uvarint("depth")
	if depth > MaxDepth {
		return nil, fmt.Errorf("depth %d over %d", depth, MaxDepth)
	}
	req.Depth = int(depth)
	req.Name = d.string("name")
	req.Args = d.list("args")
	req.Env = d.list("env")
	switch {
	case d.err != nil:
		return nil, d.err
	case len(d.b) > 0:
		return nil, fmt.Errorf("%d bytes after the request", len(d.b))
	case req.Name == "":
		return nil, errors.New("no action name")
	case req.SameEnv && (!req.Forked || len(req.Env) > 0):
		return nil, errors.New("the same environment, but not forked or with one")
	}
	return req, nil
}

// reqDecoder reads a request's fields from b, keeping the first error.
type reqDecoder struct {
	b   []byte
	err error
}

func (d *reqDecoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	var min [binary.MaxVarintLen64]byte
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != binary.PutUvarint(min[:], v) {
		d.err = fmt.Errorf("%s: not a minimal varint", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *reqDecoder) string(what string) string {
	n := d.uvarint(what)
	if d.err == nil && n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%s: %d bytes announced, %d left", what, n, len(d.b))
	}
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// list reads a list; every string takes at least a byte, so a count over
// what is left fails before it allocates.
func (d *reqDecoder) list(what string) []string {
	n := d.uvarint(what)
	if d.err == nil && n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%s: %d strings announced, %d bytes left", what, n, len(d.b))
	}
	if d.err != nil || n == 0 {
		return nil
	}
	list := make([]string, n)
	for i := range list {
		list[i] = d.string(what)
	}
	return list
}
