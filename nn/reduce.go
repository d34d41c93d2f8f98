package nn

// Reductions over chosen axes: ReduceSum, ReduceMean, ReduceMax and their
// gradients.
//
// Shapes: x of rank r; axes ⊂ [−r, r) (negative counts from the end; nil
// means every axis, an empty non-nil list means none). The result drops
// the reduced dims, or keeps them as 1 with keepDims. Sums accumulate in
// float64 and round once.
//
// Execution: after dropping dims of size 1 and merging neighbours that are
// both reduced or both kept, the common cases are plain loops: everything
// reduced (one sum), [kept, reduced] (a sum per contiguous row), and
// [reduced, kept] (rows added into a vector, the per-channel sum of an
// NHWC tensor, over a fixed partition of the rows). Other patterns are
// read in runs along the last dim. reduceRef is the per-element reference
// all of these are tested against.

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

type redKind int

const (
	redSum redKind = iota
	redMax
)

// ReduceSum returns Σ x over axes (tf.reduce_sum). Gradient: ReduceSumGrad.
func ReduceSum(x *tensor.Tensor, axes []int, keepDims bool) (*tensor.Tensor, error) {
	return reduceOp("ReduceSum", x, axes, keepDims, redSum)
}

// ReduceSumGrad returns the gradient of ReduceSum: grad (shape of
// ReduceSum's result with the given keepDims) repeated over the reduced
// axes to xShape.
func ReduceSumGrad(grad *tensor.Tensor, xShape, axes []int, keepDims bool) (*tensor.Tensor, error) {
	return reduceGrad("ReduceSumGrad", grad, xShape, axes, keepDims, 1)
}

// ReduceMean returns the mean of x over axes (tf.reduce_mean): the sum
// divided by n, the product of the reduced dims (NaN when n is 0, as
// TF). Gradient: ReduceMeanGrad.
func ReduceMean(x *tensor.Tensor, axes []int, keepDims bool) (*tensor.Tensor, error) {
	y, err := reduceOp("ReduceMean", x, axes, keepDims, redSum)
	if err != nil {
		return nil, err
	}
	red, _ := normAxes("ReduceMean", x.Rank(), axes)
	inv := 1 / float64(reducedCount(x.Shape(), red))
	for i, v := range y.Data() {
		y.Data()[i] = float32(float64(v) * inv)
	}
	return y, nil
}

// ReduceMeanGrad returns the gradient of ReduceMean: grad/n repeated over
// the reduced axes to xShape, n the product of the reduced dims.
func ReduceMeanGrad(grad *tensor.Tensor, xShape, axes []int, keepDims bool) (*tensor.Tensor, error) {
	red, err := normAxes("ReduceMeanGrad", len(xShape), axes)
	if err != nil {
		return nil, err
	}
	return reduceGrad("ReduceMeanGrad", grad, xShape, axes, keepDims, float32(1/float64(reducedCount(xShape, red))))
}

// ReduceMax returns the largest x over axes (tf.reduce_max); NaN
// propagates, and an empty reduction gives −Inf. Gradient: ReduceMaxGrad.
func ReduceMax(x *tensor.Tensor, axes []int, keepDims bool) (*tensor.Tensor, error) {
	return reduceOp("ReduceMax", x, axes, keepDims, redMax)
}

