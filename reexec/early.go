package reexec

// Package early does the switching in the child, before its Go runtime
// starts. Linking it in here makes every program that uses reexec able to
// switch without an import of its own. Without cgo or off Linux it has no
// constructor and tells package status why, so a run with Namespaces fails
// with an error that says so.
import _ "github.com/gonsproject/gons/early"
