package reexec

// Package preinit holds the constructor that does the switching in the
// child, before its Go runtime starts. Linking it in here makes every
// program that uses reexec able to start children that switch, without an
// import of its own; the program itself is steered by gons_* variables
// only if it imports package early too. Without cgo or off Linux there is
// no constructor, and a child tells package status why, so a run with
// Namespaces fails with an error that says so.
import _ "github.com/gonsproject/gons/internal/preinit"
