package reexec

import "time"

// SetFrameLimits sets the largest payload a frame may announce and how
// long a frame may stall half-way, until the test ends.
func SetFrameLimits(t interface{ Cleanup(func()) }, max uint64, stallFor time.Duration) {
	oldMax, oldStall := maxPayload, stall
	maxPayload, stall = max, stallFor
	t.Cleanup(func() { maxPayload, stall = oldMax, oldStall })
}

// Starters returns the number of starter goroutines, which never end.
func Starters() int {
	starters.mu.Lock()
	defer starters.mu.Unlock()
	return starters.n
}
