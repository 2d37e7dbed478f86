// Command gobench runs one of the program shapes that rt0's `make bench`
// mirrors in C, so that Go's own cost for the same shape can be measured
// as instructions per operation under valgrind's callgrind (measure.sh).
//
//	gobench -bench NAME -n N
//
// runs benchmark NAME for (about) N operations and prints
//
//	gobench NAME ops=K
//
// where K is the number of operations actually done: chan-sync and the
// chan-prodcons shapes work in chunks of 1000, so N is rounded down the way
// Go's own benchmarks round b.N, and gosched splits N between two
// goroutines.  measure.sh divides by K.
//
// The runtime is set up alike for every shape: GOMAXPROCS=1 (one P, as
// rt0's bench runs with maxprocs=1), and the garbage collector off
// (debug.SetGCPercent(-1), i.e. GOGC=off), so no GC cycle runs during the
// measurement.  None of the loops allocates anyway, except spawn-chain,
// which reuses dead goroutines from the P's free list.
//
// Only the standard library is used; no timing is done here.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	_ "unsafe" // for go:linkname
)

// The runtime's semaphore, as the sync package reaches it.  The bodies are
// runtime.sync_runtime_Semacquire and runtime.sync_runtime_Semrelease,
// which the runtime pushes under these sync.* names; linkname.s (empty)
// lets the compiler accept the body-less declarations.

//go:linkname runtime_Semacquire sync.runtime_Semacquire
func runtime_Semacquire(addr *uint32)

//go:linkname runtime_Semrelease sync.runtime_Semrelease
func runtime_Semrelease(addr *uint32, handoff bool, skipframes int)

// callsPerSched is the chunk size of Go's chan_test.go benchmarks that
// chan-sync and chan-prodcons* reproduce.
const callsPerSched = 1000

// Each benchmark runs n operations and returns how many it did.
var benches = map[string]func(n int) int{
	"chan-pingpong":         chanPingPong,
	"chan-sync":             chanSync,
	"chan-prodcons0":        func(n int) int { return chanProdCons(n, 0) },
	"chan-prodcons100":      func(n int) int { return chanProdCons(n, 100) },
	"select-uncontended":    selectUncontended,
	"chan-nonblocking":      chanNonblocking,
	"mutex-uncontended":     mutexUncontended,
	"waitgroup-uncontended": waitGroupUncontended,
	"sema-handoff":          semaHandoff,
	"gosched":               gosched,
	"spawn-chain":           spawnChain,
}

// sink keeps results observable so that no loop can be optimised away.
var sink int

// chan-pingpong: two goroutines, two unbuffered channels; main sends i on
// ping and waits for it back on pong.  One op = one round trip.
func chanPingPong(n int) int {
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v
		}
	}()
	s := 0
	for i := 0; i < n; i++ {
		ping <- i
		s += <-pong
	}
	sink = s
	return n
}

// chan-sync: the shape of Go's BenchmarkChanSync (benchmarkChanSync with no
// local work).  Two goroutines share one unbuffered channel and take
// chunks of callsPerSched iterations from a shared counter; the parity of
// the chunk number decides whether the goroutine receives then sends, or
// sends then receives.  One op = one inner iteration; the chunk count is
// rounded down to an even number, as in Go.
func chanSync(n int) int {
	const procs = 2
	chunks := int32(n / callsPerSched / procs * procs)
	left := chunks
	done := make(chan bool, procs)
	myc := make(chan int)
	for p := 0; p < procs; p++ {
		go func() {
			for {
				k := atomic.AddInt32(&left, -1)
				if k < 0 {
					break
				}
				for j := 0; j < callsPerSched; j++ {
					if k%2 == 0 {
						<-myc
						myc <- 0
					} else {
						myc <- 0
						<-myc
					}
				}
			}
			done <- true
		}()
	}
	for p := 0; p < procs; p++ {
		<-done
	}
	return int(chunks) * callsPerSched
}

