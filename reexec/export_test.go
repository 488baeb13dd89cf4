package reexec

import "time"

// SetFrameLimits sets the largest payload a frame may announce and how
// long a frame may stall half-way, until the test ends.
func SetFrameLimits(t interface{ Cleanup(func()) }, max uint64, stallFor time.Duration) {
	oldMax, oldStall := maxPayload, stall
	maxPayload, stall = max, stallFor
	t.Cleanup(func() { maxPayload, stall = oldMax, oldStall })
}

// Background returns how many children of ResultFirst runs are being
// reaped in the background.
func Background() int {
	background.mu.Lock()
	defer background.mu.Unlock()
	return background.n
}
