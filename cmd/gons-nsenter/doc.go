// Command gons-nsenter runs a program in the namespaces of another
// process, or of namespace files, as util-linux's nsenter(1) does, built
// on package [github.com/gonsproject/gons/nsexec]:
//
//	gons-nsenter -t 42 -n -u ip addr
//	gons-nsenter -t 42 -a --preserve-credentials sh
//	gons-nsenter --net=/run/netns/blue ping -c1 10.0.0.1
//
// It takes nsenter's common options, -t, -a, -m, -u, -i, -n, -p, -U, -C,
// -T (each with an optional =file), -r, -w, -W, -S, -G,
// --preserve-credentials and -F, and exits as nsenter does: with the
// program's status, dying of the signal the program died of, 127 when the
// program is not found, 126 when it cannot be executed, and 1 for any
// other failure before it runs, with a message on standard error.
//
// Where it differs from nsenter:
//
//   - -r DIR, -w DIR and -W DIR are resolved once the namespaces are
//     joined, in the mount namespace joined (and -w under the root), as
//     nsenter's -W is; nsenter opens -r and -w before it joins. -r and -w
//     without a directory take the target's root and working directory:
//     the root of its mount namespace when that is joined.
//   - With -t and no file, the namespaces are joined through a pidfd of
//     the target, all at once where the kernel allows it (Linux 5.8), and
//     only those that differ from the caller's, so a target that exits
//     meanwhile is never half joined and its PID, if reused, is never
//     joined instead.
//   - Joining a PID namespace, it forks in C, before any runtime: the relay
//     is a C process, as nsenter's parent is, and this command waits for
//     it. SIGINT and SIGQUIT, which a terminal sends to the whole
//     foreground process group, are left to the program; other signals
//     are passed on to it.
//   - The program always runs as a child (nsenter executes it in place
//     unless it joins a PID namespace). When the program stops, by ^Z at
//     the terminal or by itself, this command stops too, with the same
//     signal, so that the shell sees its job stopped; continued (fg), it
//     continues the program, as nsenter does when it forks.
//   - -Z (SELinux) and --wdns's nsenter 2.38 aliases are not taken.
//
// # A static binary
//
// The program runs where nsenter may be missing, so it builds as one
// static binary: with musl (Debian's musl-tools),
//
//	CC=musl-gcc CGO_ENABLED=1 go build -ldflags '-linkmode external -extldflags -static' ./cmd/gons-nsenter
//
// or with glibc's static libraries, the same without CC. Either needs
// cgo and external linking: the step that joins and executes is C that
// runs before the Go runtime.
package main
