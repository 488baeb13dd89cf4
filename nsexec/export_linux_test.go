//go:build cgo

package nsexec

import (
	_ "github.com/gonsproject/gons/reexec/forkserver" // the fast path, tested next to exec

	"github.com/gonsproject/gons/internal/nsroute"
)

// SetExecOnly makes every Start exec (true) or lets the fork server start
// children where it can (false).
func SetExecOnly(on bool) { execOnly = on }

// SetNoDirect keeps every Start off the direct route (true), or lets it
// take it where it applies (false).
func SetNoDirect(on bool) { nsroute.NoDirect.Store(on) }

// SetForceDirect makes the direct start take what it declines (true).
func SetForceDirect(on bool) { forceDirect = on }

// Forked reports whether the fork server started c's child.
func Forked(c *Cmd) bool { return c.fork != nil && !c.direct }

// Route returns how c's child was started: "direct", "forkserver" or "exec".
func Route(c *Cmd) string {
	switch {
	case c.direct:
		return "direct"
	case c.fork != nil:
		return "forkserver"
	}
	return "exec"
}

// DirectApplies reports whether c's Start tries the direct route first.
func DirectApplies(c *Cmd) bool {
	_, ok := c.directRoute()
	return ok
}

// Forkable reports whether a Start now could go through the fork server.
func Forkable() bool { return forkable() }
