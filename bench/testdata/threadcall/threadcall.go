// Package threadcall serves the Thread benchmark's requests for the
// commands testdata/thread and testdata/threadfork (the same with the fork
// server of package reexec/forkserver, through which its reexec mode
// goes): it runs one trivial function inside namespaces in every way the
// benchmark compares, and times the calls itself, so that the benchmark's
// pipes stay out of the figures. Requests, one a line on stdin, are
//
//	MODE K [read=FILE] TYPE=PATH...
//
// with MODE one of
//
//	thread     nsthread.Run with nsthread.Namespaces, K times, from a
//	           goroutine free to move between threads
//	threadlocked  the same from a goroutine locked to its thread, whose
//	           calls nsthread runs on a fresh goroutine each
//	threadpid  nsthread.Run with nsthread.Target, the PID taken from the
//	           paths (/proc/PID/ns/TYPE), K times: all types in one setns
//	netns      vishvananda/netns as its users write it, K times: lock the
//	           thread, Get the thread's own namespace, GetFromPath the
//	           other, Set, call, Set back, close both, unlock (net only)
//	inprocess  the function registered with reexec.RegisterFunc, run by
//	           Func.Run with reexec.InProcess, K times
//	reexec     the same without InProcess: a child round trip, K times
//	check      each of the above once, the function reporting the
//	           namespaces it ran in; the answer is those, not a time
//
// With read=FILE the function reads FILE too, a small file only the
// namespaces show, and every call checks what it read. A call that joins
// a mount namespace runs on a thread that nsthread discards afterwards,
// so its cost includes a thread's creation.
//
// The answer is a line with the nanoseconds the K calls took, the
// heap allocations they made and the minor page faults of the processes
// they started, as the reexec benchmark's drivers answer. Every call
// checks the function's result.
package threadcall

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gonsproject/gons/nsthread"
	"github.com/gonsproject/gons/reexec"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// param is the trivial function's parameter: a number, a file to read,
// and whether to report the namespaces it runs in.
type param struct {
	N    int
	Read string
	Look []string
}

// result is its result.
type result struct {
	N    int
	Read string
	NS   []string
}

// trivial returns p.N+1, the content of p.Read and, when asked, the links
// of the calling thread's namespaces of the types in p.Look.
func trivial(p param) (result, error) {
	r := result{N: p.N + 1}
	if p.Read != "" {
		b, err := os.ReadFile(p.Read)
		if err != nil {
			return r, err
		}
		r.Read = string(b)
	}
	for _, typ := range p.Look {
		l, err := os.Readlink("/proc/thread-self/ns/" + typ)
		if err != nil {
			return r, err
		}
		r.NS = append(r.NS, l)
	}
	return r, nil
}

var action = reexec.RegisterFunc("trivial", trivial)

// Serve answers the requests on standard input until it ends.
func Serve() {
	reexec.CheckAction()
	// What read=FILE gives outside the namespaces: it must differ inside.
	outside := map[string]string{}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) < 2 {
			fail(fmt.Errorf("bad request %q", in.Text()))
		}
		k, err := strconv.Atoi(f[1])
		if err != nil {
			fail(err)
		}
		var ns []reexec.Namespace
		var types []string
		var read, want string
		for _, kv := range f[2:] {
			typ, path, _ := strings.Cut(kv, "=")
			if typ == "read" {
				read = path
				continue
			}
			ns = append(ns, reexec.Namespace{Type: typ, Path: path})
			types = append(types, typ)
		}
		if read != "" {
			if _, ok := outside[read]; !ok {
				b, _ := os.ReadFile(read)
				outside[read] = string(b)
			}
		}
		if f[0] == "check" {
			fmt.Println(check(ns, types, read, outside[read]))
			continue
		}
		call, err := caller(f[0], ns)
		if err != nil {
			fail(err)
		}
		var before, after runtime.MemStats
		var ruBefore, ruAfter unix.Rusage
		runtime.ReadMemStats(&before)
		unix.Getrusage(unix.RUSAGE_CHILDREN, &ruBefore)
		if f[0] == "threadlocked" {
			runtime.LockOSThread()
		}
		start := time.Now()
		for i := range k {
			r, err := call(param{N: i, Read: read})
			if err == nil && r.N != i+1 {
				err = fmt.Errorf("%s: the function returned %d, want %d", f[0], r.N, i+1)
			}
			if err == nil && read != "" && (r.Read == outside[read] || want != "" && r.Read != want) {
				err = fmt.Errorf("%s: read %q, outside %q, want the first call's %q", f[0], r.Read, outside[read], want)
			}
			if want == "" {
				want = r.Read
			}
			if err != nil {
				fail(err)
			}
		}
		elapsed := time.Since(start)
		if f[0] == "threadlocked" {
			runtime.UnlockOSThread()
		}
		unix.Getrusage(unix.RUSAGE_CHILDREN, &ruAfter)
		runtime.ReadMemStats(&after)
		fmt.Println(elapsed.Nanoseconds(), after.Mallocs-before.Mallocs, ruAfter.Minflt-ruBefore.Minflt)
	}
}

