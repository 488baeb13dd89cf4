package reexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gonsproject/gons/reexec/internal/hook"
	"github.com/gonsproject/gons/status"
)

// grace is how long the parent waits, after the child has been reaped, for
// descriptors that a process the action started may still hold open.
const grace = 2 * time.Second

// nsTypes are the namespace types that package early knows.
var nsTypes = map[string]bool{
	"cgroup": true, "ipc": true, "mnt": true, "net": true,
	"pid": true, "time": true, "user": true, "uts": true,
}

// childEnv returns the child's environment: the parent's without any
// gons_* or reexec variables, the extra variables, and the namespace
// variables. mnt is whether the child joins a mount namespace.
func childEnv(o *options) (env []string, mnt bool, err error) {
	for _, kv := range os.Environ() {
		if hasPrefix(kv, "gons_") || hasPrefix(kv, "GONS_REEXEC_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, o.env...)
	if o.target != 0 {
		return targetEnv(env, o)
	}
	if len(o.namespaces) > 0 {
		seen := map[string]bool{}
		order := make([]string, 0, len(o.namespaces))
		for _, ns := range o.namespaces {
			typ := strings.TrimPrefix(ns.Type, "!")
			switch {
			case !nsTypes[typ]:
				return nil, false, &status.Error{Op: "parse", Err: fmt.Errorf("%q: %w", ns.Type, status.ErrUnknownType)}
			case seen[typ]:
				return nil, false, &status.Error{Op: "parse", Type: typ, Err: fmt.Errorf("%s listed more than once: %w", typ, status.ErrDuplicate)}
			case ns.Path == "":
				return nil, false, &status.Error{Op: "parse", Type: typ, Err: fmt.Errorf("empty path: %w", status.ErrSyntax)}
			}
			seen[typ] = true
			mnt = mnt || typ == "mnt"
			order = append(order, ns.Type)
			env = append(env, "gons_"+typ+"="+ns.Path)
		}
		env = append(env, "gons_order="+strings.Join(order, ","))
	}
	return env, mnt, nil
}

// targetEnv adds the variables that make the child join the namespaces of
// o.target. mnt is whether that includes the mount namespace.
func targetEnv(env []string, o *options) (_ []string, mnt bool, err error) {
	if len(o.namespaces) > 0 {
		return nil, false, &status.Error{Op: "parse", Err: fmt.Errorf("Target and Namespaces: %w", status.ErrConflict)}
	}
	seen := map[string]bool{}
	for _, typ := range o.targetNS {
		switch {
		case !nsTypes[typ]:
			return nil, false, &status.Error{Op: "parse", Err: fmt.Errorf("%q: %w", typ, status.ErrUnknownType)}
		case seen[typ]:
			return nil, false, &status.Error{Op: "parse", Type: typ, Err: fmt.Errorf("%s listed more than once: %w", typ, status.ErrDuplicate)}
		}
		seen[typ] = true
	}
	env = append(env, "gons_target="+strconv.Itoa(o.target))
	if len(o.targetNS) > 0 {
		env = append(env, "gons_target_ns="+strings.Join(o.targetNS, ","))
	}
	return env, len(o.targetNS) == 0 || seen["mnt"], nil
}

func run(ctx context.Context, name string, o *options) error {
	fail := func(op string, err error) error { return &Error{Action: name, Op: op, Err: err} }
	if isChild && !checked.Load() {
		return fail("start", ErrNotChecked)
	}
	a := lookup(name)
	if a == nil {
		return fail("start", ErrUnknownAction)
	}
	if err := ctx.Err(); err != nil {
		return fail("context", err)
	}
	env, mnt, err := childEnv(o)
	if err != nil {
		return fail("switch", err)
	}
	env, extra := hook.Apply(env, mnt, childFD+1)
	env = append(env, envAction+"="+name, envFD+"="+strconv.Itoa(childFD))

	paramTag, param := byte(tagNoParam), []byte(nil)
	if o.paramSet {
		if param, err = json.Marshal(o.param); err != nil {
			return fail("param", err)
		}
		paramTag = tagParam
	}

	// One socket both ways. The parent's end is non-blocking so that
	// deadlines can unblock it; the child's end stays blocking.
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail("start", os.NewSyscallError("socketpair", err))
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return fail("start", os.NewSyscallError("setnonblock", err))
	}
	conn := os.NewFile(uintptr(fds[0]), "reexec")
	peer := os.NewFile(uintptr(fds[1]), "reexec-child")
	defer conn.Close()

	arg0 := "/proc/self/exe"
	if len(os.Args) > 0 {
		arg0 = os.Args[0]
	}
	cmd := exec.CommandContext(ctx, "/proc/self/exe")
	cmd.Args = []string{arg0}
	cmd.Env = env
	cmd.ExtraFiles = append([]*os.File{peer}, extra...)
	cmd.WaitDelay = grace
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout bytes.Buffer
	stdoutIsResult := a.plain != nil && o.result != nil
	if stdoutIsResult {
		cmd.Stdout = &stdout
	} else {
		cmd.Stdout = o.stdout
	}
	stderr := &tail{}
	cmd.Stderr = stderr
	if o.stderr != nil {
		cmd.Stderr = io.MultiWriter(stderr, o.stderr)
	}

	// Pdeathsig fires when the thread that forked the child ends, not
	// the process. The runtime ends a thread only when a goroutine
	// locked to it exits; the fork happens with this goroutine locked,
	// on one thread, which goes back to the pool, to live on, after the
	// unlock (unless the caller itself had locked the goroutine: see
	// RunReexecActionContext).
	runtime.LockOSThread()
	err = cmd.Start()
	runtime.UnlockOSThread()
	peer.Close()
	if err != nil {
		return fail("start", err)
	}

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		// A child that dies before reading makes this fail; that is
		// reported through its exit, not here.
		_ = writeFrame(conn, paramTag, param)
	}()
	var (
		tag     byte
		payload []byte
		ferr    error
	)
	go func() {
		defer wg.Done()
		tag, payload, ferr = readFrame(conn)
	}()
	werr := cmd.Wait()
	// The child is reaped. Whatever it sent is in the socket; do not
	// wait forever for processes that may have inherited its end.
	conn.SetDeadline(time.Now().Add(grace))
	wg.Wait()

	e := &Error{Action: name, Stderr: stderr.String()}
	failed := func(op string, err error) error {
		e.Op, e.Err = op, err
		return e
	}
	succeeded := werr == nil && ferr == nil && (tag == tagResult || tag == tagDone)
	if cerr := ctx.Err(); cerr != nil && !succeeded {
		return failed("context", cerr)
	}
	if ferr == nil && tag == tagError {
		var w wireError
		if err := json.Unmarshal(payload, &w); err != nil {
			return failed("result", fmt.Errorf("malformed error report: %w", err))
		}
		op := w.Kind
		if op == kindUnknown {
			op = "start"
		}
		return failed(op, w.cause())
	}
	var exitErr *exec.ExitError
	if errors.As(werr, &exitErr) {
		return failed("exit", werr)
	}
	if werr != nil && !errors.Is(werr, exec.ErrWaitDelay) {
		return failed("exit", werr)
	}
	var result []byte
	switch {
	case ferr != nil:
		return failed("result", fmt.Errorf("%w: %v", ErrNoResult, ferr))
	case tag == tagDone:
		result = stdout.Bytes()
	case tag == tagResult:
		result = payload
	default:
		return failed("result", fmt.Errorf("unexpected frame %q", tag))
	}
	if o.result == nil {
		return nil
	}
	if len(bytes.TrimSpace(result)) == 0 {
		return failed("result", ErrNoResult)
	}
	if err := decodeStrict(result, o.result); err != nil {
		return failed("result", fmt.Errorf("malformed: %w", err))
	}
	return nil
}

// tail keeps the last StderrMax bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= StderrMax {
		t.buf = append(t.buf[:0], p[len(p)-StderrMax:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - StderrMax; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
