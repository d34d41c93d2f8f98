//go:build unix

package cputime

import (
	"testing"
	"time"
)

// TestProcessGrowsWithWork spins for 50 ms of wall time on one
// goroutine: the process's CPU time must grow by a part of that (it may
// wait for a core on a busy machine, hence the slack).
func TestProcessGrowsWithWork(t *testing.T) {
	t0, c0 := time.Now(), Process()
	x := 1.0
	for time.Since(t0) < 50*time.Millisecond {
		for range 1000 {
			x = x*1.0000001 + 1e-9
		}
	}
	if cpu := Process() - c0; cpu < 5*time.Millisecond || x == 0 {
		t.Fatalf("50 ms of spinning added %v of CPU time", cpu)
	}
}
