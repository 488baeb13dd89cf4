// Command cthread starts a program with package nsexec, joining its own
// uts namespace by path (so that the steps run too), from a thread that C
// code created with a small stack (64 KiB, as a C library's worker thread
// may have), through a cgo callback, and prints "ok" when it ran. A start
// must not need more of the calling thread's stack than a Go call does.
package main

/*
#include <pthread.h>

extern void startFromC(void);

static void *worker(void *arg)
{
	(void)arg;
	startFromC();
	return NULL;
}

static int run_on_small_thread(void)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (pthread_create(&t, &attr, worker, NULL) != 0)
		return -1;
	return pthread_join(t, NULL);
}
*/
import "C"

import (
	"fmt"
	"os"

	"github.com/gonsproject/gons/nsexec"
)

var result error

//export startFromC
func startFromC() {
	c := nsexec.Command("/bin/true")
	c.Namespaces = []nsexec.Namespace{{Type: "uts", Path: "/proc/self/ns/uts"}}
	result = c.Run()
}

func main() {
	if C.run_on_small_thread() != 0 {
		fmt.Fprintln(os.Stderr, "cthread: pthread_create failed")
		os.Exit(2)
	}
	if result != nil {
		fmt.Fprintln(os.Stderr, "cthread:", result)
		os.Exit(1)
	}
	fmt.Println("ok")
}
