module github.com/gonsproject/gons/bench

go 1.26.0

require github.com/gonsproject/gons v0.0.0

require (
	github.com/thediveo/gons v0.9.9
	github.com/vishvananda/netns v0.0.5
	golang.org/x/sys v0.50.0
)

replace github.com/gonsproject/gons => ../
