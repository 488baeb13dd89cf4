// Package preinit holds the C constructor that joins namespaces named by
// gons_* variables before the Go runtime starts, and the Go shim that
// hands its record to package status. Package early imports it and opts
// the program in (only then do gons_* variables steer the program);
// package reexec imports it for its children, which it marks with
// GONS_REEXEC_FD. gons.h says which C file does which step. It is not part
// of the API.
package preinit
