//go:build linux && cgo

package forkserver

/*
#cgo CFLAGS: -Wall -Wextra -Os -fno-asynchronous-unwind-tables -I${SRCDIR}/../../internal/preinit
#include "protocol.h"

extern int gons_forkserver_fd, gons_forkserver_pid, gons_forkserver_child;
*/
import "C"

import (
	"unsafe"

	"github.com/gonsproject/gons/internal/forkhook"
	_ "github.com/gonsproject/gons/internal/preinit" // the constructor, and the steps a child runs
	_ "github.com/gonsproject/gons/reexec"           // defines enableForkServer
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// package spawn writes and reads the messages of protocol.h through a Go
// mirror; these fail to compile when the two differ.
var (
	_ [unsafe.Sizeof(C.struct_gons_fs_spawn{}) - spawn.SpawnSize]struct{}
	_ [spawn.SpawnSize - unsafe.Sizeof(C.struct_gons_fs_spawn{})]struct{}
	_ [unsafe.Sizeof(C.struct_gons_fs_reply{}) - spawn.ReplySize]struct{}
	_ [spawn.ReplySize - unsafe.Sizeof(C.struct_gons_fs_reply{})]struct{}
	_ [C.GONS_FS_SPAWN - spawn.KindSpawn]struct{}
	_ [spawn.KindSpawn - C.GONS_FS_SPAWN]struct{}
	_ [C.GONS_FS_SPAWNED - spawn.KindSpawned]struct{}
	_ [spawn.KindSpawned - C.GONS_FS_SPAWNED]struct{}
	_ [C.GONS_FS_MAX_FDS - spawn.MaxFDs]struct{}
	_ [spawn.MaxFDs - C.GONS_FS_MAX_FDS]struct{}
	_ [C.GONS_FS_MAX_VARS - spawn.MaxVars]struct{}
	_ [spawn.MaxVars - C.GONS_FS_MAX_VARS]struct{}
	_ [C.GONS_FS_MAX_MSG - spawn.MaxMsg]struct{}
	_ [spawn.MaxMsg - C.GONS_FS_MAX_MSG]struct{}
	_ [unsafe.Sizeof(C.struct_gons_fs_exec{}) - spawn.ExecSize]struct{}
	_ [spawn.ExecSize - unsafe.Sizeof(C.struct_gons_fs_exec{})]struct{}
	_ [C.GONS_FS_EXEC - spawn.KindExec]struct{}
	_ [spawn.KindExec - C.GONS_FS_EXEC]struct{}
	_ [C.GONS_FS_EXEC_SHARE - spawn.ExecShare]struct{}
	_ [spawn.ExecShare - C.GONS_FS_EXEC_SHARE]struct{}
)

// enableForkServer makes package reexec start children through the
// server; defined there, it links the code that talks to the server into
// programs that import this package alone.
//
//go:linkname enableForkServer github.com/gonsproject/gons/reexec.enableForkServer
func enableForkServer()

// forkedChild reads the request of a child of the fork server, and gives
// the process its environment and arguments.
//
//go:linkname forkedChild github.com/gonsproject/gons/reexec.forkedChild
func forkedChild()

func init() {
	if C.gons_forkserver_child != 0 {
		forkedChild()
	}
	if C.gons_forkserver_fd > 0 {
		spawn.Serve(int(C.gons_forkserver_fd)-1, int(C.gons_forkserver_pid))
		enableForkServer()
		forkhook.SpawnExec, forkhook.ServerPID = spawn.SpawnExec, spawn.PID
	}
}

func stop() { spawn.Stop() }
