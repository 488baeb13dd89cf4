# Conveniences; everything also runs with plain go commands (CONTRIBUTING.md).

CFILES := $(wildcard early/*.c internal/preinit/*.c internal/preinit/*.h reexec/forkserver/*.c reexec/forkserver/*.h nsexec/*.c nsexec/*.h)

.PHONY: test fmt cfmt cfmt-check vet fuzz

test:
	go test -count=1 ./...

vet:
	go vet ./...

fmt: cfmt
	gofmt -w $$(git ls-files '*.go')

cfmt:
	clang-format -i $(CFILES)

cfmt-check:
	clang-format --dry-run --Werror $(CFILES)

fuzz:
	go test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./internal/preinit/ctest