// chan-prodcons0 / chan-prodcons100: the shape of Go's
// benchmarkChanProdCons(b, chanSize, 0) with procs = GOMAXPROCS = 1: one
// producer sending 1 on a channel of capacity chanSize, in chunks of
// callsPerSched taken from a shared counter, then a final 0; one consumer
// receiving until it sees 0.  One op = one message (the final 0 is not
// counted, as in Go).
func chanProdCons(n, chanSize int) int {
	procs := runtime.GOMAXPROCS(-1)
	chunks := int32(n / callsPerSched)
	left := chunks
	done := make(chan bool, 2*procs)
	myc := make(chan int, chanSize)
	for p := 0; p < procs; p++ {
		go func() { // producer
			for atomic.AddInt32(&left, -1) >= 0 {
				for j := 0; j < callsPerSched; j++ {
					myc <- 1
				}
			}
			myc <- 0
			done <- true
		}()
		go func() { // consumer
			for {
				if v := <-myc; v == 0 {
					break
				}
			}
			done <- true
		}()
	}
	for p := 0; p < procs; p++ {
		<-done
		<-done
	}
	return int(chunks) * callsPerSched
}

// select-uncontended: the body of Go's BenchmarkSelectUncontended in one
// goroutine.  Two channels of capacity 1, one token passed between them by
// a two-case select.  One op = one select (one receive plus one send).
func selectUncontended(n int) int {
	myc1 := make(chan int, 1)
	myc2 := make(chan int, 1)
	myc1 <- 0
	for i := 0; i < n; i++ {
		select {
		case <-myc1:
			myc2 <- 0
		case <-myc2:
			myc1 <- 0
		}
	}
	return n
}

// chan-nonblocking: the body of Go's BenchmarkChanNonblocking in one
// goroutine: a receive-or-default select on an unbuffered channel nobody
// sends on.  One op = one select.
func chanNonblocking(n int) int {
	myc := make(chan int)
	s := 0
	for i := 0; i < n; i++ {
		select {
		case v := <-myc:
			s += v
		default:
		}
	}
	sink = s
	return n
}

// mutex-uncontended: one sync.Mutex, one goroutine.  One op = Lock+Unlock.
func mutexUncontended(n int) int {
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		mu.Lock()
		mu.Unlock()
	}
	return n
}

// waitgroup-uncontended: one sync.WaitGroup, one goroutine.
// One op = Add(1); Done(); Wait() (Wait returns at once).
func waitGroupUncontended(n int) int {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		wg.Done()
		wg.Wait()
	}
	return n
}

// sema-handoff: the runtime semaphore with handoff between two goroutines.
// A (main) releases s1 with handoff and acquires s2; B acquires s1 and
// releases s2 with handoff.  One op = one round trip.
func semaHandoff(n int) int {
	var s1, s2 uint32
	go func() { // B
		for i := 0; i < n; i++ {
			runtime_Semacquire(&s1)
			runtime_Semrelease(&s2, true, 0)
		}
	}()
	for i := 0; i < n; i++ { // A
		runtime_Semrelease(&s1, true, 0)
		runtime_Semacquire(&s2)
	}
	return n
}

// gosched: two goroutines each calling runtime.Gosched() n/2 times (as
// rt0's yield_pair: both spawned, main waits for both).  One op = one
// Gosched, so n (rounded down to even) in all.
func gosched(n int) int {
	per := n / 2
	done := make(chan bool, 2)
	for p := 0; p < 2; p++ {
		go func() {
			for i := 0; i < per; i++ {
				runtime.Gosched()
			}
			done <- true
		}()
	}
	<-done
	<-done
	return 2 * per
}

// spawn-chain: each goroutine spawns the next and exits, n goroutines in
// all (as rt0's bench_spawn_chain: main spawns the first, the last one
// signals main through a channel).  One op = one spawn + exit.  The
// counter is shared through the closure, which is made once: `go link()`
// allocates nothing, whereas `go link(k)` would heap-allocate a wrapper
// closure per spawn in Go 1.19 (about 200 instructions more).
func spawnChain(n int) int {
	if n < 1 {
		return 0
	}
	left := n
	done := make(chan bool)
	var link func()
	link = func() {
		left--
		if left > 0 {
			go link()
			return
		}
		done <- true
	}
	go link()
	<-done
	return n
}

func main() {
	name := flag.String("bench", "", "benchmark to run (-list lists them)")
	n := flag.Int("n", 100000, "number of operations")
	list := flag.Bool("list", false, "list the benchmarks and exit")
	flag.Parse()

	if *list {
		names := make([]string, 0, len(benches))
		for k := range benches {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Println(k)
		}
		return
	}
	f, ok := benches[*name]
	if !ok || *n < 0 {
		fmt.Fprintf(os.Stderr, "usage: gobench -bench NAME -n N (NAME from -list)\n")
		os.Exit(2)
	}

	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1) // GOGC=off: no collection during the run
	ops := f(*n)
	fmt.Printf("gobench %s ops=%d\n", *name, ops)
}
