// Package hook lets package reexec/cover adjust what package reexec gives
// its children, without an exported API in reexec.
package hook

import (
	"os"
	"sync/atomic"
)

// Func receives the environment of a child about to be started, whether
// that child joins another mount namespace, and the descriptor number the
// first file it returns will have in the child. It returns the
// environment to use and files to pass to the child.
type Func func(env []string, mnt bool, nextFD int) ([]string, []*os.File)

// Child, when set, is called for every child.
var Child atomic.Pointer[Func]

// Apply runs the hook, if one is set.
func Apply(env []string, mnt bool, nextFD int) ([]string, []*os.File) {
	if f := Child.Load(); f != nil {
		return (*f)(env, mnt, nextFD)
	}
	return env, nil
}
