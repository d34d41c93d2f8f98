// Package parallel splits loops across GOMAXPROCS goroutines with a fixed
// partition: the same n and worker count always give the same ranges, so
// results that are reduced per range repeat bit for bit.
package parallel

import (
	"runtime"
	"sync"
)

// Workers returns the number of goroutines For uses: GOMAXPROCS.
func Workers() int { return runtime.GOMAXPROCS(0) }

// For calls fn(lo, hi) over a partition of [0, n) into at most Workers()
// contiguous ranges of near-equal size, concurrently, and waits. With
// n below minPer·2 (or one worker) it runs fn(0, n) on the caller.
func For(n, minPer int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if minPer < 1 {
		minPer = 1
	}
	w := Workers()
	if w > n/minPer {
		w = n / minPer
	}
	if w <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for i := 1; i < w; i++ {
		lo, hi := i*n/w, (i+1)*n/w
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/w)
	wg.Wait()
}
