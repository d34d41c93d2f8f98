package nn

import (
	"slices"
	"testing"
)

// TestWayTimer: a fresh timer times each way early on, then runs the
// faster one, with probeRuns of the slower in every wayProbe calls, the
// first call of each switch untimed; it turns to the other way when the
// times change; a first slow run and a single preemption do not hide a
// way that is faster.
func TestWayTimer(t *testing.T) {
	var w wayTimer
	// run makes n calls, timing way 0 at t0 ns and way 1 at t1, and
	// returns the ways run and how many calls were timed.
	run := func(n int, t0, t1 int64) (ways []int, timed int) {
		for range n {
			way, start := w.choose()
			ways = append(ways, way)
			if !start.IsZero() {
				timed++
				w.add(way, [2]int64{t0, t1}[way])
			}
		}
		return ways, timed
	}
	count := func(ways []int, way int) (n int) {
		for _, w := range ways {
			if w == way {
				n++
			}
		}
		return n
	}
	// The start: way 1 is probed first (4 calls, 3 timed), then way 0
	// (not timed yet, so counted faster) runs.
	ways, timed := run(probeRuns+2, 100, 60)
	if want := []int{1, 1, 1, 1, 0, 0}; !slices.Equal(ways, want) || timed != probeRuns-1+1 {
		t.Fatalf("first calls ran ways %v (%d timed), want %v (%d timed)", ways, timed, want, probeRuns)
	}
	// Way 1 is faster: it runs all but the probes of way 0.
	ways, _ = run(2*wayProbe-len(ways), 100, 60)
	if n := count(ways, 0); n != probeRuns {
		t.Errorf("with way 1 faster, way 0 ran %d of %d calls, want the %d of one probe", n, len(ways), probeRuns)
	}
	// One preemption counts as twice the average at most.
	w.add(1, 1_000_000)
	if got := w.ns[1].Load(); got > 60+60/8 {
		t.Errorf("after a run of 1 ms the average is %d ns, want at most %d", got, 60+60/8)
	}
	// Way 1 slows down for good: within two periods the timer turns to
	// way 0, and from then on runs way 1 only in probes.
	run(2*wayProbe, 100, 130)
	ways, _ = run(wayProbe, 100, 130)
	if n := count(ways, 1); n != probeRuns {
		t.Errorf("with way 1 slower, it ran %d of %d calls, want %d", n, len(ways), probeRuns)
	}
	// A slow first run restarts nothing but is soon forgotten: a run of
	// under half the average restarts it.
	var v wayTimer
	v.add(0, 1000)
	v.add(0, 100)
	if got := v.ns[0].Load(); got != 100 {
		t.Errorf("a run of 100 ns after one of 1000: average %d, want 100", got)
	}
}
