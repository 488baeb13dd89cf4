package reexec

// finish waits for the child and returns its result, as c.wait does; with
// ResultFirst, where it applies, it returns once a successful result has
// arrived and leaves the rest of c.wait to a goroutine.
func (c *child) finish(stdout *resultWriter, o *options) ([]byte, error) {
	if !o.resultFirst || c.plain || stdout != nil || o.stdout != nil || o.stderr != nil || !acquireBackground() {
		return c.wait(stdout)
	}
	type waited struct {
		result []byte
		err    error
	}
	done := make(chan waited, 1)
	go func() {
		result, err := c.wait(nil)
		done <- waited{result, err}
		releaseBackground()
	}()
	outcome := make(chan struct{})
	go func() {
		c.io.Wait()
		close(outcome)
	}()
	var w waited
	select {
	case <-outcome:
		// The reader has ended; what it read is c's to read now.
		if c.ferr == nil && c.tag == tagResult && !c.broken.Load() {
			return c.payload, nil
		}
		w = <-done
	case w = <-done:
		// The child ended first: that error, or that result.
	}
	return w.result, w.err
}
