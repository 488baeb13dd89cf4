package reexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
	"time"
)

// envFD names the descriptor of the protocol socket in the child: the only
// variable reexec passes. It is deliberately not lowercase gons_*: package
// early owns that prefix and rejects names it does not know.
const envFD = "GONS_REEXEC_FD"

// childFD is the descriptor number of the protocol socket in the child:
// the first of exec.Cmd.ExtraFiles.
const childFD = 3

var (
	regMu    sync.RWMutex
	registry = map[string]*entry{}
)

// entry is a registered action: either a plain func() whose standard
// output is its result, or a typed function behind run.
type entry struct {
	plain func()
	// run decodes the parameter (nil: none was given), calls the typed
	// function and returns its encoded result.
	run func(param []byte) ([]byte, error)
	// pc and rc are the codecs of a typed function's parameter and
	// result, if plain, and rt the result's type (see decodeResult).
	pc, rc *codec
	rt     reflect.Type
	// serve, in the entry of a standing child alone, takes over the
	// protocol socket and returns the exit status (see standing.go).
	serve func(conn *os.File) int
}

func register(name string, a *entry) {
	if name == "" {
		panic("reexec: action registered with an empty name")
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("reexec: action %q registered twice", name))
	}
	registry[name] = a
}

func lookup(name string) *entry {
	regMu.RLock()
	defer regMu.RUnlock()
	return registry[name]
}

// Register registers action under name, to be run in a child by
// [RunReexecAction]. Call it from an init function, so that the
// re-executed program knows the action before [CheckAction] looks for it.
// It panics if name is empty or already taken.
//
// Whatever the action writes to standard output is its result: the parent
// decodes it as JSON into the [Result] target, if there is one. The action
// reads its parameter, if any, with [DecodeParam]. To fail, the action
// writes to standard error and calls [os.Exit] with a non-zero status.
// [RegisterFunc] registers actions that return a typed result or an error
// over a channel of their own instead.
func Register(name string, action func()) {
	if action == nil {
		panic(fmt.Sprintf("reexec: action %q registered as nil", name))
	}
	register(name, &entry{plain: action})
}

// Func is a typed action registered with [RegisterFunc]. Its [Func.Run]
// method runs it in a child.
type Func[P, R any] struct {
	name string
	a    *entry // its registry entry, with the codecs of P and R
}

// RegisterFunc registers fn under name and returns the handle to run it
// with. Call it from an init function or a package-level variable
// declaration; it panics if name is empty or already taken.
//
// The parameter and the result travel as JSON over a socket of their own,
// so fn may print, log or run libraries that write to standard output
// without corrupting them; those of a plain type travel in a compact
// form that decodes to the same value (see "Two kinds of actions" in the
// package documentation). The parameter is decoded strictly: unknown
// fields are an error. An error returned by fn comes back to the parent
// with its message, and with its [syscall.Errno], if it wraps one, so
// that errors.Is works across the process boundary.
func RegisterFunc[P, R any](name string, fn func(P) (R, error)) *Func[P, R] {
	if fn == nil {
		panic(fmt.Sprintf("reexec: action %q registered as nil", name))
	}
	rt := reflect.TypeFor[R]()
	a := &entry{pc: plainCodec(reflect.TypeFor[P]()), rc: plainCodec(rt), rt: rt}
	a.run = func(param []byte) ([]byte, error) {
		var p P
		if param != nil {
			if err := decodeValue(a.pc, param, &p); err != nil {
				return nil, &wireErr{kind: kindParam, err: err}
			}
		}
		r, err := fn(p)
		if err != nil {
			return nil, err
		}
		b, err := encodeValue(a.rc, r)
		if err != nil {
			return nil, &wireErr{kind: kindResult, err: err}
		}
		return b, nil
	}
	register(name, a)
	return &Func[P, R]{name: name, a: a}
}

// codecs returns the codecs of P and R, if plain; none for a Func that
// RegisterFunc did not make.
func (f *Func[P, R]) codecs() (pc, rc *codec) {
	if f.a == nil {
		return nil, nil
	}
	return f.a.pc, f.a.rc
}

// Name returns the name the action was registered under.
func (f *Func[P, R]) Name() string { return f.name }

