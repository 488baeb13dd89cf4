package reexec_test

// The two ways a child starts: through the fork server, and by exec.
var paths = []struct {
	name string
	fork bool
}{{"fork", true}, {"exec", false}}

// pathFault is a fault on one path.
type pathFault struct {
	fault
	fork bool
}

// onPaths returns the faults on both paths, named after the path.
func onPaths(tests []fault) []pathFault {
	var out []pathFault
	for _, p := range paths {
		for _, tc := range tests {
			tc.doc = p.name + "/" + tc.doc
			out = append(out, pathFault{tc, p.fork})
		}
	}
	return out
}
