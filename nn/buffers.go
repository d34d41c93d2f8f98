package nn

// Result storage comes from internal/pool: a training step allocates the
// same large tensors every time, and autograd.Workspace hands back the
// step's intermediates and gradients when the step ends, so the next
// step's results reuse that memory instead of fresh pages.

import (
	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

// recycle hands the storage of the given tensors to the pool (see
// pool.Recycle: small tensors, sub-slices and duplicates are skipped).
// The caller must own each tensor outright: afterwards nothing may read
// or write it or any view of its data.
func recycle(ts ...*tensor.Tensor) {
	ds := make([][]float32, 0, len(ts))
	for _, t := range ts {
		if t != nil {
			ds = append(ds, t.Data())
		}
	}
	pool.Recycle(ds...)
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
	if n < pool.RecycleMin {
		return tensor.Zeros(shape...)
	}
	return tensor.Must(tensor.New(shape, pool.GetZero(n)))
}

// resultData returns n float32s of undefined contents, recycled when a
// tensor of that length was recycled.
func resultData(n int) []float32 {
	if n < pool.RecycleMin {
		return make([]float32, n)
	}
	return pool.Get(n)
}
