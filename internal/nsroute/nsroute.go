// Package nsroute holds the switch that keeps package nsexec off its
// direct start, so that tests and benchmarks can compare it with the
// routes it falls back to. It is not part of the API.
package nsroute

import "sync/atomic"

// NoDirect, when set, makes package nsexec start every child by the fork
// server or by exec, as it does where the direct start cannot apply.
var NoDirect atomic.Bool
