package pool

import (
	"math"
	"runtime"
	"testing"
	"unsafe"
)

func allNaN(s []float32) bool {
	for _, v := range s {
		if !math.IsNaN(float64(v)) {
			return false
		}
	}
	return true
}

// Put then Get of the same capacity hands the same array back (unless a
// garbage collection emptied the sync.Pool in between).
func TestGetReusesPutArrays(t *testing.T) {
	defer SetPoison(SetPoison(false))
	for _, tc := range []struct {
		name   string
		n      int
		get    func(n int) []float32
		wantCp int
	}{
		{"Get", RecycleMin + 7, Get, RecycleMin + 7},
		{"GetZero", RecycleMin + 9, GetZero, RecycleMin + 9},
		{"GetClass", 1000, func(n int) []float32 { return *GetClass(n) }, 1024},
		{"GetClass/pow2", 4096, func(n int) []float32 { return *GetClass(n) }, 4096},
		{"GetClass/0", 0, func(n int) []float32 { return *GetClass(n) }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.get(tc.n)
			if len(first) != tc.n || cap(first) != tc.wantCp {
				t.Fatalf("len %d cap %d, want len %d cap %d", len(first), cap(first), tc.n, tc.wantCp)
			}
			for i := range first {
				first[i] = 3
			}
			Put(first)
			again := tc.get(tc.n)
			if unsafe.SliceData(again) != unsafe.SliceData(first) {
				t.Skip("the pool dropped the array (a garbage collection ran); nothing to check")
			}
			if len(again) != tc.n {
				t.Errorf("reused array has len %d, want %d", len(again), tc.n)
			}
			if tc.name == "GetZero" && len(again) > 0 && again[0] != 0 {
				t.Error("GetZero returned a recycled array without clearing it")
			}
		})
	}
}

// Recycle keeps whole arrays of at least RecycleMin elements, once each.
func TestRecycleSkipsWhatItMustNotKeep(t *testing.T) {
	defer SetPoison(SetPoison(true)) // a kept array turns to NaN
	whole := make([]float32, RecycleMin)
	small := make([]float32, RecycleMin-1)
	big := make([]float32, 2*RecycleMin)
	part := big[:RecycleMin] // the rest of big may be someone else's
	Recycle(nil, small, part, whole, whole)
	for _, tc := range []struct {
		name string
		s    []float32
		kept bool
	}{
		{"whole array", whole, true},
		{"below RecycleMin", small, false},
		{"part of a larger array", big, false},
	} {
		if got := allNaN(tc.s); got != tc.kept {
			t.Errorf("%s: kept %v, want %v", tc.name, got, tc.kept)
		}
	}
	a, b := Get(RecycleMin), Get(RecycleMin)
	if unsafe.SliceData(a) == unsafe.SliceData(b) {
		t.Error("an array listed twice was handed out twice")
	}
}

// In the poisoning mode storage handed back turns to NaN at once, and
// storage handed out is NaN until written, fresh or recycled; GetZero
// still returns zeros.
func TestPoison(t *testing.T) {
	defer SetPoison(SetPoison(true))
	held := make([]float32, 300)
	stale := held[:10] // a reader that kept a slice after the hand-back
	Put(held)
	if !allNaN(stale) {
		t.Error("a slice read after Put does not show NaN")
	}
	if s := Get(12345); !allNaN(s) {
		t.Error("Get returned storage that is not NaN")
	}
	if p := GetClass(777); !allNaN(*p) {
		t.Error("GetClass returned storage that is not NaN")
	}
	z := GetZero(300)
	for i, v := range z {
		if v != 0 {
			t.Fatalf("GetZero: element %d is %v", i, v)
		}
	}
	if SetPoison(false) != true || SetPoison(true) != false {
		t.Error("SetPoison does not report the previous setting")
	}
}

// emptyKeep forgets the arrays keep holds (tests start from nothing).
func emptyKeep() {
	keep.Lock()
	defer keep.Unlock()
	keep.free, keep.floats = nil, 0
}

// The arrays in keep survive garbage collections, and keep holds the
// largest arrays it is offered within its bounds.
func TestKeepSurvivesGCAndHoldsTheLargest(t *testing.T) {
	defer SetPoison(SetPoison(false))
	emptyKeep()
	defer emptyKeep()
	big := make([]float32, 3<<20)
	Put(big)
	runtime.GC()
	runtime.GC()
	if got := Get(3 << 20); unsafe.SliceData(got) != unsafe.SliceData(big) {
		t.Error("an array in keep was lost to garbage collections")
	}

	small := make([]float32, keepMin-1) // below keep's floor: a sync.Pool's, though keep has room
	Put(small)
	keep.Lock()
	for _, p := range keep.free {
		if unsafe.SliceData(p) == unsafe.SliceData(small) {
			t.Errorf("keep took an array of %d floats, below its floor of %d", len(small), keepMin)
		}
	}
	keep.Unlock()
	for i := range keepCount {
		Put(make([]float32, keepMin+i))
	}
	larger := make([]float32, keepMin+5000)
	Put(larger)

	tooBig := make([]float32, keepFloats+1)
	Put(tooBig)
	keep.Lock()
	defer keep.Unlock()
	has := func(s []float32) bool {
		for _, p := range keep.free {
			if unsafe.SliceData(p) == unsafe.SliceData(s) {
				return true
			}
		}
		return false
	}
	sum := 0
	for _, p := range keep.free {
		sum += cap(p)
		if cap(p) == keepMin {
			t.Error("keep still holds its smallest array after a larger one came")
		}
	}
	switch {
	case len(keep.free) > keepCount:
		t.Errorf("keep holds %d arrays, at most %d allowed", len(keep.free), keepCount)
	case sum != keep.floats || sum > keepFloats:
		t.Errorf("keep holds %d floats, counts %d, at most %d allowed", sum, keep.floats, keepFloats)
	case !has(larger):
		t.Error("keep did not take a larger array in place of its smallest")
	case has(tooBig):
		t.Error("keep took an array beyond its bound")
	}
}

// TestRoundTripAllocatesNothing: once an array of a capacity has been
// put, Get and Put of that capacity allocate nothing through the
// sync.Pools (an array goes in as its first element's pointer), nor do
// GetClass and PutClass (their *[]float32 is recycled too). keep is
// filled with larger arrays for the test, so the arrays go through the
// sync.Pools rather than keep. (A collection that empties a pool during
// the 100 runs costs one allocation, below AllocsPerRun's whole count.)
func TestRoundTripAllocatesNothing(t *testing.T) {
	keep.Lock()
	saved, savedFloats := keep.free, keep.floats
	keep.free, keep.floats = nil, 0
	for range keepCount {
		keep.free = append(keep.free, make([]float32, 8192))
		keep.floats += 8192
	}
	keep.Unlock()
	defer func() {
		keep.Lock()
		keep.free, keep.floats = saved, savedFloats
		keep.Unlock()
	}()
	for _, n := range []int{1000, 4096} {
		Put(Get(n))
		if a := testing.AllocsPerRun(100, func() { Put(Get(n)) }); a != 0 {
			t.Errorf("Put(Get(%d)) allocates %.0f objects a call, want none", n, a)
		}
	}
	PutClass(GetClass(1000))
	if a := testing.AllocsPerRun(100, func() { PutClass(GetClass(1000)) }); a != 0 {
		t.Errorf("PutClass(GetClass(1000)) allocates %.0f objects a call, want none", a)
	}
}
