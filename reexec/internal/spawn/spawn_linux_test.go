package spawn

import (
	"errors"
	"testing"
)

// The caller falls back to exec on ErrUnavailable, and gives the exec'd
// child a new socket on ErrAbandoned: the one must wrap the other.
func TestErrAbandonedWrapsUnavailable(t *testing.T) {
	if !errors.Is(ErrAbandoned, ErrUnavailable) {
		t.Fatalf("errors.Is(ErrAbandoned, ErrUnavailable) = false")
	}
	if errors.Is(ErrUnavailable, ErrAbandoned) {
		t.Fatalf("errors.Is(ErrUnavailable, ErrAbandoned) = true")
	}
	const want = "no fork server: it took a request and did not answer"
	if got := ErrAbandoned.Error(); got != want {
		t.Fatalf("ErrAbandoned.Error() = %q, want %q", got, want)
	}
}
