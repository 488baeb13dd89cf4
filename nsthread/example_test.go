package nsthread_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/gonsproject/gons/nsthread"
)

// The interfaces of the network namespace of process 42, joined through a
// pidfd, so that another process that gets PID 42 is never joined.
func ExampleRun() {
	names, err := nsthread.Run(func() ([]string, error) {
		ifs, err := net.Interfaces()
		var names []string
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		return names, err
	}, nsthread.Target(42, "net"))
	fmt.Println(names, err)
}

// The hostname in the uts namespace bound to a file, next to the network
// namespace of the same container.
func ExampleDo() {
	var hostname string
	err := nsthread.Do(func() error {
		var err error
		hostname, err = os.Hostname()
		return err
	}, nsthread.Namespaces([]nsthread.Namespace{
		{Type: "uts", Path: "/run/gons/web/uts"},
		{Type: "net", Path: "/run/gons/web/net"},
	}))
	fmt.Println(hostname, err)
}

// A file in a container: /etc/os-release as process 42 sees it, read on a
// thread that joins its mount namespace (and its uts namespace, for the
// hostname) and is discarded afterwards. The path resolves from the
// namespace's root; the program's working directory and root, and its
// other threads, never change.
func ExampleTarget_mount() {
	type container struct {
		Release  string
		Hostname string
	}
	c, err := nsthread.Run(func() (container, error) {
		b, err := os.ReadFile("/etc/os-release")
		if err != nil {
			return container{}, err
		}
		h, err := os.Hostname()
		return container{Release: string(b), Hostname: h}, err
	}, nsthread.Target(42, "mnt", "uts"))
	fmt.Println(c.Hostname, c.Release, err)
}

// The working directory inside a container's mount namespace, bound to a
// file: relative paths resolve from there.
func ExampleDir() {
	b, err := nsthread.Run(func() ([]byte, error) {
		return os.ReadFile("config.json") // /srv/app/config.json in the container
	}, nsthread.Namespaces([]nsthread.Namespace{{Type: "mnt", Path: "/run/gons/web/mnt"}}), nsthread.Dir("/srv/app"))
	fmt.Println(len(b), err)
}

// The trap: only the thread the function runs on is in the namespaces. A
// goroutine it starts runs on another thread, in the namespaces of the
// process, and so do library calls that hand their work to goroutines.
// Do the namespace-bound work (opening a socket, reading a file of
// /proc/thread-self) on the function's own goroutine; what it opened can
// then be used anywhere.
func Example_goroutines() {
	nsthread.Do(func() error {
		inside, _ := os.Hostname() // the namespace's hostname

		var elsewhere string
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			elsewhere, _ = os.Hostname() // the process's hostname, not the namespace's
		}()
		wg.Wait()

		fmt.Println(inside, elsewhere)
		return nil
	}, nsthread.Target(42, "uts"))
}

// Types a thread cannot join are refused before anything happens, with an
// error that points to package reexec.
func ExampleErrNotThreadJoinable() {
	err := nsthread.Do(func() error { return nil }, nsthread.Namespaces([]nsthread.Namespace{
		{Type: "user", Path: "/proc/42/ns/user"},
	}))
	fmt.Println(errors.Is(err, nsthread.ErrNotThreadJoinable))
	fmt.Println(err)
	fmt.Println(nsthread.ThreadJoinable("mnt"), nsthread.ThreadJoinable("user"))
	// Output:
	// true
	// nsthread: parse user: a thread of a multi-threaded process cannot join this namespace type; run the function through package reexec
	// true false
}
