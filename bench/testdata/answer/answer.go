// Package answer is what the subjects of package reexec share, with and
// without its fork server: the trivial action of the reexec benchmark,
// registered both as a typed action and as a plain one, and the service
// of the driver's requests through either. It is apart from package
// driver, which the subject of thediveo/gons shares too and which must not
// link package reexec into it.
package answer

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"

	"github.com/gonsproject/gons/bench/testdata/driver"
	"github.com/gonsproject/gons/reexec"
)

var typedAction = reexec.RegisterFunc("answer-func", func(p driver.Param) (driver.Result, error) {
	return driver.Answer(p), nil
})

// The plain action, as thediveo/gons runs one: its parameter comes from
// DecodeParam, its result is its standard output.
func init() {
	reexec.Register("answer", func() {
		var p driver.Param
		if err := reexec.DecodeParam(&p); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		if err := json.NewEncoder(os.Stdout).Encode(driver.Answer(p)); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
	})
}

// ServeStanding serves the driver's requests with the typed action in a
// standing child (reexec.Start), one for each set of namespaces, started
// at the first request that names it and kept for the process's life.
func ServeStanding() {
	var mu sync.Mutex
	standing := map[string]*reexec.Standing{}
	driver.Serve(func(ns []string, p driver.Param) (driver.Result, error) {
		key := strings.Join(ns, " ")
		mu.Lock()
		s := standing[key]
		if s == nil {
			var list []reexec.Namespace
			for i := 0; i+1 < len(ns); i += 2 {
				list = append(list, reexec.Namespace{Type: ns[i], Path: ns[i+1]})
			}
			var err error
			if s, err = reexec.Start(context.Background(), reexec.Namespaces(list)); err != nil {
				mu.Unlock()
				return driver.Result{}, err
			}
			standing[key] = s
		}
		mu.Unlock()
		return typedAction.RunIn(context.Background(), s, p)
	})
}

// Serve serves the driver's requests (see driver.Serve) with the typed
// action when typed is set, with the plain one otherwise, each inside the
// namespaces a request names, given as type and path in turn.
func Serve(typed bool) { serve(typed) }

// ServeResultFirst serves the driver's requests as Serve does the typed
// action's, with reexec.ResultFirst: a run returns once its result is in.
// Each child's exit is waited for after the request is timed, before the
// reply (driver.Settle), so that it runs into no other figure.
func ServeResultFirst() {
	driver.Settle = reexec.WaitBackground
	serve(true, reexec.ResultFirst())
}

func serve(typed bool, extra ...reexec.Option) {
	driver.Serve(func(ns []string, p driver.Param) (driver.Result, error) {
		opts := extra[:len(extra):len(extra)]
		var list []reexec.Namespace
		for i := 0; i+1 < len(ns); i += 2 {
			list = append(list, reexec.Namespace{Type: ns[i], Path: ns[i+1]})
		}
		if list != nil {
			opts = append(opts, reexec.Namespaces(list))
		}
		if typed {
			return typedAction.Run(context.Background(), p, opts...)
		}
		var r driver.Result
		err := reexec.RunReexecAction("answer", append(opts, reexec.Param(p), reexec.Result(&r))...)
		return r, err
	})
}
