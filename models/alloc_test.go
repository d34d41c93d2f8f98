package models

import (
	"math"
	"runtime"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/tensor"
)

// TestConvNetBatch1Allocs bounds the heap objects and bytes one warm
// batch-1 inference of the lecture model allocates (Constant, Call, then
// Release, as evaluation and serving do). Every allocation between two
// garbage collections lands on memory the heap has not used before,
// which a virtual machine faults in at tens of microseconds a page; after
// a batch-128 pass collections are far apart, so each KB a call
// allocates costs about a fault every four calls.
//
// The object count is deterministic (38 when this test was written, at
// GOMAXPROCS 1 to 8; 150 objects and 11 KB a call before the plans,
// walks, nodes and loops stopped allocating); the bytes were 2.2–2.6 KB
// (3.2 KB with CONVNET_WINOGRAD=off). The bounds leave room for the
// variations of parallel.For's paths and of the pools between machines.
func TestConvNetBatch1Allocs(t *testing.T) {
	m, err := NewConvNet(ConvNetConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.Zeros(1, ImageSize, ImageSize, 1)
	x.RandUniform(tensor.NewRand(2), 0, 1)
	infer := func() {
		y := m.Call(autograd.Constant(x), layers.Context{})
		if y.Err() != nil {
			t.Fatal(y.Err())
		}
		autograd.Release(y)
	}
	for range 5 { // packs the weights, plans, fills the buffer pool
		infer()
	}
	allocs := testing.AllocsPerRun(200, infer)
	// Bytes: the least of several rounds, since a garbage collection
	// within a round empties the sync.Pools, and refilling them (the
	// scratch buffers, tens of KB) is no part of a call's own cost.
	bytes := uint64(math.MaxUint64)
	for range 8 {
		var before, after runtime.MemStats
		const n = 50
		runtime.ReadMemStats(&before)
		for range n {
			infer()
		}
		runtime.ReadMemStats(&after)
		bytes = min(bytes, (after.TotalAlloc-before.TotalAlloc)/n)
	}
	t.Logf("warm batch-1 inference: %.1f allocs, %d B a call", allocs, bytes)
	const maxAllocs, maxBytes = 50, 4 << 10
	if allocs > maxAllocs {
		t.Errorf("warm batch-1 inference allocates %.1f objects a call, want at most %d", allocs, maxAllocs)
	}
	if bytes > maxBytes {
		t.Errorf("warm batch-1 inference allocates %d B a call, want at most %d", bytes, maxBytes)
	}
}
