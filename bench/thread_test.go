package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsthread"
)

// threadBatch is how many calls a request of the Thread benchmark makes
// in the subject: enough that a batch's time is far above the clock's
// resolution and the pipe's round trip, few enough that every mode runs
// in every iteration.
const threadBatch = 50

// threadTypes are the namespace types of the rows of BenchmarkThread.
var threadTypes = map[string][]string{
	"net":  {"net"},
	"uts":  {"uts"},
	"all4": {"cgroup", "ipc", "net", "uts"},
	"mnt":  {"mnt"},
}

// BenchmarkThread times a call of a trivial function inside a holder's
// namespaces, in the subject testdata/thread, which times its calls
// itself: through nsthread.Run by path (thread) and by PID (threadpid,
// all types in one setns of a pidfd); for net, through
// vishvananda/netns as its users write it (netns: lock the thread, Get
// the thread's namespace, GetFromPath the other, Set, call, Set back,
// close both, unlock); as a typed reexec action run with
// reexec.InProcess (inprocess); and as the same action in a child
// (reexec: a round trip), and the same through the fork server of
// package reexec/forkserver, in the subject testdata/threadfork
// (forkserver). Each iteration makes a batch of calls in each mode (one
// round trip each for reexec and forkserver), in an order drawn at
// random. In the row mnt the function also reads a small file on a
// tmpfs only the holder's mount namespace shows, and every call checks
// what it read; nsthread runs such a call on a thread it discards
// afterwards, so the figure includes a thread's creation. The thread
// calls come from a goroutine free to move, which nsthread runs the
// function on; for net, threadlocked makes them from a goroutine locked
// to its thread, which nsthread leaves alone and runs the function on a
// fresh goroutine: that shows what the hand-over costs. Before
// timing, the function reports the namespaces it runs in, in every mode,
// and the benchmark checks that they are the holder's. Thread/concurrent16
// is 16 goroutines calling at once; see there, and concurrent16mnt the
// same into mount namespaces.
func BenchmarkThread(b *testing.B) {
	for _, row := range []string{"net", "uts", "all4", "mnt"} {
		b.Run(row, func(b *testing.B) { benchThread(b, threadTypes[row]) })
	}
	b.Run("concurrent16", benchThreadConcurrent)
	b.Run("concurrent16mnt", benchThreadConcurrentMnt)
}

// mntHolder starts a process in a mount namespace of its own with a tmpfs
// on a directory of the benchmark's, holding a file "who" that says
// holder, and returns its PID and the file's path, which shows nothing
// outside.
func mntHolder(b *testing.B) (int, string) {
	b.Helper()
	testutil.RequireRoot(b)
	dir := b.TempDir()
	pid := testutil.Holder(b, []string{"--mount"}, fmt.Sprintf("mount -t tmpfs gons %s\necho holder > %s/who", dir, dir))
	return pid, filepath.Join(dir, "who")
}