// Run runs the action in a child, inside the namespaces given by the
// [Namespaces] option, if any, and returns its result. Options [Param] and
// [Result] are not allowed here: param and the return value take their
// place.
func (f *Func[P, R]) Run(ctx context.Context, param P, opts ...Option) (R, error) {
	var r R
	o, err := collect(f.name, opts)
	if err != nil {
		return r, err
	}
	if o.paramSet || o.result != nil {
		return r, &Error{Action: f.name, Op: "option", Err: errors.New("the Param and Result options are not for Func.Run")}
	}
	o.param, o.paramSet, o.result = param, true, &r
	o.pc, o.rc = f.codecs()
	if done, err := inProcess(ctx, f.name, o); done {
		return r, err
	}
	// Not "return r, run(...)": the order in which r is read and run
	// writes it would be unspecified.
	err = run(ctx, f.name, o)
	return r, err
}

// Namespace names a namespace for the child to join before its Go runtime
// starts.
type Namespace struct {
	// Type is one of cgroup, ipc, mnt, net, pid, time, user, uts. A "!"
	// in front of it ("!mnt") opens Path before the first switch instead
	// of right before this type's own switch; this matters for paths
	// that a mount namespace switch would resolve differently.
	Type string
	// Path is a namespace file, such as /proc/42/ns/net, or a bind mount
	// of one.
	Path string
}

// Option configures a run of an action. The functions of this package
// make them.
type Option interface {
	apply(*options) error
}

// optionFunc is an Option.
type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

type options struct {
	namespaces  []Namespace
	target      int      // PID whose namespaces to join; 0: none
	targetNS    []string // the types to join of the target; nil: all
	root, dir   string   // gons_root, gons_wd; "": unset
	uid, gid    int      // gons_uid, gons_gid; -1: unset
	param       any
	paramSet    bool
	result      any
	env         []string
	stdout      io.Writer
	stderr      io.Writer
	inProcess   bool          // InProcess: run a typed action through nsthread where it can
	idle        time.Duration // IdleTimeout, for Start alone
	resultFirst bool          // ResultFirst
	pc, rc      *codec        // of a Func's parameter and result, if plain
}

func collect(name string, opts []Option) (*options, error) {
	o := &options{uid: -1, gid: -1}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			return nil, &Error{Action: name, Op: "option", Err: err}
		}
	}
	if o.idle != 0 && name != standingName {
		return nil, &Error{Action: name, Op: "option", Err: errors.New("IdleTimeout is an option of Start alone")}
	}
	return o, nil
}

// Namespaces makes the child join the namespaces, switching in the order
// given. Without it, or with an empty list, the child stays in the
// namespaces of the parent, even if the parent itself was started with
// gons_* variables.
func Namespaces(ns []Namespace) Option {
	return optionFunc(func(o *options) error {
		o.namespaces = append([]Namespace(nil), ns...)
		return nil
	})
}

// Target makes the child join the namespaces of process pid: those of the
// given types, or all of them, where they differ from the parent's. A type
// may carry a "!" in front, as [Namespace.Type] does; it changes nothing
// here, since the namespaces of a process are all opened at once.
//
// Target opens a pidfd of the process ([pidfd_open(2)], Linux 5.3) when
// the run is called (for [Command], when Command is called) and hands it
// to the child (gons_target_fd), whose constructor joins through that
// pidfd, with the PID (gons_target) as a check: the child joins the
// process named at the call or none. If that process ended before the
// child started, the child refuses with ESRCH, even if its PID now
// belongs to another process. Package early joins the
// namespaces all at once through the pidfd where the kernel allows it
// (Linux 5.8), so a process that exits meanwhile is never half joined.
// Target needs pidfd_open(2): on kernels before Linux 5.3 the run fails
// with ENOSYS. It cannot be combined with [Namespaces].
//
// [pidfd_open(2)]: https://man7.org/linux/man-pages/man2/pidfd_open.2.html
func Target(pid int, types ...string) Option {
	return optionFunc(func(o *options) error {
		if pid <= 0 {
			return fmt.Errorf("Target: %d is not a process ID", pid)
		}
		o.target, o.targetNS = pid, append([]string(nil), types...)
		return nil
	})
}

// Root makes the child chroot(2) to dir once it joined its namespaces
// (gons_root), in the mount namespace joined, and, unless [Dir] says
// otherwise, change its working directory to the new root.
func Root(dir string) Option {
	return optionFunc(func(o *options) error {
		if dir == "" {
			return errors.New("Root: empty path")
		}
		o.root = dir
		return nil
	})
}

// Dir makes the child change its working directory to dir once it joined
// its namespaces (gons_wd), resolved in the mount namespace joined and
// under the [Root], if one is given. A relative dir is resolved from the
// root's "/" with Root, never from outside it; without, from the working
// directory the child inherits, which a mount namespace switch sets to
// that namespace's root.
func Dir(dir string) Option {
	return optionFunc(func(o *options) error {
		if dir == "" {
			return errors.New("Dir: empty path")
		}
		o.dir = dir
		return nil
	})
}

