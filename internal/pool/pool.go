// Package pool is convnet's one store of recycled float32 storage. A
// training step allocates the same large arrays every time (activations
// and their gradients, convolution scratch, GEMM packing buffers, tens
// of MB in all), and fresh memory is expensive: the runtime zeroes it
// and the kernel faults it in page by page. Those arrays therefore come
// from here and go back here when their owner is done with them.
//
// Arrays are kept by exact capacity: a few (at most 64 MiB) in a small
// list that garbage collections leave alone, the rest in sync.Pools, so
// that the collector still reclaims storage that stays unused. Get serves exact
// lengths (op results, which recur with the same shapes); GetClass
// rounds the capacity up to a power of two (scratch whose length varies
// from call to call).
//
// Nothing here is exported outside the module: the public API owns
// memory through autograd.Workspace, which never asks a caller to
// promise that nobody reads a tensor again. Within the module, Put and
// Recycle carry that promise: after them the caller must not touch the
// array. SetPoison (or the build tag "poison") fills every array handed
// back with NaN, and every array handed out, so that a read after the
// hand-back, or of an element a caller forgot to write, shows in tests.
package pool

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// RecycleMin is the fewest elements Recycle keeps (1 KiB). Memory the
// heap has not used before costs a page fault, tens of microseconds on a
// virtual machine, and until the next collection every allocation is
// such memory: after a batch-128 pass (a large heap, so collections far
// apart) the lecture model's batch-1 forward pass faulted in about three
// pages a call. At 16 KiB its 4–12 KiB dense and pooling results came
// fresh from the heap: 320 µs a call against 245 µs with them recycled
// (and 175 µs once a collection has freed pages to reuse). At 256 KiB
// its 12–100 KiB activations did, about 40 µs of allocating and zeroing.
const RecycleMin = 1 << 8

// Free arrays, as *float32 (the first element: the pool an array is in
// gives its capacity, and a pointer goes into an interface without an
// allocation, so handing an array back costs none), by exact capacity: a
// power of two 1<<i in classes[i] (no lookup, so the many small scratch
// buffers of a step cost nothing), any other capacity in exact.
var (
	classes [64]sync.Pool
	mu      sync.RWMutex
	exact   = map[int]*sync.Pool{}
)

// holders keeps the empty *[]float32 that GetClass hands out and
// PutClass takes back, so that a scratch buffer's pointer costs no
// allocation either once a few are in use.
var holders sync.Pool

// keep holds a few arrays where garbage collections cannot reach them: a
// sync.Pool drops what it holds within two collections, and faulting a
// fresh multi-MiB packing buffer in again costs more than the product it
// serves. Put fills keep first (at most keepCount arrays, keepFloats
// elements in all), then replaces its smallest arrays by larger ones;
// take looks there first, which also spares the sync.Pools' costly miss
// path while keep is not full.
var keep struct {
	sync.Mutex
	free   [][]float32 // each with len = cap
	floats int
}

const (
	keepCount  = 16
	keepFloats = 16 << 20 // 64 MiB
	// keepMin is the smallest array keep takes. The smaller scratch
	// buffers (a GEMM's packed tile, the small products of a Winograd
	// filter gradient, taken and handed back thousands of times a step
	// by both workers) go straight to the sync.Pools, whose per-P caches
	// need no lock: through keep, each took its mutex twice. The
	// collections that would empty those pools come seldom once a
	// training loop recycles its tensors, and such an array is a few
	// pages to fault in again.
	keepMin = 1 << 15 // 128 KiB
)

// poolFor returns the pool of arrays of capacity c (> 0), or nil when
// there is none and create is false.
func poolFor(c int, create bool) *sync.Pool {
	if c&(c-1) == 0 {
		return &classes[bits.TrailingZeros(uint(c))]
	}
	mu.RLock()
	p := exact[c]
	mu.RUnlock()
	if p != nil || !create {
		return p
	}
	mu.Lock()
	defer mu.Unlock()
	if p = exact[c]; p == nil {
		p = new(sync.Pool)
		exact[c] = p
	}
	return p
}

var poison atomic.Bool

// SetPoison turns the poisoning mode on or off and returns the previous
// setting. While it is on, Put fills the array it receives with NaN and
// Get and GetClass return NaN-filled storage, fresh or recycled. Tests
// turn it on to show that nothing reads storage after handing it back.
func SetPoison(on bool) (was bool) { return poison.Swap(on) }

