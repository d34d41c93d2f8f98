package nn

// Concat, Split and Slice, and the box copy they share. Shapes: Concat's
// inputs agree on every dim except axis, whose sizes add up in the result;
// Split is its inverse (and each one's gradient is the other). Slice
// takes the box begin … begin+size−1; its gradient, SliceGrad, puts grad
// back into zeros of the input's shape.

import (
	"fmt"

	"github.com/convnet-go/convnet/tensor"
)

// normAxis maps axis ∈ [−r, r) to [0, r).
func normAxis(op string, axis, r int) (int, error) {
	a := axis
	if a < 0 {
		a += r
	}
	if a < 0 || a >= r {
		return 0, fmt.Errorf("nn: %s: axis %d out of range for rank %d (want −%d ≤ axis < %d)", op, axis, r, r, r)
	}
	return a, nil
}

// Concat joins xs along axis (tf.concat; negative axis from the end). All
// inputs have one rank ≥ 1 and the same dims except along axis. Gradient:
// Split(grad, the inputs' sizes along axis, axis).
func Concat(xs []*tensor.Tensor, axis int) (*tensor.Tensor, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("nn: Concat: no tensors")
	}
	for i, x := range xs {
		if x == nil {
			return nil, fmt.Errorf("nn: Concat: tensor %d is nil", i)
		}
	}
	s0 := xs[0].Shape()
	if len(s0) == 0 {
		return nil, fmt.Errorf("nn: Concat: cannot concatenate scalars (shape [])")
	}
	a, err := normAxis("Concat", axis, len(s0))
	if err != nil {
		return nil, err
	}
	out := append([]int(nil), s0...)
	out[a] = 0
	for i, x := range xs {
		s := x.Shape()
		ok := len(s) == len(s0)
		for d := 0; ok && d < len(s); d++ {
			ok = d == a || s[d] == s0[d]
		}
		if !ok {
			return nil, fmt.Errorf("nn: Concat: tensor %d has shape %v, tensor 0 has %v (want the same except along axis %d)", i, s, s0, axis)
		}
		out[a] += s[a]
	}
	y := newResult(out...)
	outer, inner := tensor.Size(out[:a]), tensor.Size(out[a+1:])
	yd, row := y.Data(), out[a]*inner
	at := 0
	for _, x := range xs {
		n := x.Shape()[a] * inner
		xd := x.Data()
		for o := 0; o < outer; o++ {
			copy(yd[o*row+at:o*row+at+n], xd[o*n:(o+1)*n])
		}
		at += n
	}
	return y, nil
}

// Split cuts x along axis into pieces of the given sizes (tf.split with
// size_splits; negative axis from the end). One size may be −1 and takes
// what is left; the sizes must add up to x's dim. Gradient: Concat of the
// pieces' gradients along axis (zeros for a piece without one).
func Split(x *tensor.Tensor, sizes []int, axis int) ([]*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: Split: nil tensor")
	}
	s := x.Shape()
	if len(s) == 0 {
		return nil, fmt.Errorf("nn: Split: cannot split a scalar (shape [])")
	}
	a, err := normAxis("Split", axis, len(s))
	if err != nil {
		return nil, err
	}
	sizes = append([]int(nil), sizes...)
	infer, sum := -1, 0
	for i, n := range sizes {
		switch {
		case n == -1 && infer < 0:
			infer = i
		case n < 0:
			return nil, fmt.Errorf("nn: Split: bad size %d in %v (want ≥ 0, or one −1)", n, sizes)
		default:
			sum += n
		}
	}
	if infer >= 0 && sum <= s[a] {
		sizes[infer] = s[a] - sum
		sum = s[a]
	}
	if sum != s[a] || len(sizes) == 0 {
		return nil, fmt.Errorf("nn: Split: sizes %v do not add up to dim %d (%d) of shape %v", sizes, axis, s[a], s)
	}
	out := make([]*tensor.Tensor, len(sizes))
	begin := make([]int, len(s))
	for i, n := range sizes {
		size := append([]int(nil), s...)
		size[a] = n
		out[i] = newResult(size...)
		copyBox(out[i].Data(), size, make([]int, len(s)), x.Data(), s, begin, size)
		begin[a] += n
	}
	return out, nil
}

// Slice returns the box of x starting at begin with the given size
// (tf.slice): result dim i is size[i], or x's dim − begin[i] when size[i]
// is −1. Gradient: SliceGrad.
func Slice(x *tensor.Tensor, begin, size []int) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: Slice: nil tensor")
	}
	s := x.Shape()
	if len(begin) != len(s) || len(size) != len(s) {
		return nil, fmt.Errorf("nn: Slice: begin %v and size %v need %d entries for shape %v", begin, size, len(s), s)
	}
	out := make([]int, len(s))
	for i, d := range s {
		n := size[i]
		if n == -1 {
			n = d - begin[i]
		}
		if begin[i] < 0 || n < 0 || begin[i]+n > d {
			return nil, fmt.Errorf("nn: Slice: begin %v size %v leave shape %v at dim %d (want 0 ≤ begin ≤ begin+size ≤ %d)", begin, size, s, i, d)
		}
		out[i] = n
	}
	y := newResult(out...)
	copyBox(y.Data(), out, make([]int, len(s)), x.Data(), s, begin, out)
	return y, nil
}

// SliceGrad returns the gradient of Slice: zeros of xShape with grad (the
// slice's shape) placed at begin.
func SliceGrad(grad *tensor.Tensor, xShape, begin []int) (*tensor.Tensor, error) {
	if grad == nil {
		return nil, fmt.Errorf("nn: SliceGrad: nil grad")
	}
	g := grad.Shape()
	ok := len(begin) == len(xShape) && len(g) == len(xShape)
	for i := 0; ok && i < len(g); i++ {
		ok = begin[i] >= 0 && begin[i]+g[i] <= xShape[i]
	}
	if !ok {
		return nil, fmt.Errorf("nn: SliceGrad: grad of shape %v does not fit shape %v at %v", g, xShape, begin)
	}
	dx := newZeroResult(xShape...)
	copyBox(dx.Data(), xShape, begin, grad.Data(), g, make([]int, len(g)), g)
	return dx, nil
}

// copyBox copies the box of the given size from src (shape ss) at sOff to
// dst (shape ds) at dOff: an odometer over the outer dims and a copy of
// each run along the last.
func copyBox(dst []float32, ds, dOff []int, src []float32, ss, sOff, size []int) {
	if tensor.Size(size) == 0 {
		return
	}
	r := len(size)
	if r == 0 {
		dst[0] = src[0]
		return
	}
	dstStr, sst := xStrides(ds), xStrides(ss)
	do, so := 0, 0
	for i := range size {
		do += dOff[i] * dstStr[i]
		so += sOff[i] * sst[i]
	}
	n := size[r-1]
	idx := make([]int, r-1)
	for {
		copy(dst[do:do+n], src[so:so+n])
		d := r - 2
		for ; d >= 0; d-- {
			idx[d]++
			do += dstStr[d]
			so += sst[d]
			if idx[d] < size[d] {
				break
			}
			do -= idx[d] * dstStr[d]
			so -= idx[d] * sst[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}
