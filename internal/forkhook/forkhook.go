// Package forkhook carries the fork server's entry points from package
// reexec/forkserver, which sets them in its initialisation, to package
// nsexec, which starts its children through the server when the program
// has one. A package of its own, not internal/handoff, which every
// program that imports status links: these pull in package context. It is
// not part of the API.
package forkhook

import "context"

// SpawnExec asks the fork server for a child that executes a program, as
// reexec/internal/spawn.SpawnExec; nil: the program has no server.
var SpawnExec func(ctx context.Context, req *ExecRequest) (pid, pidfd int, err error)

// ServerPID returns the fork server's PID, or 0 once it is gone.
var ServerPID func() int

// InheritsAsExec reports whether a child of the fork server, of the PID
// given, would inherit what a child exec'd from the calling thread would:
// package reexec's check, which it sets when the server is enabled.
var InheritsAsExec func(server int) bool

// ExecRequest is a child that executes a program: its gons_* variables
// and nsexec's marker (Vars), the program's name, Args and Env, its
// descriptors 0, 1, 2 and on (FDs), and a descriptor of the working
// directory it starts in (Dir). Share says that the child forks nothing
// before it executes the program (it enters no PID namespace), so that the
// server may clone it sharing its memory, as vfork(2) does.
type ExecRequest struct {
	Vars  []string
	Name  string
	Args  []string
	Env   []string
	FDs   []int
	Dir   int
	Share bool
}