// ReduceMaxGrad returns the gradient of ReduceMax from its input x and
// output y (same axes and keepDims): grad goes to the elements equal to
// their group's maximum, split evenly when several tie, as TF's
// _MinOrMaxGrad (indicators / their count). TF.js 4.22 instead gives the
// full gradient to every tied element.
func ReduceMaxGrad(grad, x, y *tensor.Tensor, axes []int, keepDims bool) (*tensor.Tensor, error) {
	const op = "ReduceMaxGrad"
	if grad == nil || x == nil || y == nil {
		return nil, fmt.Errorf("nn: %s: nil tensor", op)
	}
	red, err := normAxes(op, x.Rank(), axes)
	if err != nil {
		return nil, err
	}
	ks := keptShape(x.Shape(), red)
	if err := sameSize(op, "grad", grad, keepDims, red, x.Shape()); err != nil {
		return nil, err
	}
	if err := sameSize(op, "y", y, keepDims, red, x.Shape()); err != nil {
		return nil, err
	}
	// Indicator of the maxima, their count per group, then g/count where
	// x equals its group's maximum.
	yb, err := BroadcastTo(tensor.Must(y.Reshape(ks...)), x.Shape())
	if err != nil {
		return nil, err
	}
	ind := newResult(x.Shape()...)
	xd, ybd, id := x.Data(), yb.Data(), ind.Data()
	for i, v := range xd {
		id[i] = 0
		if v == ybd[i] {
			id[i] = 1
		}
	}
	cnt := newResult(ks...)
	reduceInto(cnt.Data(), id, x.Shape(), red, redSum)
	q, err := Div(tensor.Must(grad.Reshape(ks...)), cnt)
	if err != nil {
		return nil, err
	}
	return Mul(ind, q)
}

// reduceOp validates and runs a reduction.
func reduceOp(op string, x *tensor.Tensor, axes []int, keepDims bool, k redKind) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: %s: nil tensor", op)
	}
	red, err := normAxes(op, x.Rank(), axes)
	if err != nil {
		return nil, err
	}
	y := newResult(reducedShape(x.Shape(), red, keepDims)...)
	reduceInto(y.Data(), x.Data(), x.Shape(), red, k)
	return y, nil
}

// reduceGrad repeats grad·scale over the reduced axes to xShape.
func reduceGrad(op string, grad *tensor.Tensor, xShape, axes []int, keepDims bool, scale float32) (*tensor.Tensor, error) {
	if grad == nil {
		return nil, fmt.Errorf("nn: %s: nil grad", op)
	}
	if _, err := checkShape(op, xShape); err != nil {
		return nil, err
	}
	red, err := normAxes(op, len(xShape), axes)
	if err != nil {
		return nil, err
	}
	ks := keptShape(xShape, red)
	if err := sameSize(op, "grad", grad, keepDims, red, xShape); err != nil {
		return nil, err
	}
	y, err := BroadcastTo(tensor.Must(grad.Reshape(ks...)), xShape)
	if err != nil || scale == 1 {
		return y, err
	}
	for i, v := range y.Data() {
		y.Data()[i] = v * scale
	}
	return y, nil
}

// maxElems is the most elements a shape may hold (tensor.New's limit).
const maxElems = math.MaxInt32 * 64

// checkShape rejects a shape from outside (a target shape, a padded
// shape) with a negative dim or more than maxElems elements, so that no
// size computation overflows.
func checkShape(op string, s []int) (int, error) {
	n := 1
	for _, d := range s {
		if d < 0 {
			return 0, fmt.Errorf("nn: %s: negative dimension in shape %v", op, s)
		}
		if d != 0 && n > maxElems/d {
			return 0, fmt.Errorf("nn: %s: shape %v holds more than %d elements", op, s, maxElems)
		}
		n *= d
	}
	return n, nil
}

// sameSize checks that t has the shape of the reduction's result.
func sameSize(op, name string, t *tensor.Tensor, keepDims bool, red []bool, xShape []int) error {
	want := reducedShape(xShape, red, keepDims)
	if !tensor.SameShape(t.Shape(), want) {
		return fmt.Errorf("nn: %s: %s has shape %v, want %v (input %v reduced)", op, name, t.Shape(), want, xShape)
	}
	return nil
}

// normAxes turns axes into one flag per dim of a rank-r tensor. nil means
// all; negative axes count from the end; duplicates and axes out of
// [−r, r) are errors.
func normAxes(op string, r int, axes []int) ([]bool, error) {
	red := make([]bool, r)
	if axes == nil {
		for i := range red {
			red[i] = true
		}
		return red, nil
	}
	for _, a := range axes {
		i, err := normAxis(op, a, r)
		if err != nil {
			return nil, err
		}
		if red[i] {
			return nil, fmt.Errorf("nn: %s: axis %d given twice in %v", op, a, axes)
		}
		red[i] = true
	}
	return red, nil
}

