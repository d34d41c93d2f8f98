package parallel

import (
	"maps"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestForCoversEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 100, 1001} {
		for _, minPer := range []int{0, 1, 4, 50} {
			seen := make([]int32, n)
			For(n, minPer, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&seen[i], 1)
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("n=%d minPer=%d: index %d visited %d times", n, minPer, i, c)
				}
			}
		}
	}
}

// ranges records the ranges For passes to fn, keyed by lo.
func ranges(n, minPer int) map[int]int {
	var mu sync.Mutex
	got := map[int]int{}
	For(n, minPer, func(lo, hi int) {
		mu.Lock()
		got[lo] = hi
		mu.Unlock()
	})
	return got
}

func TestForPartitionIsFixed(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{1, 5, 17, 1000} {
			w := min(procs, n)
			want := map[int]int{}
			for i := 0; i < w; i++ {
				want[i*n/w] = (i + 1) * n / w
			}
			for rep := 0; rep < 20; rep++ {
				if got := ranges(n, 1); !maps.Equal(got, want) {
					t.Fatalf("GOMAXPROCS %d, n %d: ranges %v, want %v", procs, n, got, want)
				}
			}
		}
	}
}

func TestForNestedAndConcurrent(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const outer, inner = 37, 101
	var wg sync.WaitGroup
	counts := make([][]int32, 4)
	for g := range counts {
		counts[g] = make([]int32, outer*inner)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 50; rep++ {
				For(outer, 1, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						For(inner, 1, func(a, b int) {
							for j := a; j < b; j++ {
								atomic.AddInt32(&counts[g][i*inner+j], 1)
							}
						})
					}
				})
			}
		}()
	}
	wg.Wait()
	for g, c := range counts {
		for i, v := range c {
			if v != 50 {
				t.Fatalf("goroutine %d: index %d visited %d times, want 50", g, i, v)
			}
		}
	}
}

// TestForAfterHelpersSleep runs loops after the helpers have gone to
// sleep, so they are woken, and after GOMAXPROCS grows, so more start.
// Each range waits for all to start, which finishes only if they run on
// different goroutines at once.
func TestForAfterHelpersSleep(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, procs := range []int{2, 6, 2} {
		runtime.GOMAXPROCS(procs)
		for rep := 0; rep < 3; rep++ {
			time.Sleep(3 * spinFor)
			var calls atomic.Int32
			var started sync.WaitGroup
			started.Add(procs)
			seen := make([]int32, 64)
			For(64, 1, func(lo, hi int) {
				calls.Add(1)
				started.Done()
				started.Wait()
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&seen[i], 1)
				}
			})
			if int(calls.Load()) != procs {
				t.Fatalf("GOMAXPROCS %d: %d ranges, want %d", procs, calls.Load(), procs)
			}
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("GOMAXPROCS %d: index %d visited %d times", procs, i, c)
				}
			}
		}
	}
}

// TestForReusedLoops runs many short loops of varying range counts from
// several goroutines at once, so that loops are reused while helpers may
// still hold them from an earlier call: every index must still run once.
func TestForReusedLoops(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := range 2000 {
				n := 1 + (rep*7+g)%13
				seen := make([]int32, n)
				For(n, 1, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&seen[i], 1)
					}
				})
				for i, c := range seen {
					if c != 1 {
						t.Errorf("goroutine %d, loop %d of %d ranges: index %d ran %d times", g, rep, n, i, c)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestForAllocatesNothing: a loop shared out reuses a finished loop
// value, so For itself allocates nothing once one is pooled.
func TestForAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var sum atomic.Int64
	fn := func(lo, hi int) { sum.Add(int64(hi - lo)) }
	For(64, 1, fn)
	if a := testing.AllocsPerRun(100, func() { For(64, 1, fn) }); a >= 1 {
		t.Errorf("For allocates %.1f objects a call, want none", a)
	}
}

// TestForPanicInCallersRange: a panic in the first range reaches the
// caller, and the loop does not stay posted (later loops would run on new
// goroutines instead of the helpers).
func TestForPanicInCallersRange(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("For returned without the panic of range 0")
			}
		}()
		For(2, 1, func(lo, hi int) {
			if lo == 0 {
				panic("range 0")
			}
		})
	}()
	if pool.posted.Load() != nil {
		t.Fatal("a loop is still posted after the panic")
	}
	var started sync.WaitGroup
	started.Add(2)
	For(2, 1, func(lo, hi int) {
		started.Done()
		started.Wait()
	})
}

// BenchmarkFor times the short loops of a batch-1 pass back to back, on
// the helper pool and on new goroutines per loop (what For did before
// the pool, and still does for a loop started inside another).
func BenchmarkFor(b *testing.B) {
	var sink [64]float32
	fn := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			sink[i]++
		}
	}
	b.Run("helpers", func(b *testing.B) {
		for b.Loop() {
			For(64, 1, fn)
		}
	})
	b.Run("new-goroutines", func(b *testing.B) {
		w := Split(64, 1)
		for b.Loop() {
			forGoroutines(64, w, fn)
		}
	})
}