// caller returns the function that calls trivial in the way mode names.
func caller(mode string, ns []reexec.Namespace) (func(param) (result, error), error) {
	ctx := context.Background()
	switch mode {
	case "thread", "threadlocked":
		tns := make([]nsthread.Namespace, len(ns))
		for i, n := range ns {
			tns[i] = nsthread.Namespace(n)
		}
		opt := nsthread.Namespaces(tns)
		return func(p param) (result, error) {
			return nsthread.Run(func() (result, error) { return trivial(p) }, opt)
		}, nil
	case "threadpid":
		var pid int
		var types []string
		for _, n := range ns {
			if _, err := fmt.Sscanf(n.Path, "/proc/%d/ns/", &pid); err != nil {
				return nil, fmt.Errorf("threadpid: %q is not /proc/PID/ns/TYPE", n.Path)
			}
			types = append(types, n.Type)
		}
		opt := nsthread.Target(pid, types...)
		return func(p param) (result, error) {
			return nsthread.Run(func() (result, error) { return trivial(p) }, opt)
		}, nil
	case "netns":
		if len(ns) != 1 || ns[0].Type != "net" {
			return nil, errors.New("netns joins a net namespace only")
		}
		return func(p param) (result, error) { return viaNetns(ns[0].Path, p) }, nil
	case "inprocess":
		opts := []reexec.Option{reexec.Namespaces(ns), reexec.InProcess()}
		return func(p param) (result, error) { return action.Run(ctx, p, opts...) }, nil
	case "reexec":
		opts := []reexec.Option{reexec.Namespaces(ns)}
		return func(p param) (result, error) { return action.Run(ctx, p, opts...) }, nil
	}
	return nil, fmt.Errorf("unknown mode %q", mode)
}

// viaNetns calls trivial the way users of vishvananda/netns write it.
func viaNetns(path string, p param) (result, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return result{}, err
	}
	defer orig.Close()
	h, err := netns.GetFromPath(path)
	if err != nil {
		return result{}, err
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		return result{}, err
	}
	r, err := trivial(p)
	if serr := netns.Set(orig); serr != nil {
		// The thread is in the wrong namespace: never unlock it.
		runtime.LockOSThread()
		return r, serr
	}
	return r, err
}

// check runs trivial once in every mode that can join ns, asking it for
// the namespaces it runs in and to read read, which must not give what it
// gives outside, and returns "mode:link,link..." for each.
func check(ns []reexec.Namespace, types []string, read, outside string) string {
	var out []string
	for _, mode := range []string{"thread", "threadpid", "netns", "inprocess", "reexec"} {
		if mode == "netns" && (len(types) != 1 || types[0] != "net") {
			continue
		}
		call, err := caller(mode, ns)
		if err != nil {
			fail(err)
		}
		r, err := call(param{Look: types, Read: read})
		if err != nil {
			fail(fmt.Errorf("%s: %w", mode, err))
		}
		if read != "" && r.Read == outside {
			fail(fmt.Errorf("%s: %s reads %q, as it does outside", mode, read, r.Read))
		}
		out = append(out, mode+":"+strings.Join(r.NS, ","))
	}
	return strings.Join(out, " ")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "thread:", err)
	os.Exit(1)
}
