// Command gons-demo shows package early at work on your machine, with
// nothing set up beforehand: it starts a throwaway process in new user,
// mount and UTS namespaces (unprivileged, where the kernel allows user
// namespaces), then runs itself again with gons_user, gons_mnt and gons_uts
// naming that process's namespaces, and prints where each process is.
//
// In a clone of the repository:
//
//	go run ./cmd/gons-demo
//
// It works on Linux only, and needs a C compiler for cgo: built without
// cgo, early's constructor does not run, and the demo says so.
package main
