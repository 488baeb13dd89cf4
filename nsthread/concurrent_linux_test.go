package nsthread

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestConcurrent has 16 goroutines call at once, each into the four
// namespaces of a holder of its own, half by path and half by PID, and
// checks inside every call that the thread is in the namespaces of that
// call's holder. The bench module runs the same for 100,000 calls
// (Thread/concurrent16).
func TestConcurrent(t *testing.T) {
	requireNS(t)
	const goroutines = 16
	calls := 1000
	if testing.Short() {
		calls = 100
	}
	var opts [goroutines]Option
	var want [goroutines]map[string]string
	for g := range goroutines {
		pid := testutil.Holder(t, []string{"--net", "--uts", "--ipc", "--cgroup"}, "true")
		want[g] = nsOf(fmt.Sprintf("/proc/%d", pid))
		opts[g] = Target(pid)
		if g%2 == 0 {
			var ns []Namespace
			for _, typ := range Types {
				ns = append(ns, Namespace{Type: typ, Path: fmt.Sprintf("/proc/%d/ns/%s", pid, typ)})
			}
			opts[g] = Namespaces(ns)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				err := Do(func() error {
					got := nsOf("/proc/thread-self")
					for _, typ := range Types {
						if got[typ] != want[g][typ] {
							return fmt.Errorf("goroutine %d, call %d: %s namespace %s, want %s", g, i, typ, got[typ], want[g][typ])
						}
					}
					return nil
				}, opts[g])
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
