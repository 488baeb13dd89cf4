//go:build linux && cgo

package probe

/*
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

extern int gons_forkserver_stack_answered;
void gons_fs_inherited_stack(void **addr, size_t *size);

static pthread_t probe_main;

// The main thread, recorded by a constructor, which runs on it.
__attribute__((constructor)) static void probe_record_main(void) { probe_main = pthread_self(); }

static void *probe_alloc(void *arg)
{
	free(malloc(64));
	return arg;
}

// The number of arenas after n new threads allocated, or -1 without glibc.
static int probe_arenas(int n)
{
#ifdef __GLIBC__
	pthread_t t[16];
	char *buf = NULL;
	size_t len = 0;
	int heaps = 0;

	for (int i = 0; i < n && i < 16; i++)
		if (pthread_create(&t[i], NULL, probe_alloc, NULL) != 0)
			return -2;
	for (int i = 0; i < n && i < 16; i++)
		pthread_join(t[i], NULL);
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return -2;
	malloc_info(0, f);
	fclose(f);
	for (char *p = buf; (p = strstr(p, "<heap nr=")) != NULL; p++)
		heaps++;
	free(buf);
	return heaps;
#else
	return -1;
#endif
}

// The main thread's stack as the C library reports it.
static int probe_stack(void **addr, size_t *size)
{
	pthread_attr_t attr;

	if (pthread_getattr_np(probe_main, &attr) != 0)
		return -1;
	int err = pthread_attr_getstack(&attr, addr, size);
	pthread_attr_destroy(&attr);
	return err;
}
*/
import "C"

import "unsafe"

// Probe is what the process inherited.
type Probe struct {
	Arenas    int        // malloc arenas after 4 new threads allocated; -1 without glibc
	Answered  bool       // runtime/cgo was told the stack from the server's data
	Inherited [2]uintptr // the stack the server reported: low address, size
	Real      [2]uintptr // the stack the C library reports now
}

// Read reads the probe.
func Read() Probe {
	p := Probe{Arenas: int(C.probe_arenas(4)), Answered: C.gons_forkserver_stack_answered != 0}
	var addr unsafe.Pointer
	var size C.size_t
	C.gons_fs_inherited_stack(&addr, &size)
	p.Inherited = [2]uintptr{uintptr(addr), uintptr(size)}
	if C.probe_stack(&addr, &size) == 0 {
		p.Real = [2]uintptr{uintptr(addr), uintptr(size)}
	}
	return p
}
