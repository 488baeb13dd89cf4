// Command gons-demo shows package early at work on your machine, with
// nothing set up beforehand: it starts a throwaway process in new user,
// mount and UTS namespaces (unprivileged, where the kernel allows user
// namespaces), then runs itself again with gons_user, gons_mnt and gons_uts
// naming that process's namespaces, and prints where each process is.
//
//	go run github.com/gonsproject/gons/cmd/gons-demo@latest
//
// It works on Linux only.
package main
