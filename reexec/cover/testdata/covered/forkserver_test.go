//go:build gons_forkserver

package covered

import (
	_ "github.com/gonsproject/gons/reexec/forkserver"
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// With this tag the children come from the fork server, which TestAnswer
// checks.
func init() { forked = spawn.Spawned }
