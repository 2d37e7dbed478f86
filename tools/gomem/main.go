// tools/gomem: the Go side of rt0's app=million, for make bench.
//
//	gomem N    park N goroutines on a channel; print runtime.MemStats'
//	           Sys per goroutine (its growth over the empty program's),
//	           then release them
//	gomem max  park goroutines in batches of 10,000, printing the count
//	           after each, until the memory runs out (run it in a memory
//	           cgroup: the last count printed is the most that fit)
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

const batch = 10000

func park(gate chan struct{}, parked, done *sync.WaitGroup, n int) {
	parked.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			parked.Done()
			<-gate
			done.Done()
		}()
	}
	parked.Wait()
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gomem N | gomem max")
		os.Exit(2)
	}
	gate := make(chan struct{})
	var parked, done sync.WaitGroup
	if os.Args[1] == "max" {
		for n := batch; ; n += batch {
			park(gate, &parked, &done, batch)
			fmt.Printf("parked %d\n", n)
		}
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "gomem: N must be a positive number")
		os.Exit(2)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	park(gate, &parked, &done, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	fmt.Printf("go %s: %d goroutines parked: Sys %d bytes each (%d of them stack)\n",
		runtime.Version(), n, (after.Sys-before.Sys)/uint64(n),
		(after.StackSys-before.StackSys)/uint64(n))
	close(gate)
	done.Wait()
}
