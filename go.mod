module github.com/gonsproject/gons

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	golang.org/x/sys v0.50.0
	gotest.tools/v3 v3.5.2
)
