package nn

// Result storage comes from internal/pool: a training step allocates the
// same large tensors every time, and autograd.Workspace hands back the
// step's intermediates and gradients when the step ends (pool.Recycle),
// so the next step's results reuse that memory instead of fresh pages.

import (
	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

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
