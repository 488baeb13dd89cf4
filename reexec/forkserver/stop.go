package forkserver

// Stop ends the fork server for good: every later call of package reexec
// or package nsexec starts its child by exec, and the server process is
// killed and reaped once the request it may be answering has its reply.
// Children it started before live on.
//
// Call it when the program confines itself in a way the per-call check
// cannot see (see "What the child inherits"): after it restricts itself
// with Landlock while no_new_privs was already set at start-up, or with
// CAP_SYS_ADMIN, say. Safe to call more than once and from any goroutine;
// without the server (other systems, no cgo, a child) it does nothing.
func Stop() { stop() }
