module github.com/gonsproject/gons

go 1.24
