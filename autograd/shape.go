package autograd

import (
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Axis reductions and shape ops on Vars. Each backward is the nn gradient
// op named in the doc comment.

// ReduceSumAxes is nn.ReduceSum over axes (nil = all, negative from the
// end), dropping them or keeping them as 1. ∂/∂x = nn.ReduceSumGrad.
func ReduceSumAxes(x *Var, axes []int, keepDims bool) *Var {
	axes = cloneAxes(axes)
	return reduceAxes("ReduceSumAxes", x, func(x *tensor.Tensor) (*tensor.Tensor, error) { return nn.ReduceSum(x, axes, keepDims) },
		func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) {
			return nn.ReduceSumGrad(g, x.Shape(), axes, keepDims)
		})
}

// ReduceMeanAxes is nn.ReduceMean over axes. ∂/∂x = nn.ReduceMeanGrad.
func ReduceMeanAxes(x *Var, axes []int, keepDims bool) *Var {
	axes = cloneAxes(axes)
	return reduceAxes("ReduceMeanAxes", x, func(x *tensor.Tensor) (*tensor.Tensor, error) { return nn.ReduceMean(x, axes, keepDims) },
		func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) {
			return nn.ReduceMeanGrad(g, x.Shape(), axes, keepDims)
		})
}

// ReduceMaxAxes is nn.ReduceMax over axes. ∂/∂x = nn.ReduceMaxGrad: the
// gradient is split evenly between tied maxima, as in TF.
func ReduceMaxAxes(x *Var, axes []int, keepDims bool) *Var {
	axes = cloneAxes(axes)
	return reduceAxes("ReduceMaxAxes", x, func(x *tensor.Tensor) (*tensor.Tensor, error) { return nn.ReduceMax(x, axes, keepDims) },
		func(g, x, y *tensor.Tensor) (*tensor.Tensor, error) { return nn.ReduceMaxGrad(g, x, y, axes, keepDims) })
}

// cloneAxes copies axes, keeping nil (all axes) apart from empty (none).
func cloneAxes(axes []int) []int {
	if axes == nil {
		return nil
	}
	return append([]int{}, axes...)
}

func reduceAxes(op string, x *Var, fwd func(*tensor.Tensor) (*tensor.Tensor, error), grad func(g, x, y *tensor.Tensor) (*tensor.Tensor, error)) *Var {
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	y, err := fwd(x.value)
	if err != nil {
		return opErr(op, err)
	}
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return grad(g, x.value, y)
	})
}

// BroadcastTo is nn.BroadcastTo: x repeated to shape (tf.broadcast_to,
// ONNX Expand). ∂/∂x = nn.SumToShape(g, x's shape).
func BroadcastTo(x *Var, shape ...int) *Var {
	const op = "BroadcastTo"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	y, err := nn.BroadcastTo(x.value, append([]int{}, shape...))
	if err != nil {
		return opErr(op, err)
	}
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return nn.SumToShape(g, x.value.Shape())
	})
}

// Transpose is nn.Transpose: result dim i is x's dim perm[i]; no perm
// reverses the dims. ∂/∂x = nn.Transpose(g, nn.InvertPermutation(perm)).
func Transpose(x *Var, perm ...int) *Var {
	const op = "Transpose"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	if len(perm) == 0 && x.value.Rank() > 0 {
		perm = make([]int, x.value.Rank())
		for i := range perm {
			perm[i] = len(perm) - 1 - i
		}
	}
	perm = append([]int{}, perm...)
	y, err := nn.Transpose(x.value, perm)
	if err != nil {
		return opErr(op, err)
	}
	inv, _ := nn.InvertPermutation(perm) // valid: Transpose accepted perm
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return nn.Transpose(g, inv)
	})
}

// Concat is nn.Concat of xs along axis. ∂/∂xs = nn.Split(g, the inputs'
// sizes along axis, axis).
func Concat(axis int, xs ...*Var) *Var {
	const op = "Concat"
	if err := inputErr(op, xs...); err != nil {
		return failed(op, err)
	}
	vals := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		vals[i] = x.value
	}
	y, err := nn.Concat(vals, axis)
	if err != nil {
		return opErr(op, err)
	}
	a := axis
	if a < 0 {
		a += y.Rank()
	}
	sizes := make([]int, len(xs))
	for i, v := range vals {
		sizes[i] = v.Shape()[a]
	}
	parents := append([]*Var(nil), xs...)
	return node(op, y, func(g *tensor.Tensor) error {
		gs, err := nn.Split(g, sizes, a)
		if err != nil {
			return backErr(op, err)
		}
		for i, x := range parents {
			if x.needed {
				accumulate(x, gs[i], false)
			}
		}
		return nil
	}, parents...)
}

// Split is nn.Split: x cut along axis into pieces of the given sizes (one
// may be −1). Each piece is a Var whose backward adds
// nn.SliceGrad(g, x's shape, the piece's offset) into x's gradient. On
// an error every piece carries it; the number of pieces is then
// len(sizes) (at least one).
func Split(x *Var, sizes []int, axis int) []*Var {
	const op = "Split"
	fail := func(v *Var) []*Var {
		out := make([]*Var, max(1, len(sizes)))
		for i := range out {
			out[i] = v
		}
		return out
	}
	if err := inputErr(op, x); err != nil {
		return fail(failed(op, err))
	}
	pieces, err := nn.Split(x.value, sizes, axis)
	if err != nil {
		return fail(opErr(op, err))
	}
	a := axis
	if a < 0 {
		a += x.value.Rank()
	}
	out := make([]*Var, len(pieces))
	at := 0
	for i, p := range pieces {
		begin := make([]int, x.value.Rank())
		begin[a] = at
		at += p.Shape()[a]
		out[i] = unaryNode(op, x, p, func(g *tensor.Tensor) (*tensor.Tensor, error) {
			return nn.SliceGrad(g, x.value.Shape(), begin)
		})
	}
	return out
}

// Slice is nn.Slice: the box of x at begin with size (−1 = to the end).
// ∂/∂x = nn.SliceGrad(g, x's shape, begin).
func Slice(x *Var, begin, size []int) *Var {
	const op = "Slice"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	y, err := nn.Slice(x.value, begin, size)
	if err != nil {
		return opErr(op, err)
	}
	begin = append([]int{}, begin...)
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return nn.SliceGrad(g, x.value.Shape(), begin)
	})
}

// Pad is nn.Pad in mode "CONSTANT" (with value), "REFLECT" or
// "SYMMETRIC". ∂/∂x = nn.PadGrad(g, x's shape, paddings, mode): each x
// element receives the gradients of every cell that copied it.
func Pad(x *Var, paddings [][2]int, mode string, value float32) *Var {
	const op = "Pad"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	y, err := nn.Pad(x.value, paddings, mode, value)
	if err != nil {
		return opErr(op, err)
	}
	paddings = append([][2]int{}, paddings...)
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return nn.PadGrad(g, x.value.Shape(), paddings, mode)
	})
}
