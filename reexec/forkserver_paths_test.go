package reexec_test

// The two ways a child starts: through the fork server, and by exec.
var paths = []struct {
	name string
	fork bool
}{{"fork", true}, {"exec", false}}

// preCheckEnv is why faults that TestMain sets off before CheckAction,
// from the child's environment, are exec's only: a child of the fork
// server gets its environment in CheckAction.
const preCheckEnv = "TestMain reads the variable before CheckAction"

// pathFault is a fault on one path.
type pathFault struct {
	fault
	fork bool
}

// onPaths returns the faults on both paths, named after the path, but for
// those of exec only.
func onPaths(tests []fault) []pathFault {
	var out []pathFault
	for _, p := range paths {
		for _, tc := range tests {
			if p.fork && tc.execOnly != "" {
				continue
			}
			tc.doc = p.name + "/" + tc.doc
			out = append(out, pathFault{tc, p.fork})
		}
	}
	return out
}
