// Package cover makes the code that actions of package
// [github.com/gonsproject/gons/reexec] run in re-executed children count in
// the coverage that go test reports, with -cover, -coverprofile and
// -coverpkg alike.
//
// Since Go 1.20 a binary built with coverage writes its counters, when it
// ends through [os.Exit] or a return from main, into the directory named by
// the GOCOVERDIR environment variable; go test sets that variable for the
// test binary, and merges whatever lands there into the profile and the
// percentage it prints. A re-executed child therefore counts only when it
// can find that directory, which fails
//   - when the test binary was built with go test -c and runs without
//     GOCOVERDIR (testing then makes a directory of its own at the end,
//     too late for the children), and
//   - when the child joined another mount namespace, where the directory's
//     path leads elsewhere or nowhere.
//
// [Run] fixes both: it gives the test binary a coverage directory when it has
// none and shares it with the children through GOCOVERDIR. To a child that
// joins a mount namespace it passes an open descriptor of the directory
// and sets GOCOVERDIR to /proc/self/fd/<n>, which leads to the directory
// from any mount namespace whose /proc shows the child itself. That works
// where /proc/<pid of the test>/root<dir> does not: from another user
// namespace, which may not look into the test process's root, and in a
// container whose /proc belongs to its own PID namespace, when the child
// joins that too. A mount namespace without /proc still loses the child's
// counters.
//
// Use it as the whole of TestMain:
//
//	func TestMain(m *testing.M) { cover.Run(m) }
//
// Run calls [reexec.CheckAction] first, so a child runs its action (and
// writes its counters on exit) without running any test. Without -cover,
// Run only does that and runs the tests.
package cover
