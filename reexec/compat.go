package reexec

import (
	"context"
	"errors"
	"os/exec"
)

// The call sites of moby/sys/reexec and containers/storage/pkg/reexec
// that need only their import path changed: Register is the same, Init
// and CommandContext are below.

// Init is [CheckAction] in the form of moby/sys/reexec's and
// containers/storage/pkg/reexec's Init, whose callers write
//
//	if reexec.Init() {
//		return
//	}
//
// first thing in main. In a child it runs the action and exits the
// process, so it never returns true; in any other process it returns
// false.
func Init() bool {
	CheckAction()
	return false
}

// CommandContext prepares the action registered under args[0] to run with
// the arguments args[1:], as [Command] does with no options: the form of
// moby/sys/reexec's CommandContext (and, with [context.Background], of its
// Command), whose args[0] is the action's name. Unlike there, the child's
// os.Args[0] stays the program's path, its os.Args[1:] are args[1:], and
// the result is a [*Cmd], which embeds the [*exec.Cmd]: set its fields as
// there, and call Start, Run, Output or Wait on it. Without args, Start
// returns an [*Error] with Op "option".
func CommandContext(ctx context.Context, args ...string) *Cmd {
	if len(args) == 0 {
		err := &Error{Op: "option", Err: errors.New("CommandContext: no arguments: args[0] names the action")}
		return &Cmd{Cmd: &exec.Cmd{Path: "/proc/self/exe", Err: err}, err: err}
	}
	return Command(ctx, args[0], args[1:])
}