// reducedShape is the result shape: reduced dims dropped, or 1 with keep.
func reducedShape(s []int, red []bool, keep bool) []int {
	out := []int{}
	for i, d := range s {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

// keptShape is s with the reduced dims set to 1.
func keptShape(s []int, red []bool) []int {
	out := append([]int(nil), s...)
	for i := range out {
		if red[i] {
			out[i] = 1
		}
	}
	return out
}

// reducedCount is the number of elements each result element reduces.
func reducedCount(s []int, red []bool) int {
	n := 1
	for i, d := range s {
		if red[i] {
			n *= d
		}
	}
	return n
}

// reduceInto writes the reduction of x (shape s) over the flagged dims to
// dst, whose length is the product of the kept dims.
func reduceInto(dst, x []float32, s []int, red []bool, k redKind) {
	// Merge into alternating groups, dropping dims of size 1.
	var dims []int
	var flags []bool
	for i, d := range s {
		if d == 1 {
			continue
		}
		if n := len(dims); n > 0 && flags[n-1] == red[i] {
			dims[n-1] *= d
			continue
		}
		dims = append(dims, d)
		flags = append(flags, red[i])
	}
	switch {
	case len(x) == 0 || len(dims) == 0 || len(dims) == 1 && !flags[0]:
		if len(x) == len(dst) {
			copy(dst, x)
			return
		}
		reduceRef(dst, x, s, red, k) // empty input: identities
	case len(dims) == 1: // everything reduced: a column of length 1
		reduceAll(dst, x, k)
	case len(dims) == 2 && !flags[0]: // [kept, reduced]
		l := dims[1]
		parallel.For(dims[0], max(1, elemMinPer/l), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				dst[r] = reduceRow(x[r*l:(r+1)*l], k)
			}
		})
	case len(dims) == 2: // [reduced, kept]
		reduceCols(dst, x, dims[0], dims[1], k)
	default:
		reduceRuns(dst, x, dims, flags, k)
	}
}

// reduceCols reduces the rows × c row-major matrix x down its rows into
// dst (c values). The rows are cut into a fixed partition, one range per
// worker, each reduced into a float64 partial in row order; the partials
// are then combined in range order, so the result repeats bit for bit at
// a given GOMAXPROCS.
func reduceCols(dst, x []float32, rows, c int, k redKind) {
	parts := min(parallel.Workers(), max(1, rows*c/elemMinPer), rows)
	partial := make([][]float64, parts)
	parallel.For(parts, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			partial[p] = reduceColsRange(x, p*rows/parts, (p+1)*rows/parts, c, k)
		}
	})
	acc := partial[0]
	for _, q := range partial[1:] {
		q = q[:len(acc)]
		for j, v := range q {
			if k == redMax {
				if beatsMax(acc[j], v) {
					acc[j] = v
				}
			} else {
				acc[j] += v
			}
		}
	}
	for j, v := range acc {
		dst[j] = float32(v)
	}
}

// reduceColsRange reduces rows r0 … r1−1 of x (row length c) into a
// float64 vector of length c.
func reduceColsRange(x []float32, r0, r1, c int, k redKind) []float64 {
	acc := make([]float64, c)
	if k == redMax {
		for j := range acc {
			acc[j] = math.Inf(-1)
		}
		for r := r0; r < r1; r++ {
			row := x[r*c : (r+1)*c]
			a := acc[:len(row)]
			for j, v := range row {
				if f := float64(v); beatsMax(a[j], f) {
					a[j] = f
				}
			}
		}
		return acc
	}
	for r := r0; r < r1; r++ {
		row := x[r*c : (r+1)*c]
		a := acc[:len(row)]
		for j, v := range row {
			a[j] += float64(v)
		}
	}
	return acc
}

