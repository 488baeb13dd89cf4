package reexec

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
)

// Cmd is an action prepared to run in a child as a command, as
// [exec.Cmd] runs a program: with arguments, the standard input, output
// and error of the caller's choosing, and Start and Wait. The embedded
// [exec.Cmd] gives Stdin, Stdout, Stderr, the pipe methods, Process and
// ProcessState; set them before Start. Leave Path, Args, Env, ExtraFiles
// and SysProcAttr as they are (the options of this package set what
// goes there), and call Start, Wait, Run, Output and CombinedOutput on the
// Cmd, not on the embedded exec.Cmd: those of the embedded exec.Cmd fail
// at once with [ErrEmbeddedStart] (through its Err field), where they
// would start a child that never learns what to run, and the Cmd is spent
// (exec.Cmd starts once).
type Cmd struct {
	*exec.Cmd
	c        *child
	name     string
	stdout   io.Writer // the Stdout option, for Start to set
	stderr   io.Writer // the Stderr option, for Start to set
	err      error     // of the preparation: Start and Wait return it
	started  bool
	startErr error // of Start: Wait returns it
}

// Command prepares the action registered under name to run in a
// re-executed copy of the program, as [RunReexecActionContext] does, but
// as a command: it sees args as os.Args[1:] (os.Args[0] stays the
// program's), its standard input, output and error are the Cmd's (by
// default: /dev/null, discarded, and only the end kept for the error),
// and nothing but its exit decides the outcome. The options are those of
// [RunReexecActionContext], except [Result]; [Param] is there for
// [DecodeParam] only, it is not the standard input.
//
// When ctx is done before the child ends, the child is killed and Wait
// returns an [*Error] that wraps ctx.Err(). The child dies with the
// program; when Start is called from a goroutine locked to its thread
// ([runtime.LockOSThread]), the child starts from that thread and dies
// when it ends (see Lifecycle in the package documentation).
//
// A mistake in the call or the options is not reported here but by Start
// (and Run, Output, CombinedOutput) as an [*Error], Op "option": so is a
// stream given twice, by the [Stdout] or [Stderr] option and by the Cmd's
// field of that name (or Output, CombinedOutput, a pipe method). Like the pipes of an
// exec.Cmd, what the child is to inherit is opened here: the protocol
// socket and, with [Target], the pidfd that pins the process from this
// call on. Start, or the garbage collector, closes them.
func Command(ctx context.Context, name string, args []string, opts ...Option) *Cmd {
	o, err := collect(name, opts)
	if err == nil && o.result != nil {
		err = &Error{Action: name, Op: "option", Err: errors.New("the Result option is not for Command: its output is the caller's")}
	}
	var c *child
	if err == nil {
		c, err = newChild(ctx, name, o, append([]string(nil), args...))
	}
	if err != nil {
		return &Cmd{Cmd: &exec.Cmd{Path: "/proc/self/exe", Err: err}, err: err}
	}
	// The embedded exec.Cmd's own Start returns Err at once; Start
	// clears it.
	c.cmd.Err = ErrEmbeddedStart
	return &Cmd{Cmd: c.cmd, c: c, name: name, stdout: o.stdout, stderr: o.stderr}
}

// Start starts the child and does not wait for it to end.
func (c *Cmd) Start() error {
	if c.err != nil {
		return c.err
	}
	if c.started {
		return errors.New("reexec: Cmd already started")
	}
	c.started = true
	c.Cmd.Err = nil
	if err := c.streams(); err != nil {
		// The embedded exec.Cmd, started with the error, closes the
		// pipes that its methods opened, and returns the error, as it
		// does from now on.
		c.c.abandon()
		c.Cmd.Err = err
		c.startErr = c.Cmd.Start()
		return c.startErr
	}
	c.startErr = c.c.start()
	return c.startErr
}

// streams sets the standard output and error from the options, refusing
// a stream that the caller also set through the field: which of the two
// was meant is not for Start to guess.
func (c *Cmd) streams() error {
	for _, s := range []struct {
		name  string
		opt   io.Writer
		field *io.Writer
	}{{"Stdout", c.stdout, &c.Cmd.Stdout}, {"Stderr", c.stderr, &c.Cmd.Stderr}} {
		if s.opt != nil && *s.field != nil {
			return &Error{Action: c.name, Op: "option", Err: errors.New("the " + s.name + " option and the Cmd's " + s.name + " are both set; set one")}
		}
	}
	if c.stdout != nil {
		c.Cmd.Stdout = c.stdout
	}
	switch {
	case c.stderr != nil:
		c.Cmd.Stderr = io.MultiWriter(c.c.stderr, c.stderr) // as the option says: the tail kept too
	case c.Cmd.Stderr == nil:
		c.Cmd.Stderr = c.c.stderr
	}
	return nil
}

// Wait waits for the child to end, and for the copying to and from its
// standard input, output and error. Its error, if any, is an [*Error]:
// Op "exit" when the action exited unsuccessfully, "switch" when the
// child could not join its namespaces, and so on.
func (c *Cmd) Wait() error {
	if c.err != nil {
		return c.err
	}
	if !c.started {
		return errors.New("reexec: Cmd not started")
	}
	if c.startErr != nil {
		return c.startErr
	}
	_, err := c.c.wait(nil)
	return err
}

// Run starts the child and waits for it to end.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Output runs the child and returns its standard output.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("reexec: Stdout already set")
	}
	var b bytes.Buffer
	c.Stdout = &b
	err := c.Run()
	return b.Bytes(), err
}

// CombinedOutput runs the child and returns its standard output and
// standard error, interleaved.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil || c.Stderr != nil {
		return nil, errors.New("reexec: Stdout or Stderr already set")
	}
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	err := c.Run()
	return b.Bytes(), err
}
