package nn

import (
	"sync/atomic"
	"time"
)

// A wayTimer chooses, call by call, between two ways of running the same
// work to the same bits (a small convolution on one goroutine, wayOne,
// or spread over the workers, waySpread) by the wall time each has been
// taking. Which one wins depends on the machine, and on the virtual
// machines measured it changed while a process ran (see
// tune.SpreadMin): so a wayTimer runs the way that has been faster,
// and in every wayProbe calls probeRuns of the other, to notice when
// the order turns.
//
// A way's first call after the other's runs is not timed: spreading
// wakes the helper goroutines, which fall asleep when no loop comes for
// a while (parallel's spinFor), and one that is woken costs a call far
// more than one that is awake. Timed from a cold start, spreading would
// look slow for ever.
//
// Calls from several goroutines may race on the counts and averages;
// each update is atomic, and a lost one only delays the choice.
type wayTimer struct {
	calls atomic.Uint32
	ns    [2]atomic.Int64 // each way's smoothed wall time, ns (0: not yet timed), by way
}

// The ways a wayTimer chooses between: the work on one goroutine, or
// spread over the workers.
const (
	wayOne = iota
	waySpread
)

// wayProbe and probeRuns: in every wayProbe calls a wayTimer runs
// probeRuns of the way that has been slower. The lecture's batch-1
// conv2 takes 66 µs on one goroutine and 32 µs spread: its probes cost
// about 0.5 µs a call (and one call to wake the helper after them, a
// probe being longer than parallel's spinFor). The timer follows a
// change within 256 calls: 64 of the ResNet's batch-1 forward passes.
const (
	wayProbe  = 256
	probeRuns = 4
)

// choose returns the way to run next, and the time it starts if it is
// to be timed (record), else the zero time. A way not yet timed counts
// as the faster, so each is timed early on.
func (t *wayTimer) choose() (way int, start time.Time) {
	pos := (t.calls.Add(1) - 1) % wayProbe
	best := 0
	if t.ns[1].Load() < t.ns[0].Load() {
		best = 1
	}
	way, timed := best, pos > probeRuns
	if pos < probeRuns {
		way, timed = 1-best, pos > 0
	}
	if timed {
		start = time.Now()
	}
	return way, start
}

// record adds the time of a run of way that started at start, unless
// start is zero (choose did not time it).
func (t *wayTimer) record(way int, start time.Time) {
	if !start.IsZero() {
		t.add(way, int64(time.Since(start)))
	}
}

// add folds a run of d ns into way's average: one eighth of the way
// towards it, a run of more than twice the average counted as twice (a
// preemption or a collection says nothing of the way). A run of less
// than half the average restarts it: the first runs pay for their pages
// and caches, and their times would keep the average high for long.
func (t *wayTimer) add(way int, d int64) {
	d = max(d, 1)
	avg := t.ns[way].Load()
	if avg == 0 || d < avg/2 {
		avg = d
	} else {
		avg += (min(d, 2*avg) - avg) / 8
	}
	t.ns[way].Store(avg)
}
