// Package cause holds the error under status.Error.Err: a message and the
// error it wraps. It is a package of its own so that the documentation of
// status's sentinels, which are values of this type, names nothing
// unexported.
package cause

// Error is a message and the sentinel or errno it wraps. One small type
// with two methods keeps what a program that checks status.Err links in
// small.
type Error struct {
	_    [0]func() // not comparable: spares the equality function
	Msg  string
	Wrap error // a sentinel, an errno, or nil
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel or errno e wraps.
func (e *Error) Unwrap() error { return e.Wrap }