// Credential makes the child drop its supplementary groups and take group
// ID gid and user ID uid (gons_gid, gons_uid), as seen in the user
// namespace joined, after its namespace switches and [Root] and [Dir]. A
// negative ID leaves that one as it is. A failure comes back as an
// [*Error] with Op "switch" that wraps a [*status.Error] with Op
// "setgroups", "setgid" or "setuid": the action never runs with the
// privileges it was to drop.
func Credential(uid, gid int) Option {
	return optionFunc(func(o *options) error {
		// (uid_t)-1 means "no change" to the kernel. int64: an int has 32
		// bits on 386, arm and mips, where every int is a valid ID.
		const maxID int64 = 1<<32 - 2
		if int64(uid) > maxID || int64(gid) > maxID {
			return fmt.Errorf("Credential: uid %d, gid %d: IDs go up to %d", uid, gid, maxID)
		}
		o.uid, o.gid = uid, gid
		return nil
	})
}

// Param passes v, encoded as JSON, to the action. A plain action decodes
// it with [DecodeParam] or reads it from its standard input, as actions
// of thediveo/gons do (except when started by [Command], whose standard
// input is the caller's choice); a typed one receives it as its
// parameter.
func Param(v any) Option {
	return optionFunc(func(o *options) error {
		o.param, o.paramSet = v, true
		return nil
	})
}

// Result decodes the action's result into v, which must be a pointer, or
// nil for no result. For a plain action the result is its standard
// output, for a typed one the value it returned. Decoding is strict:
// unknown fields and trailing data are errors.
//
// A plain action that has printed a complete JSON value and then neither
// returns nor prints more for [ResultGrace] is killed, and what it printed
// is its result, as thediveo/gons does.
func Result(v any) Option {
	return optionFunc(func(o *options) error {
		o.result = v
		return nil
	})
}

// Environment adds variables, in "key=value" form, to the child's
// environment, which is otherwise the parent's. Variables that start with
// gons_ or GONS_REEXEC_ are refused: the options of this package set
// them.
func Environment(env []string) Option {
	return optionFunc(func(o *options) error {
		for _, kv := range env {
			if hasPrefix(kv, "gons_") || hasPrefix(kv, "GONS_REEXEC_") {
				return fmt.Errorf("Environment: %q is reserved; use the Namespaces, Target, Root, Dir or Credential option", kv)
			}
		}
		o.env = append(o.env, env...)
		return nil
	})
}

// Stdout sends the child's standard output to w when it is not the
// result (that is, unless a plain action runs with a [Result] target).
// By default it is discarded.
func Stdout(w io.Writer) Option {
	return optionFunc(func(o *options) error {
		o.stdout = w
		return nil
	})
}

// Stderr copies the child's standard error to w, in addition to the tail
// kept for [Error.Stderr]. By default only that tail is kept. If w is
// also the writer of [Stdout], at most one goroutine at a time calls its
// Write, as with exec.Cmd.
func Stderr(w io.Writer) Option {
	return optionFunc(func(o *options) error {
		o.stderr = w
		return nil
	})
}

// RunReexecAction runs the action registered under name in a child; see
// [RunReexecActionContext].
func RunReexecAction(name string, opts ...Option) error {
	return RunReexecActionContext(context.Background(), name, opts...)
}

// RunReexecActionContext runs the action registered under name in a
// re-executed copy of the program (/proc/self/exe, with os.Args[0]
// unchanged), which joins the namespaces given with [Namespaces] before
// its Go runtime starts, and waits for it to end. When ctx is done first,
// the child is killed and reaped, and the error wraps ctx.Err().
//
// Every failure comes back as an [*Error] that names the action and holds
// the end of the child's standard error. It is safe to call from many
// goroutines at once. The child dies with the program; called from a
// goroutine locked to its thread ([runtime.LockOSThread]), an exec'd
// child starts from that thread and dies when it ends (see Lifecycle in
// the package documentation).
func RunReexecActionContext(ctx context.Context, name string, opts ...Option) error {
	o, err := collect(name, opts)
	if err != nil {
		return err
	}
	return run(ctx, name, o)
}

// decodeStrict decodes exactly one JSON value from b into v, refusing
// unknown fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Only JSON's white space may follow. Decoder.Token would say so too,
	// but it links the decoder's tokenizer, about 3.5 KB, into every program.
	for _, c := range b[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return errors.New("trailing data after the JSON value")
		}
	}
	return nil
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
