package early

// The constructor lives in internal/preinit, which package reexec links
// too, for its children; it tells status what happened. Importing early
// opts the program in (optin_linux.c): only then do gons_* variables steer
// the program itself.
import _ "github.com/gonsproject/gons/internal/preinit"