func benchThread(b *testing.B, types []string) {
	var nsPath func(typ string) string
	var read string
	if slices.Contains(types, "mnt") {
		pid, file := mntHolder(b)
		nsPath = func(typ string) string { return fmt.Sprintf("/proc/%d/ns/%s", pid, typ) }
		read = file
	} else {
		nsPath = newHolder(b, false).ns
	}
	if !haveReexec(b) {
		testutil.Unavailable(b, "package reexec is not in this tree")
	}
	d := startDriver(b, buildGoVariant(b, "thread", dynamicGlibc, variant{now: true}))
	df := startDriver(b, buildGoVariant(b, "threadfork", dynamicGlibc, variant{now: true}))
	var args, want []string
	if read != "" {
		args = append(args, "read="+read)
	}
	for _, typ := range types {
		args = append(args, typ+"="+nsPath(typ))
		l, err := os.Readlink(nsPath(typ))
		if err != nil {
			b.Fatal(err)
		}
		want = append(want, l)
	}
	ns := strings.Join(args, " ")
	net := len(types) == 1 && types[0] == "net"
	type request struct {
		d    *driverProc
		mode string // what the subject calls it
		name string // the figure's name
	}
	var reqs []request
	for _, m := range []string{"thread", "threadpid", "inprocess", "reexec"} {
		reqs = append(reqs, request{d, m, m})
	}
	reqs = append(reqs, request{df, "reexec", "forkserver"})
	if net {
		reqs = append(reqs, request{d, "netns", "netns"}, request{d, "threadlocked", "threadlocked"})
	}
	checkThreadModes(b, d, ns, net, strings.Join(want, ","))
	checkThreadModes(b, df, ns, net, strings.Join(want, ","))

	perCall := map[string]series{}
	allocs := map[string]series{}
	rng := rand.New(rand.NewPCG(5, 6))
	n := iterate(b, func(int) {
		rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
		for _, q := range reqs {
			k := threadBatch
			if q.mode == "reexec" {
				k = 1 // a round trip, by exec or through the fork server
			}
			r := q.d.request(b, fmt.Sprintf("%s %d %s", q.mode, k, ns))
			perCall[q.name] = append(perCall[q.name], float64(r.elapsed)/float64(k))
			allocs[q.name] = append(allocs[q.name], float64(r.allocs)/float64(k))
		}
	})
	for _, m := range []string{"thread", "threadpid", "netns", "threadlocked", "inprocess", "reexec", "forkserver"} {
		if perCall[m] != nil {
			distribution(b, m+"-ns/call", perCall[m])
			figure(b, m+"-allocs/call", med(allocs[m]), n, signed)
		}
	}
	if net {
		figure(b, "thread/netns-ratio", over(med(perCall["thread"]), med(perCall["netns"])), n, ratio)
		figure(b, "threadlocked/netns-ratio", over(med(perCall["threadlocked"]), med(perCall["netns"])), n, ratio)
	}
	figure(b, "threadpid/thread-ratio", over(med(perCall["threadpid"]), med(perCall["thread"])), n, ratio)
	figure(b, "inprocess/thread-ratio", over(med(perCall["inprocess"]), med(perCall["thread"])), n, ratio)
	// Far below the plausible band of a like-with-like ratio: checked
	// as a positive figure.
	figure(b, "thread/reexec-ratio", over(med(perCall["thread"]), med(perCall["reexec"])), n, positive)
	figure(b, "thread/forkserver-ratio", over(med(perCall["thread"]), med(perCall["forkserver"])), n, positive)
	figure(b, "forkserver/reexec-ratio", over(med(perCall["forkserver"]), med(perCall["reexec"])), n, ratio)
}

// checkThreadModes has the subject run the function once in each mode
// (netns only for net), reporting the namespaces it ran in, and fails the
// benchmark unless they are want, the holder's, in every mode. The
// subject with one processor runs the same code.
func checkThreadModes(b *testing.B, d *driverProc, ns string, net bool, want string) {
	b.Helper()
	if _, err := fmt.Fprintln(d.in, "check 1 "+ns); err != nil {
		b.Fatal(err)
	}
	line, err := d.out.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	got := strings.Fields(line)
	modes := 4 // thread, threadpid, inprocess, reexec
	if net {
		modes++ // netns
	}
	if len(got) != modes {
		b.Fatalf("check: %q, want a report of each of %d modes", line, modes)
	}
	for _, g := range got {
		mode, links, _ := strings.Cut(g, ":")
		if links != want {
			b.Fatalf("check: %s ran in %s, want the holder's %s", mode, links, want)
		}
	}
}

// concurrentGoroutines and concurrentCalls make up an iteration of
// Thread/concurrent16: 16 goroutines making 30 calls each, so that 300
// iterations, as the README's figures take, come to 144,000 calls.
const (
	concurrentGoroutines = 16
	concurrentCalls      = 30
)

// benchThreadConcurrent has 16 goroutines of the benchmark's own process
// call nsthread.Do at once, each into the cgroup, ipc, net and uts
// namespaces of a holder of its own, half by path, half by PID (pidfd).
// Inside every call the function checks that its thread is in its
// holder's four namespaces, by the links of /proc/thread-self/ns; one
// call that is not fails the benchmark. Each iteration also makes the same
// number of calls from one goroutine, in a random order with the
// concurrent batch: concurrent-ns/call and sequential-ns/call are the wall
// time of a batch over its calls, their ratio what running 16 at once
// gains or loses on this machine's cores.
func benchThreadConcurrent(b *testing.B) {
	testutil.RequireRoot(b)
	var opts [concurrentGoroutines]nsthread.Option
	var want [concurrentGoroutines][]string
	for g := range concurrentGoroutines {
		pid := testutil.Holder(b, []string{"--cgroup", "--ipc", "--net", "--uts"}, "true")
		var ns []nsthread.Namespace
		for _, typ := range nsthread.Types {
			p := fmt.Sprintf("/proc/%d/ns/%s", pid, typ)
			l, err := os.Readlink(p)
			if err != nil {
				b.Fatal(err)
			}
			want[g] = append(want[g], l)
			ns = append(ns, nsthread.Namespace{Type: typ, Path: p})
		}
		opts[g] = nsthread.Target(pid)
		if g%2 == 0 {
			opts[g] = nsthread.Namespaces(ns)
		}
	}
	call := func(g int) error {
		return nsthread.Do(func() error {
			for i, typ := range nsthread.Types {
				if l, _ := os.Readlink("/proc/thread-self/ns/" + typ); l != want[g][i] {
					return fmt.Errorf("goroutine %d: %s namespace %s, want %s", g, typ, l, want[g][i])
				}
			}
			return nil
		}, opts[g])
	}
	concurrentBench(b, rand.NewPCG(7, 8), call, (*sync.WaitGroup).Wait)
}

