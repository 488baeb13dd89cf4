// Package handoff carries what early's constructor found in the
// environment, and removed from it, to the packages of this module that
// need it. Package status fills it while early's Go init runs, so it is
// complete once package initialisation is over. It is not part of the API.
package handoff

// reexecFD is GONS_REEXEC_FD's value; -1: none.
var reexecFD = -1

// SetReexecFD records fd, the value of GONS_REEXEC_FD. Only package status
// calls it, with what the constructor recorded.
func SetReexecFD(fd int) { reexecFD = fd }

// ReexecFD returns the descriptor GONS_REEXEC_FD named and ok, or ok false
// when the constructor found none or did not run (no cgo, internal
// linking, another system); then the variable, if any, is still in the
// environment.
func ReexecFD() (fd int, ok bool) { return reexecFD, reexecFD >= 0 }
