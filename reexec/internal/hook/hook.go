// Package hook lets package reexec/cover adjust the environment that
// package reexec gives its children, without an exported API in reexec.
package hook

import "sync/atomic"

// ChildEnv, when set, receives the environment of a child about to be
// started and whether that child joins another mount namespace, and
// returns the environment to use.
var ChildEnv atomic.Pointer[func(env []string, mnt bool) []string]

// Apply runs the hook on env, if one is set.
func Apply(env []string, mnt bool) []string {
	if f := ChildEnv.Load(); f != nil {
		return (*f)(env, mnt)
	}
	return env
}
