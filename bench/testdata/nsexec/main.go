// Command nsexec serves the nsexec benchmark's requests (see package
// nsexecdriver) without the fork server: nsexec's exec path.
package main

import "github.com/gonsproject/gons/bench/testdata/nsexecdriver"

func main() { nsexecdriver.Serve() }