// Get returns n float32s (len and cap n) whose contents are undefined:
// recycled storage holds old values (NaN under SetPoison), fresh storage
// zeros. The caller overwrites every element it reads.
func Get(n int) []float32 {
	s := take(n)
	if s == nil {
		s = make([]float32, n)
	}
	if poison.Load() {
		fill(s)
	}
	return s
}

// GetZero is Get with every element zero.
func GetZero(n int) []float32 {
	if s := take(n); s != nil {
		clear(s)
		return s
	}
	return make([]float32, n)
}

// GetClass returns a pointer to n float32s of undefined contents in an
// array whose capacity is n rounded up to a power of two, so that
// lengths which vary a little share storage. Hand it back with
// PutClass; the pointer travels with the array, so a scratch buffer
// costs no allocation once the pool holds one.
func GetClass(n int) *[]float32 {
	c := 1 << bits.Len(uint(max(n, 1)-1))
	s := take(c)
	if s == nil {
		s = make([]float32, c)
	}
	p, _ := holders.Get().(*[]float32)
	if p == nil {
		p = new([]float32)
	}
	*p = s[:n]
	if poison.Load() {
		fill(*p)
	}
	return p
}

// take returns a recycled array of capacity n (len n), or nil.
func take(n int) []float32 {
	if n <= 0 {
		return nil
	}
	if n >= keepMin {
		if s := takeKept(n); s != nil {
			return s
		}
	}
	if p := poolFor(n, false); p != nil {
		if first, ok := p.Get().(*float32); ok {
			return unsafe.Slice(first, n)
		}
	}
	return nil
}

// takeKept removes an array of capacity n from keep and returns it, or
// nil when keep has none.
func takeKept(n int) []float32 {
	keep.Lock()
	defer keep.Unlock()
	for i, s := range keep.free {
		if cap(s) == n {
			last := len(keep.free) - 1
			keep.free[i], keep.free[last] = keep.free[last], nil
			keep.free = keep.free[:last]
			keep.floats -= n
			return s
		}
	}
	return nil
}

// Put hands the whole array under s (s[:cap(s)]) to the pool. The
// caller must own that array outright: afterwards nothing may read or
// write it through any slice, since a later Get may return it. A nil or
// zero-capacity s is ignored.
func Put(s []float32) {
	if cap(s) == 0 {
		return
	}
	s = s[:cap(s)]
	if poison.Load() {
		fill(s)
	}
	if cap(s) >= keepMin {
		s = keepLargest(s)
	}
	if s != nil {
		poolFor(cap(s), true).Put(unsafe.SliceData(s))
	}
}

// PutClass is Put for a pointer from GetClass (or any pointer to a
// slice the caller owns outright, array and pointer both); nil is
// ignored. The pointer goes back too: a later GetClass may return it.
func PutClass(p *[]float32) {
	if p == nil {
		return
	}
	s := *p
	*p = nil
	holders.Put(p)
	Put(s)
}

// keepLargest adds p to keep when there is room, or in place of keep's
// smallest array when p is larger and fits, and returns the array left
// out (p, the one it replaced, or nil).
func keepLargest(p []float32) []float32 {
	keep.Lock()
	defer keep.Unlock()
	n := cap(p)
	if n > keepFloats {
		return p
	}
	if len(keep.free) < keepCount && keep.floats+n <= keepFloats {
		keep.free = append(keep.free, p)
		keep.floats += n
		return nil
	}
	small := -1
	for i, s := range keep.free {
		if small < 0 || cap(s) < cap(keep.free[small]) {
			small = i
		}
	}
	if small < 0 || cap(keep.free[small]) >= n || keep.floats-cap(keep.free[small])+n > keepFloats {
		return p
	}
	out := keep.free[small]
	keep.free[small] = p
	keep.floats += n - cap(out)
	return out
}

// Recycle puts each array of ss that is worth keeping: nil slices,
// slices shorter than RecycleMin and slices that are only a part of
// their array (len < cap, a sub-slice that may share the array with
// others) are ignored, and an array listed twice is put once. It is the
// hand-back of tensors' storage (t.Data()), with Put's promise.
func Recycle(ss ...[]float32) {
	var buf [64]*float32 // on the stack for the graphs of a model
	seen := buf[:0]
outer:
	for _, s := range ss {
		if len(s) < RecycleMin || len(s) != cap(s) {
			continue
		}
		p := unsafe.SliceData(s)
		for _, q := range seen {
			if p == q {
				continue outer
			}
		}
		seen = append(seen, p)
		Put(s)
	}
}

func fill(s []float32) {
	nan := float32(math.NaN())
	for i := range s {
		s[i] = nan
	}
}