// reduceRuns is the general reduction over merged dims (no size-1 dims,
// reduced and kept alternating): x is read in runs along the last dim,
// each run reduced into one result element (last dim reduced) or added
// into a run of the result (last dim kept), the result offset following
// an odometer over the other dims.
func reduceRuns(dst, x []float32, dims []int, flags []bool, k redKind) {
	acc := make([]float64, len(dst))
	if k == redMax {
		for i := range acc {
			acc[i] = math.Inf(-1)
		}
	}
	ost := make([]int, len(dims)) // result strides, 0 along reduced dims
	n := 1
	for i := len(dims) - 1; i >= 0; i-- {
		if !flags[i] {
			ost[i] = n
			n *= dims[i]
		}
	}
	last := len(dims) - 1
	l, outer := dims[last], dims[:last]
	idx := make([]int, len(outer))
	o := 0
	for r := 0; r*l < len(x); r++ {
		run := x[r*l : (r+1)*l]
		switch {
		case flags[last] && k == redMax:
			m := acc[o]
			for _, v := range run {
				if f := float64(v); beatsMax(m, f) {
					m = f
				}
			}
			acc[o] = m
		case flags[last]:
			s := acc[o]
			for _, v := range run {
				s += float64(v)
			}
			acc[o] = s
		case k == redMax:
			a := acc[o : o+len(run)]
			for j, v := range run {
				if f := float64(v); beatsMax(a[j], f) {
					a[j] = f
				}
			}
		default:
			a := acc[o : o+len(run)]
			for j, v := range run {
				a[j] += float64(v)
			}
		}
		for d := len(outer) - 1; d >= 0; d-- {
			idx[d]++
			o += ost[d]
			if idx[d] < outer[d] {
				break
			}
			o -= idx[d] * ost[d]
			idx[d] = 0
		}
	}
	for i, v := range acc {
		dst[i] = float32(v)
	}
}

// beatsMax reports whether v replaces the running maximum m of
// ReduceMax: when it is larger, or NaN, so that a NaN, once met, stays
// (as tf.reduce_max propagates it).
func beatsMax(m, v float64) bool { return v > m || v != v }

// reduceRow reduces one contiguous row.
func reduceRow(x []float32, k redKind) float32 { return float32(reduceRow64(x, k)) }

// reduceRow64 reduces one contiguous row in float64.
func reduceRow64(x []float32, k redKind) float64 {
	if k == redMax {
		m := math.Inf(-1)
		for _, v := range x {
			if f := float64(v); beatsMax(m, f) {
				m = f
			}
		}
		return m
	}
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s
}

// reduceAll reduces all of x into dst[0]: a fixed partition of x, one
// range per worker, reduced in float64 and combined in range order.
func reduceAll(dst, x []float32, k redKind) {
	parts := min(parallel.Workers(), max(1, len(x)/elemMinPer))
	partial := make([]float64, parts)
	parallel.For(parts, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			partial[p] = reduceRow64(x[p*len(x)/parts:(p+1)*len(x)/parts], k)
		}
	})
	acc := partial[0]
	for _, v := range partial[1:] {
		if k != redMax {
			acc += v
		} else if beatsMax(acc, v) {
			acc = v
		}
	}
	dst[0] = float32(acc)
}

// reduceRef is the reference reduction: every element of x is added (or
// compared) into the result element its kept indices name.
func reduceRef(dst, x []float32, s []int, red []bool, k redKind) {
	acc := make([]float64, len(dst))
	if k == redMax {
		for i := range acc {
			acc[i] = math.Inf(-1)
		}
	}
	idx := make([]int, len(s))
	for f, v := range x {
		rem := f
		for d := len(s) - 1; d >= 0; d-- {
			idx[d] = rem % s[d]
			rem /= s[d]
		}
		o := 0
		for d, n := range s {
			if !red[d] {
				o = o*n + idx[d]
			}
		}
		if k == redMax {
			if beatsMax(acc[o], float64(v)) {
				acc[o] = float64(v)
			}
		} else {
			acc[o] += float64(v)
		}
	}
	for i, v := range acc {
		dst[i] = float32(v)
	}
}
