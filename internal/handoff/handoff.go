// Package handoff carries what early's constructor found in the
// environment, and removed from it, to the packages of this module that
// need it. Package status fills it while early's Go init runs, so it is
// complete once package initialisation is over. It is not part of the API.
package handoff

// ReexecFDPlus1 is GONS_REEXEC_FD's value plus one, as the constructor
// records it; 0: none. Only package status sets it. A variable rather than
// a setter: every program that imports early runs that store, and a
// function, even inlined, costs it its name and file in the pc tables.
var ReexecFDPlus1 int32

// ReexecFD returns the descriptor GONS_REEXEC_FD named and ok, or ok false
// when the constructor found none or did not run (no cgo, internal
// linking, another system); then the variable, if any, is still in the
// environment.
func ReexecFD() (fd int, ok bool) { return int(ReexecFDPlus1) - 1, ReexecFDPlus1 > 0 }
