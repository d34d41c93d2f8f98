package parallel

import (
	"sync/atomic"
	"testing"
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
