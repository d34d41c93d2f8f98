package nn

// Result storage recycled across calls. A training step allocates the
// same large tensors every time (activations and their gradients, tens
// of MB), and fresh memory is expensive: the runtime zeroes it and the
// kernel faults it in page by page. Results of the hot ops therefore
// come from free lists keyed by exact length, which Recycle refills with
// storage that its owner has finished with (autograd.Gradient hands
// back its intermediate gradients). The lists are sync.Pools, so the
// garbage collector still reclaims storage that stays unused.

import (
	"sync"
	"unsafe"

	"github.com/convnet-go/convnet/tensor"
)

// recycleMin is the fewest elements worth recycling (256 KiB): smaller
// tensors are cheap to allocate.
const recycleMin = 1 << 16

// resultPools maps a length to the *sync.Pool of *[]float32 of exactly
// that length and capacity.
var resultPools sync.Map

// Recycle hands the storage of the given tensors to nn, to become the
// storage of later results of nn's ops. The caller must own each tensor
// outright: after Recycle nothing may read or write it, nor any view of
// its data (a Reshape), nor data obtained from it, since a later op may
// overwrite that memory at any time. Nil tensors, tensors below 64 Ki
// elements and tensors whose data is a part of a larger array are
// ignored; a tensor listed twice (or two views of one array) is kept
// once.
func Recycle(ts ...*tensor.Tensor) {
	var seen []*float32
outer:
	for _, t := range ts {
		if t == nil {
			continue
		}
		d := t.Data()
		if len(d) < recycleMin || len(d) != cap(d) {
			continue
		}
		p := unsafe.SliceData(d)
		for _, q := range seen {
			if p == q {
				continue outer
			}
		}
		seen = append(seen, p)
		pool, _ := resultPools.LoadOrStore(len(d), new(sync.Pool))
		pool.(*sync.Pool).Put(&d)
	}
}

// newResult returns a tensor of the given shape (valid, non-negative)
// whose values the caller overwrites entirely: recycled storage holds
// old values.
func newResult(shape ...int) *tensor.Tensor {
	return tensor.Must(tensor.New(shape, resultData(tensor.Size(shape))))
}

// newZeroResult returns a zero tensor of the given shape, reusing
// recycled storage when there is some.
func newZeroResult(shape ...int) *tensor.Tensor {
	n := tensor.Size(shape)
	if n < recycleMin {
		return tensor.Zeros(shape...)
	}
	d := resultData(n)
	clear(d)
	return tensor.Must(tensor.New(shape, d))
}

// resultData returns n float32s, recycled when a tensor of that length
// was recycled, else freshly allocated (and zero).
func resultData(n int) []float32 {
	if n >= recycleMin {
		if pool, ok := resultPools.Load(n); ok {
			if p, ok := pool.(*sync.Pool).Get().(*[]float32); ok {
				return *p
			}
		}
	}
	return make([]float32, n)
}
