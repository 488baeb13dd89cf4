// Package spawn is the program's side of the fork server of package
// reexec/forkserver: it sends spawn requests and reads the replies, in the
// layout of reexec/forkserver/protocol.h. Package reexec uses it when the
// program imports reexec/forkserver, which hands it the channel at init.
package spawn
