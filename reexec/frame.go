package reexec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The protocol socket carries one frame each way: the parent sends the
// parameter, the child answers with its outcome. A frame is a tag byte, the
// payload's length as a big-endian uint64, and the payload.
const (
	tagParam   = 'P' // parent: JSON parameter
	tagNoParam = 'N' // parent: no parameter
	tagResult  = 'R' // child: JSON result of a typed action
	tagDone    = 'D' // child: a plain action returned
	tagError   = 'E' // child: JSON wireError
)

// maxPayload bounds what a frame may announce, so that a corrupt header
// cannot make the reader allocate without limit.
const maxPayload = 1 << 30

func writeFrame(w io.Writer, tag byte, payload []byte) error {
	var hdr [9]byte
	hdr[0] = tag
	binary.BigEndian.PutUint64(hdr[1:], uint64(len(payload)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// errNoFrame means the peer closed the socket without sending a frame.
var errNoFrame = errors.New("the child ended without reporting an outcome (an action that calls os.Exit, or a program that does not call CheckAction first)")

func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [9]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF {
			return 0, nil, errNoFrame
		}
		return 0, nil, fmt.Errorf("reading frame header: %w", err)
	}
	n := binary.BigEndian.Uint64(hdr[1:])
	if n > maxPayload {
		return 0, nil, fmt.Errorf("frame of %d bytes exceeds the limit of %d", n, maxPayload)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("reading frame of %d bytes: %w", n, err)
	}
	return hdr[0], payload, nil
}
