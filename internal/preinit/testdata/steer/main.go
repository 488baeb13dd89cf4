// Command steer links the constructor through package reexec and reports,
// as JSON on stdout, whether gons_* variables in its environment steered
// it, and what the reexec children it starts see: one started plainly,
// one told to join the UTS namespace STEER_UTS names (when set). Built
// with -tags early it imports early too; with -tags forkserver it starts
// its children through the fork server. With STEER_INIT set it writes its
// host name to stderr from an init function, before CheckAction. With
// STEER_SLEEP set it starts a child that sleeps as nobody and waits for it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// view is what a process sees of itself.
type view struct {
	Hostname string
	Ran      bool
	Joined   []string
	Err      string
	Gons     []string // the gons_* entries of its environment
}

func look() view {
	v := view{Ran: status.Ran(), Joined: status.Joined()}
	v.Hostname, _ = os.Hostname()
	if err := status.Err(); err != nil {
		v.Err = err.Error()
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "gons_") {
			v.Gons = append(v.Gons, kv)
		}
	}
	return v
}

var probe = reexec.RegisterFunc("steer-probe", func(struct{}) (view, error) { return look(), nil })

func init() {
	if os.Getenv("STEER_INIT") != "" {
		h, _ := os.Hostname()
		fmt.Fprintln(os.Stderr, "init hostname", h)
	}
}

func init() {
	// sleeper says it runs, on its standard output, and waits to be killed.
	reexec.Register("steer-sleeper", func() {
		fmt.Println("ready")
		select {}
	})
}

// sleep starts the sleeper with the credentials of nobody, in the PID
// namespace STEER_PID names if set, and waits for it: the caller that
// TestCredentialKeepsParentDeathSignal kills.
func sleep() {
	opts := []reexec.Option{reexec.Credential(65534, 65534), reexec.Stderr(os.Stderr)}
	if pid := os.Getenv("STEER_PID"); pid != "" {
		opts = append(opts, reexec.Namespaces([]reexec.Namespace{{Type: "pid", Path: pid}}))
	}
	cmd := reexec.Command(context.Background(), "steer-sleeper", nil, opts...)
	cmd.Stdout = os.Stdout
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	reexec.CheckAction()
	if os.Getenv("STEER_SLEEP") != "" {
		sleep()
		return
	}
	var out struct {
		Self, Plain, Switched view
		PlainErr, SwitchedErr string
	}
	out.Self = look()
	ctx := context.Background()
	var err error
	if out.Plain, err = probe.Run(ctx, struct{}{}); err != nil {
		out.PlainErr = err.Error()
	}
	if uts := os.Getenv("STEER_UTS"); uts != "" {
		ns := reexec.Namespaces([]reexec.Namespace{{Type: "uts", Path: uts}})
		if out.Switched, err = probe.Run(ctx, struct{}{}, ns); err != nil {
			out.SwitchedErr = err.Error()
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
