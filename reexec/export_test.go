package reexec

import "time"

// SetFrameLimits sets the largest payload a frame may announce and how
// long a frame may stall half-way, until the test ends.
func SetFrameLimits(t interface{ Cleanup(func()) }, max uint64, stallFor time.Duration) {
	oldMax, oldStall := maxPayload, stall
	maxPayload, stall = max, stallFor
	t.Cleanup(func() { maxPayload, stall = oldMax, oldStall })
}
