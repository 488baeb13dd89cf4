package reexec_test

import (
	"fmt"
	"os"

	"github.com/gonsproject/gons/reexec"
)

func init() {
	reexec.Register("answertoeverything", func() {
		fmt.Fprintln(os.Stdout, `42`)
	})
}

// A plain action prints its result as JSON to standard output. In a
// program, main calls reexec.CheckAction first; here TestMain does.
func Example() {
	// func main() {
	// 	reexec.CheckAction()
	var answer int
	if err := reexec.RunReexecAction("answertoeverything", reexec.Result(&answer)); err != nil {
		panic(err)
	}
	fmt.Printf("answer: %d\n", answer)
	// Output: answer: 42
}