// benchThreadConcurrentMnt is Thread/concurrent16 into mount namespaces:
// 16 goroutines of the benchmark's own process call nsthread.Do at once,
// each into the mount namespace of a holder of its own, half by path,
// half by PID. Inside every call the function reads every holder's file:
// its own holder's must say so, and no other holder's file may show (the
// files are on tmpfs mounts only their holders see). While the calls run,
// the benchmark's goroutine checks that the process's working directory,
// root and mount namespace (/proc/self: the main thread's) never change.
// Each call runs on a thread nsthread discards, so the figures include a
// thread's creation.
func benchThreadConcurrentMnt(b *testing.B) {
	testutil.RequireRoot(b)
	var opts [concurrentGoroutines]nsthread.Option
	var files [concurrentGoroutines]string
	for g := range concurrentGoroutines {
		pid, file := mntHolder(b)
		files[g] = file
		opts[g] = nsthread.Target(pid, "mnt")
		if g%2 == 0 {
			opts[g] = nsthread.Namespaces([]nsthread.Namespace{{Type: "mnt", Path: fmt.Sprintf("/proc/%d/ns/mnt", pid)}})
		}
	}
	call := func(g int) error {
		return nsthread.Do(func() error {
			for h, file := range files {
				got, err := os.ReadFile(file)
				switch {
				case h == g && (err != nil || string(got) != "holder\n"):
					return fmt.Errorf("goroutine %d: %s: %q, %v", g, file, got, err)
				case h != g && err == nil:
					return fmt.Errorf("goroutine %d sees holder %d's %s", g, h, file)
				}
			}
			return nil
		}, opts[g])
	}
	home := func() string {
		var s []string
		for _, l := range []string{"cwd", "root", "ns/mnt"} {
			t, _ := os.Readlink("/proc/self/" + l)
			s = append(s, t)
		}
		return strings.Join(s, " ")
	}
	before := home()
	watched := 0
	// While the calls run, the process's own cwd, root and mount namespace
	// are checked, again and again.
	watch := func(wg *sync.WaitGroup) {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
				if now := home(); now != before {
					b.Fatalf("while the calls run, the process has %s, not %s", now, before)
				}
				watched++
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	concurrentBench(b, rand.NewPCG(9, 10), call, watch)
	report(b, "home-checks", "", float64(watched), positive)
}

// concurrentBench times concurrentCalls calls of call from each of
// concurrentGoroutines goroutines at once, waited for by wait (wg.Wait, or
// a loop that checks something while they run), and the same calls one
// after another, in an order drawn from src for each iteration; it
// reports the time per call of both, their ratio and the calls checked.
func concurrentBench(b *testing.B, src rand.Source, call func(g int) error, wait func(*sync.WaitGroup)) {
	var concurrent, sequential series
	calls := 0
	rng := rand.New(src)
	runConcurrent := func() {
		var wg sync.WaitGroup
		errs := make(chan error, concurrentGoroutines)
		start := time.Now()
		for g := range concurrentGoroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range concurrentCalls {
					if err := call(g); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wait(&wg)
		concurrent = append(concurrent, float64(time.Since(start))/(concurrentGoroutines*concurrentCalls))
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		calls += concurrentGoroutines * concurrentCalls
	}
	runSequential := func() {
		start := time.Now()
		for i := range concurrentGoroutines * concurrentCalls {
			if err := call(i % concurrentGoroutines); err != nil {
				b.Fatal(err)
			}
		}
		sequential = append(sequential, float64(time.Since(start))/(concurrentGoroutines*concurrentCalls))
	}
	n := iterate(b, func(int) {
		if rng.IntN(2) == 0 {
			runConcurrent()
			runSequential()
		} else {
			runSequential()
			runConcurrent()
		}
	})
	distribution(b, "concurrent-ns/call", concurrent)
	distribution(b, "sequential-ns/call", sequential)
	figure(b, "concurrent/sequential-ratio", over(med(concurrent), med(sequential)), n, ratio)
	report(b, "checked-calls", "", float64(calls), positive)
}
