package nsexec

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Namespace names a namespace file for the program to join.
type Namespace struct {
	// Type is one of cgroup, ipc, mnt, net, pid, time, user, uts. A "!"
	// in front ("!mnt") opens Path before the first switch rather than
	// right before this type's own, which matters for paths that a
	// mount namespace switch would resolve differently.
	Type string
	// Path is a namespace file, such as /proc/42/ns/net, or a bind
	// mount of one.
	Path string
}

// Target names a process whose namespaces the program joins.
type Target struct {
	// PID is the process's ID.
	PID int
	// Pidfd, if not nil, is a pidfd of PID (pidfd_open(2)) that the
	// caller opened, for instance when it started the process; the
	// program joins that process's namespaces or none. Without it,
	// Start opens one.
	Pidfd *os.File
	// Types are the types to join; nil joins every type whose namespace
	// differs from the caller's, as nsenter -a does.
	Types []string
}

// Credential is what the program runs as, in the user namespace joined:
// as [syscall.Credential], the supplementary groups are set to Groups
// (none when empty) unless NoSetGroups, then the group and user IDs.
type Credential struct {
	Uid, Gid    uint32
	Groups      []uint32
	NoSetGroups bool
}

// Cmd is a program to run in other namespaces. Its fields before
// Namespaces behave as those of [exec.Cmd]; set them before Start.
type Cmd struct {
	// Path is the program: looked up, when it holds no slash, in the
	// PATH of Env, after the namespaces are joined (see the package
	// documentation), unless HostBinary.
	Path string
	// Args holds the program's arguments, Args[0] included; empty means
	// {Path}.
	Args []string
	// Env is the program's environment, exactly, but for gons_* and
	// GONS_* entries, which are dropped; nil means the caller's.
	Env []string
	// Dir is the working directory, resolved once the namespaces are
	// joined (in the mount namespace joined, and under Root); "" keeps
	// the caller's, or the root of a mount namespace joined.
	Dir string

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// ExtraFiles are the program's descriptors from 3 on, as in
	// exec.Cmd; nothing else is passed on.
	ExtraFiles []*os.File

	// Process is the program's process, or, when a PID namespace is
	// joined with a fork, the relay that waits for it.
	Process      *os.Process
	ProcessState *os.ProcessState

	// Cancel and WaitDelay act as in exec.Cmd, for a Cmd made by
	// CommandContext. Cancel kills the relay too, when there is one,
	// and the program with it.
	Cancel    func() error
	WaitDelay time.Duration

	// Namespaces are joined in their order; see Namespace.
	Namespaces []Namespace
	// Target, instead of Namespaces, joins the namespaces of a process.
	Target *Target
	// Root is a directory to chroot(2) to, resolved in the mount
	// namespace joined; the working directory then defaults to it.
	Root string
	// Credential, if not nil, is taken last; nil keeps the caller's
	// (nsenter --preserve-credentials).
	Credential *Credential
	// NoFork joins a PID namespace without the fork: the program stays
	// outside it and only its children are in it (nsenter -F). By
	// default the program runs in a child inside it, and Process is a
	// relay that passes on signals and ends as the program ends.
	NoFork bool
	// HostBinary runs Path as the caller sees it, looked up in the
	// caller's PATH and opened before joining, through its descriptor;
	// see the package documentation for what that exposes.
	HostBinary bool

	ctx      context.Context
	wait     func() error // set by a successful Start
	fork     *forked      // the child, when the fork server or the direct start started it
	direct   bool         // the direct start started it
	started  bool
	finished bool
}

// Command returns a Cmd to run the program name with args, as
// exec.Command does; set its namespaces before Start.
func Command(name string, args ...string) *Cmd {
	return &Cmd{Path: name, Args: append([]string{name}, args...)}
}

// CommandContext is Command with a context: when ctx is done before the
// program ends, Cancel is called, which by default kills the process.
func CommandContext(ctx context.Context, name string, args ...string) *Cmd {
	if ctx == nil {
		panic("nsexec: nil Context")
	}
	c := Command(name, args...)
	c.ctx = ctx
	c.Cancel = func() error { return c.Process.Kill() }
	return c
}

// String returns the program and its arguments, for messages.
func (c *Cmd) String() string {
	return strings.Join(append([]string{c.Path}, c.argv()[1:]...), " ")
}

func (c *Cmd) argv() []string {
	if len(c.Args) == 0 {
		return []string{c.Path}
	}
	return c.Args
}

// Wait waits for the program to end, and for the copying of its standard
// streams, as exec.Cmd.Wait does.
func (c *Cmd) Wait() error {
	if c.wait == nil {
		return errors.New("nsexec: not started")
	}
	if c.finished {
		return errors.New("nsexec: Wait was already called")
	}
	c.finished = true
	return c.wait()
}

// Run starts the program and waits for it to end.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Output runs the program and returns its standard output; when Stderr
// is nil, an *exec.ExitError holds what it wrote there, as in exec.Cmd.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("nsexec: Stdout already set")
	}
	var out bytes.Buffer
	c.Stdout = &out
	var errOut *bytes.Buffer
	if c.Stderr == nil {
		errOut = &bytes.Buffer{}
		c.Stderr = errOut
	}
	err := c.Run()
	var ee *exec.ExitError
	if err != nil && errOut != nil && errors.As(err, &ee) {
		ee.Stderr = errOut.Bytes()
	}
	return out.Bytes(), err
}

// CombinedOutput runs the program and returns its standard output and
// error, interleaved.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil || c.Stderr != nil {
		return nil, errors.New("nsexec: Stdout or Stderr already set")
	}
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	err := c.Run()
	return b.Bytes(), err
}
