package nn

// Transpose of any rank: out dim i is x's dim perm[i], so
// out[i0,…,ir−1] = x[j] with j[perm[k]] = i_k. (Conv2DTranspose, the
// transposed convolution, lives in transpose.go.)
//
// Execution: output dims of size 1 are dropped and neighbours that are
// also neighbours in x are merged; each output row then reads x with one
// stride (a copy when that stride is 1). transposeRef is the per-element
// reference.

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// Transpose returns x with its dims permuted (tf.transpose): result dim i
// is x's dim perm[i]. A nil perm reverses the dims, as TF's default. perm
// must be a permutation of 0 … rank−1. Gradient: Transpose(grad,
// InvertPermutation(perm)).
func Transpose(x *tensor.Tensor, perm []int) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: Transpose: nil tensor")
	}
	r := x.Rank()
	if perm == nil {
		perm = make([]int, r)
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	if _, err := InvertPermutation(perm); err != nil || len(perm) != r {
		return nil, fmt.Errorf("nn: Transpose: perm %v is not a permutation of the %d dims of shape %v", perm, r, x.Shape())
	}
	out := make([]int, r)
	for i, p := range perm {
		out[i] = x.Shape()[p]
	}
	y := newResult(out...)
	transposeInto(y.Data(), x.Data(), x.Shape(), perm)
	return y, nil
}

// InvertPermutation returns q with q[perm[i]] = i (tf.math.invert_permutation),
// the perm that undoes a Transpose. It fails unless perm holds each of
// 0 … len(perm)−1 once.
func InvertPermutation(perm []int) ([]int, error) {
	q := make([]int, len(perm))
	for i := range q {
		q[i] = -1
	}
	for i, p := range perm {
		if p < 0 || p >= len(perm) || q[p] >= 0 {
			return nil, fmt.Errorf("nn: InvertPermutation: %v is not a permutation of 0…%d", perm, len(perm)-1)
		}
		q[p] = i
	}
	return q, nil
}

// xStrides returns the row-major strides of shape s.
func xStrides(s []int) []int {
	st := make([]int, len(s))
	n := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = n
		n *= s[i]
	}
	return st
}

// transposeInto writes the transpose of x (shape s) by perm into dst.
func transposeInto(dst, x []float32, s, perm []int) {
	if len(dst) == 0 {
		return
	}
	xs := xStrides(s)
	var dims, st []int // output dims and x's strides along them
	for _, p := range perm {
		n := s[p]
		if n == 1 {
			continue
		}
		if k := len(dims) - 1; k >= 0 && st[k] == xs[p]*n {
			dims[k] *= n
			st[k] = xs[p]
			continue
		}
		dims = append(dims, n)
		st = append(st, xs[p])
	}
	if len(dims) == 0 || len(dims) == 1 && st[0] == 1 {
		copy(dst, x)
		return
	}
	last := len(dims) - 1
	n, sn := dims[last], st[last]
	outer := dims[:last]
	parallel.For(len(dst)/n, max(1, elemMinPer/n), func(lo, hi int) {
		idx := make([]int, len(outer))
		rem := lo
		for d := len(outer) - 1; d >= 0; d-- {
			idx[d] = rem % outer[d]
			rem /= outer[d]
		}
		off := 0
		for d, i := range idx {
			off += i * st[d]
		}
		for r := lo; r < hi; r++ {
			row := dst[r*n : (r+1)*n]
			if sn == 1 {
				copy(row, x[off:off+n])
			} else {
				for i, o := 0, off; i < len(row); i, o = i+1, o+sn {
					row[i] = x[o]
				}
			}
			for d := len(outer) - 1; d >= 0; d-- {
				idx[d]++
				off += st[d]
				if idx[d] < outer[d] {
					break
				}
				off -= idx[d] * st[d]
				idx[d] = 0
			}
		}
	})
}

// transposeRef is transposeInto's reference: each output element computes
// its source index.
func transposeRef(dst, x []float32, s, perm []int) {
	xs := xStrides(s)
	out := make([]int, len(perm))
	for i, p := range perm {
		out[i] = s[p]
	}
	for f := range dst {
		rem, off := f, 0
		for d := len(out) - 1; d >= 0; d-- {
			off += (rem % out[d]) * xs[perm[d]]
			rem /= out[d]
		}
		dst[f] = x[off]
	}
}
