// Package status reports what package [github.com/gonsproject/gons/early]
// did before the Go runtime started: whether its constructor ran, which
// namespaces the process joined, and, if something went wrong, a structured
// error that says which step failed, for which namespace type and path, and
// with which errno.
//
// status is pure Go: it needs no cgo and no fmt, so libraries that must
// build with CGO_ENABLED=0 can import it. The constructor in early hands
// its record over through a hook defined here; nothing else can set it.
//
// A program that accepts gons_* variables checks the outcome first thing:
//
//	import (
//		_ "github.com/gonsproject/gons/early"
//		"github.com/gonsproject/gons/status"
//	)
//
//	func main() {
//		if err := status.Err(); err != nil {
//			log.Fatal(err) // e.g. gons: setns mnt "/proc/42/ns/mnt": operation not permitted
//		}
//		log.Printf("joined %v", status.Joined())
//	}
//
// An [Error] unwraps to a [syscall.Errno] for system-call failures, so
// errors.Is(err, syscall.EPERM) works, and to one of the sentinel errors of
// this package for input that the constructor refused to act on.
package status
