package reexec

// ExecOnly makes every call of the test exec its child, bypassing the fork
// server, until the test ends.
func ExecOnly(t interface{ Cleanup(func()) }) {
	old := execOnly.Swap(true)
	t.Cleanup(func() { execOnly.Store(old) })
}

// Starters returns the number of starter goroutines, which never end.
func Starters() int {
	starters.mu.Lock()
	defer starters.mu.Unlock()
	return starters.n
}
