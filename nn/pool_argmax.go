package nn

// MaxPoolWithArgmax and MaxPoolGradWithArgmax: max pooling that records
// where each maximum came from, so that the gradient is a scatter instead
// of a second scan of the input (tf.nn.max_pool_with_argmax and
// tf.raw_ops.MaxPoolGradWithArgmax).
//
// Shape legend as in pool.go. argmax[o] is the flat offset, in input's
// own data, of the first maximum (scan order over D, H, W) of output
// element o's window: for NHWC input ((n·H + h)·W + w)·C + c, TF's index
// with include_batch_in_index=True.

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// MaxPoolWithArgmax returns MaxPool(input, o) and, for every output
// element, the flat offset into input.Data() of the cell its value came
// from: the first maximum of the window in scan order, the cell to which
// MaxPoolGrad sends the gradient. Inputs and options are those of
// MaxPool (rank 3, 4 or 5, either layout). It fails on inputs of more
// than 2³¹−1 elements, whose offsets do not fit an int32.
func MaxPoolWithArgmax(input *tensor.Tensor, o PoolOptions) (*tensor.Tensor, []int32, error) {
	return MaxPoolWithArgmaxAlloc(input, o, func(n int) []int32 { return make([]int32, n) })
}

// MaxPoolWithArgmaxAlloc is MaxPoolWithArgmax with the offsets written
// to alloc(n), n the output's element count (alloc's slice must have n
// elements; their values do not matter): a caller that recycles the
// offsets' storage between steps passes its own allocator.
func MaxPoolWithArgmaxAlloc(input *tensor.Tensor, o PoolOptions, alloc func(n int) []int32) (*tensor.Tensor, []int32, error) {
	const op = "MaxPoolWithArgmax"
	if err := poolInput(op, input); err != nil {
		return nil, nil, err
	}
	g, err := poolSetup(op, input.Shape(), o)
	if err != nil {
		return nil, nil, err
	}
	if input.Len() > math.MaxInt32 {
		return nil, nil, fmt.Errorf("nn: %s: input of shape %v has %d elements; offsets must fit an int32 (at most %d)", op, input.Shape(), input.Len(), math.MaxInt32)
	}
	y := newResult(g.outShape...) // every window has a real cell
	arg := alloc(y.Len())
	if len(arg) != y.Len() {
		return nil, nil, fmt.Errorf("nn: %s: the allocator gave %d offsets for an output of %d elements", op, len(arg), y.Len())
	}
	maxPoolFast(g, input.Data(), y.Data(), arg)
	return y, arg, nil
}

// MaxPoolGradWithArgmax returns the gradient of MaxPoolWithArgmax with
// respect to an input of shape inputShape: dx[argmax[o]] += grad[o] for
// every output element o, in output order (overlapping windows add up).
// It equals MaxPoolGrad(input, grad, o) for the argmax that
// MaxPoolWithArgmax(input, o) returned. grad and argmax have the pooled
// output's element count and the same batch size N as inputShape; every
// argmax of batch entry n must lie in entry n of the input, as the
// forward op's offsets do.
func MaxPoolGradWithArgmax(inputShape []int, grad *tensor.Tensor, argmax []int32) (*tensor.Tensor, error) {
	const op = "MaxPoolGradWithArgmax"
	if grad == nil {
		return nil, fmt.Errorf("nn: %s: grad tensor is nil", op)
	}
	if len(inputShape) < 3 || len(inputShape) > 5 {
		return nil, fmt.Errorf("nn: %s wants a rank-3, 4 or 5 input shape, got %v", op, inputShape)
	}
	if grad.Rank() != len(inputShape) || grad.Dim(0) != inputShape[0] {
		return nil, fmt.Errorf("nn: %s: grad has shape %v, want rank %d and batch %d like input shape %v", op, grad.Shape(), len(inputShape), inputShape[0], inputShape)
	}
	if len(argmax) != grad.Len() {
		return nil, fmt.Errorf("nn: %s: argmax has %d offsets, want one per grad element (%d)", op, len(argmax), grad.Len())
	}
	for _, d := range inputShape {
		if d < 0 {
			return nil, fmt.Errorf("nn: %s: negative dimension in input shape %v", op, inputShape)
		}
	}
	dx := newResult(inputShape...) // zeroed below, image by image
	n := inputShape[0]
	if n == 0 || dx.Len() == 0 {
		clear(dx.Data())
		return dx, nil
	}
	inLen, outLen := dx.Len()/n, grad.Len()/n
	dd, gd := dx.Data(), grad.Data()
	bad := make([]int, n) // per batch entry: 1 + the first bad output element, or 0
	parallel.For(n, max(1, 1<<15/max(outLen, 1)), func(lo, hi int) {
		for b := lo; b < hi; b++ {
			base := b * inLen
			dxi := dd[base : base+inLen]
			clear(dxi)
			gi := gd[b*outLen : (b+1)*outLen]
			ai := argmax[b*outLen : (b+1)*outLen]
			for i, a := range ai {
				k := int(a) - base
				if uint(k) >= uint(len(dxi)) {
					bad[b] = b*outLen + i + 1
					break
				}
				dxi[k] += gi[i]
			}
		}
	})
	for _, e := range bad {
		if e != 0 {
			i := e - 1
			b := i / outLen
			return nil, fmt.Errorf("nn: %s: argmax[%d] = %d lies outside batch entry %d of input shape %v (offsets [%d, %d))", op, i, argmax[i], b, inputShape, b*inLen, (b+1)*inLen)
		}
	}
	return dx, nil
}
