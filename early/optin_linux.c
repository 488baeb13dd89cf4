//go:build cgo

/*
 * The opt-in. The constructor (internal/preinit/preinit_linux.c) takes
 * this symbol weakly: linked, because the program imports early, the
 * gons_* variables steer the program; missing, because the program links
 * the constructor through package reexec alone, they steer only the
 * children reexec starts, and the program leaves them alone.
 */
const char gons_early = 1;
