//go:build cgo

package nsexec

import _ "github.com/gonsproject/gons/reexec/forkserver" // the fast path, tested next to exec

// SetExecOnly makes every Start exec (true) or lets the fork server start
// children where it can (false).
func SetExecOnly(on bool) { execOnly = on }

// Forked reports whether the fork server started c's child.
func Forked(c *Cmd) bool { return c.fork != nil }

// Forkable reports whether a Start now could go through the fork server.
func Forkable() bool { return forkable() }
