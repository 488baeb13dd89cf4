// Command collide links package early next to C code that defines the
// plain names init and record, which early must not clash with.
package main

/*
int record;
void init(void) { record = 42; }
*/
import "C"

import (
	"fmt"

	_ "github.com/gonsproject/gons/early"
	"github.com/gonsproject/gons/status"
)

func main() {
	C.init()
	fmt.Println(C.record, status.Ran())
}
