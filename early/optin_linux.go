//go:build cgo

package early

// Compiles optin_linux.c into the program.

import "C"
