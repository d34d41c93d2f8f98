package nn

// Broadcasting binary ops (Add, Sub, Mul, Div, Maximum, Minimum), their
// gradients, SumToShape and BroadcastTo.
//
// Shapes: a and b of any ranks; out = BroadcastShape(a, b). The shapes
// are aligned from the right; in each position the two dims are equal, or
// one of them is 1 or missing and is repeated to the other's size (TF and
// NumPy broadcasting). Element out[i0,…,ir−1] reads a and b at the same
// index with the broadcast positions held at 0.
//
// Execution: the output is walked as runs along its last dim after
// dropping dims of size 1 and merging neighbours along which both inputs
// stay contiguous. Each run reads each input either contiguously or as
// one repeated value, so every case is a plain loop over a run: same
// shapes give one run; a per-channel vector along the last axis gives one
// run per row; a scalar gives one run with a repeated value. binaryRef is
// the per-element reference the runs are tested against.

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// BroadcastShape returns the shape that a and b broadcast to: aligned from
// the right, out[i] is the dim that is not 1 (or either when equal), and
// the longer shape's leading dims are kept. It fails when two aligned dims
// differ and neither is 1, quoting both shapes.
func BroadcastShape(a, b []int) ([]int, error) {
	out, err := broadcastShape(a, b)
	if err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	return out, nil
}

// broadcastShape is BroadcastShape with errors that callers prefix with
// their op's name.
func broadcastShape(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 1; i <= r; i++ {
		da, db := 1, 1
		if i <= len(a) {
			da = a[len(a)-i]
		}
		if i <= len(b) {
			db = b[len(b)-i]
		}
		if da < 0 || db < 0 {
			return nil, fmt.Errorf("negative dimension in shapes %v and %v", a, b)
		}
		switch {
		case da == db, db == 1:
			out[r-i] = da
		case da == 1:
			out[r-i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast: dim %d from the end is %d and %d (want equal, or one of them 1)", a, b, i, da, db)
		}
	}
	return out, nil
}

// binKind names an elementwise binary operation.
type binKind int

const (
	binAdd binKind = iota
	binSub
	binMul
	binDiv
	binMax
	binMin
	binGE   // 1 where a ≥ b, else 0 (gradient masks)
	binGT   // 1 where a > b, else 0
	binLeft // a (BroadcastTo)
)

var binNames = [...]string{"Add", "Sub", "Mul", "Div", "Maximum", "Minimum", "GreaterEqual", "Greater", "BroadcastTo"}

// binScalar is op(a, b) for one pair of values: the definition every run
// kernel must agree with. Maximum and Minimum return NaN when either
// value is NaN, as TF does.
func binScalar(k binKind, a, b float32) float32 {
	switch k {
	case binAdd:
		return a + b
	case binSub:
		return a - b
	case binMul:
		return a * b
	case binDiv:
		return a / b
	case binMax:
		if a > b || a != a {
			return a
		}
		return b
	case binMin:
		if a < b || a != a {
			return a
		}
		return b
	case binGE:
		if a >= b {
			return 1
		}
		return 0
	case binGT:
		if a > b {
			return 1
		}
		return 0
	}
	return a
}

// Add returns a + b with broadcasting; the result has shape
// BroadcastShape(a, b). Gradient: AddGrad.
func Add(a, b *tensor.Tensor) (*tensor.Tensor, error) { return binary(binAdd, a, b) }

// AddGrad returns the gradients of Add: da = SumToShape(grad, aShape),
// db = SumToShape(grad, bShape). grad has the broadcast shape. Where no
// reduction is needed the result is grad itself.
func AddGrad(grad *tensor.Tensor, aShape, bShape []int) (da, db *tensor.Tensor, err error) {
	if da, err = SumToShape(grad, aShape); err != nil {
		return nil, nil, err
	}
	if db, err = SumToShape(grad, bShape); err != nil {
		return nil, nil, err
	}
	return da, db, nil
}

// Sub returns a − b with broadcasting. Gradient: SubGrad.
func Sub(a, b *tensor.Tensor) (*tensor.Tensor, error) { return binary(binSub, a, b) }

// SubGrad returns the gradients of Sub: da = SumToShape(grad, aShape),
// db = −SumToShape(grad, bShape). da may be grad itself.
func SubGrad(grad *tensor.Tensor, aShape, bShape []int) (da, db *tensor.Tensor, err error) {
	if da, err = SumToShape(grad, aShape); err != nil {
		return nil, nil, err
	}
	if db, err = SumToShape(grad, bShape); err != nil {
		return nil, nil, err
	}
	return da, Neg(db), nil
}

// Mul returns the elementwise product a·b with broadcasting. Gradient:
// MulGrad.
func Mul(a, b *tensor.Tensor) (*tensor.Tensor, error) { return binary(binMul, a, b) }

// MulGrad returns the gradients of Mul: da = SumToShape(grad·b, a's
// shape), db = SumToShape(grad·a, b's shape).
func MulGrad(grad, a, b *tensor.Tensor) (da, db *tensor.Tensor, err error) {
	if err := gradShapes("MulGrad", grad, a, b); err != nil {
		return nil, nil, err
	}
	if da, err = mulSum(grad, b, a.Shape()); err != nil {
		return nil, nil, err
	}
	if db, err = mulSum(grad, a, b.Shape()); err != nil {
		return nil, nil, err
	}
	return da, db, nil
}

// Div returns a / b with broadcasting (IEEE division: x/0 is ±Inf or
// NaN, as tf.math.divide). Gradient: DivGrad.
func Div(a, b *tensor.Tensor) (*tensor.Tensor, error) { return binary(binDiv, a, b) }

// DivGrad returns the gradients of Div, as TF's RealDiv gradient:
// da = SumToShape(grad/b, a's shape), db = SumToShape(−grad·a/b², b's
// shape), with −grad·a/b² formed as grad·((−a/b)/b).
func DivGrad(grad, a, b *tensor.Tensor) (da, db *tensor.Tensor, err error) {
	if err := gradShapes("DivGrad", grad, a, b); err != nil {
		return nil, nil, err
	}
	q, err := binary(binDiv, grad, b)
	if err != nil {
		return nil, nil, err
	}
	if da, err = SumToShape(q, a.Shape()); err != nil {
		return nil, nil, err
	}
	t, err := binary(binDiv, Neg(a), b)
	if err != nil {
		return nil, nil, err
	}
	if t, err = binary(binDiv, t, b); err != nil {
		return nil, nil, err
	}
	if db, err = mulSum(grad, t, b.Shape()); err != nil {
		return nil, nil, err
	}
	return da, db, nil
}

// Maximum returns max(a, b) elementwise with broadcasting; NaN in either
// input gives NaN. Gradient: MaximumGrad.
func Maximum(a, b *tensor.Tensor) (*tensor.Tensor, error) { return binary(binMax, a, b) }

// MaximumGrad returns the gradients of Maximum: grad goes to a where
// a ≥ b and to b where a < b, each summed back to its input's shape. On a
// tie the whole gradient goes to a, the first input, as in TF's
// _MaximumGrad and TF.js 4.22 (greaterEqual for a, less for b).
func MaximumGrad(grad, a, b *tensor.Tensor) (da, db *tensor.Tensor, err error) {
	if err := gradShapes("MaximumGrad", grad, a, b); err != nil {
		return nil, nil, err
	}
	return maskedGrads(grad, a, b, false)
}

// Minimum returns min(a, b) elementwise with broadcasting; NaN in either
// input gives NaN. Gradient: MinimumGrad.
func Minimum(a, b *tensor.Tensor) (*tensor.Tensor, error) { return binary(binMin, a, b) }

// MinimumGrad returns the gradients of Minimum: grad goes to a where
// a ≤ b and to b where a > b, summed back to each input's shape. Ties go
// to a, as in TF and TF.js 4.22 (lessEqual for a, greater for b).
func MinimumGrad(grad, a, b *tensor.Tensor) (da, db *tensor.Tensor, err error) {
	if err := gradShapes("MinimumGrad", grad, a, b); err != nil {
		return nil, nil, err
	}
	return maskedGrads(grad, a, b, true)
}

// maskedGrads routes grad by the masks of Maximum (min false) or Minimum.
func maskedGrads(grad, a, b *tensor.Tensor, min bool) (da, db *tensor.Tensor, err error) {
	var ma, mb *tensor.Tensor
	if min {
		ma, err = binary(binGE, b, a) // a ≤ b
		if err == nil {
			mb, err = binary(binGT, a, b)
		}
	} else {
		ma, err = binary(binGE, a, b)
		if err == nil {
			mb, err = binary(binGT, b, a) // a < b
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if da, err = mulSum(grad, ma, a.Shape()); err != nil {
		return nil, nil, err
	}
	if db, err = mulSum(grad, mb, b.Shape()); err != nil {
		return nil, nil, err
	}
	return da, db, nil
}

// mulSum returns SumToShape(grad·t, shape).
func mulSum(grad, t *tensor.Tensor, shape []int) (*tensor.Tensor, error) {
	p, err := binary(binMul, grad, t)
	if err != nil {
		return nil, err
	}
	return SumToShape(p, shape)
}

// gradShapes checks that grad has the broadcast shape of a and b.
func gradShapes(op string, grad, a, b *tensor.Tensor) error {
	if grad == nil || a == nil || b == nil {
		return fmt.Errorf("nn: %s: nil tensor", op)
	}
	out, err := broadcastShape(a.Shape(), b.Shape())
	if err != nil {
		return fmt.Errorf("nn: %s: %w", op, err)
	}
	if !tensor.SameShape(out, grad.Shape()) {
		return fmt.Errorf("nn: %s: grad has shape %v, want %v (the broadcast of %v and %v)", op, grad.Shape(), out, a.Shape(), b.Shape())
	}
	return nil
}

// BroadcastTo returns x repeated to shape (tf.broadcast_to): x's shape,
// aligned from the right, must have each dim equal to shape's or 1.
// Gradient: SumToShape(grad, x's shape).
func BroadcastTo(x *tensor.Tensor, shape []int) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: BroadcastTo: nil tensor")
	}
	if _, err := checkShape("BroadcastTo", shape); err != nil {
		return nil, err
	}
	out, err := broadcastShape(x.Shape(), shape)
	if err != nil || !tensor.SameShape(out, shape) {
		return nil, fmt.Errorf("nn: BroadcastTo: cannot broadcast shape %v to %v", x.Shape(), shape)
	}
	y := newResult(out...)
	runBinary(binLeft, y.Data(), out, x.Data(), x.Shape(), x.Data(), x.Shape())
	return y, nil
}

// SumToShape reduces x, the broadcast of a tensor of the given shape, back
// to that shape by summing over the broadcast dims: the leading dims x
// has beyond len(shape), and every dim where shape has 1 and x does not.
// It is the gradient of any broadcast. When shape equals x's shape it
// returns x itself. It fails unless shape broadcasts to x's shape.
func SumToShape(x *tensor.Tensor, shape []int) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: SumToShape: nil tensor")
	}
	xs := x.Shape()
	if tensor.SameShape(xs, shape) {
		return x, nil
	}
	out, err := BroadcastShape(shape, xs)
	if err != nil || !tensor.SameShape(out, xs) || len(shape) > len(xs) {
		return nil, fmt.Errorf("nn: SumToShape: shape %v does not broadcast to the gradient's shape %v", shape, xs)
	}
	lead := len(xs) - len(shape)
	red := make([]bool, len(xs))
	for i := range xs {
		red[i] = i < lead || (shape[i-lead] == 1 && xs[i] != 1)
	}
	y := newResult(shape...)
	reduceInto(y.Data(), x.Data(), xs, red, redSum)
	return y, nil
}

// binary checks and broadcasts a and b and applies k.
func binary(k binKind, a, b *tensor.Tensor) (*tensor.Tensor, error) {
	if a == nil || b == nil {
		return nil, fmt.Errorf("nn: %s: nil tensor", binNames[k])
	}
	out, err := broadcastShape(a.Shape(), b.Shape())
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", binNames[k], err)
	}
	y := newResult(out...)
	runBinary(k, y.Data(), out, a.Data(), a.Shape(), b.Data(), b.Shape())
	return y, nil
}

// bcastPlan is the output of a broadcast as runs: dims shape (size-1 dims
// dropped, contiguous neighbours merged) and the strides of a and b along
// them (0 where an input is repeated). The last dim is the run; along it
// each input is contiguous (stride 1) or repeated (stride 0).
type bcastPlan struct{ shape, as, bs []int }

// planBroadcast builds the plan for out = broadcast of aShape and bShape.
func planBroadcast(out, aShape, bShape []int) bcastPlan {
	var p bcastPlan
	strides := func(s []int, i int) int { // stride of s along out dim i, 0 if repeated
		j := i - (len(out) - len(s))
		if j < 0 || s[j] == 1 {
			return 0
		}
		return tensor.Size(s[j+1:])
	}
	for i, n := range out {
		if n == 1 {
			continue
		}
		as, bs := strides(aShape, i), strides(bShape, i)
		if k := len(p.shape) - 1; k >= 0 && p.as[k] == as*n && p.bs[k] == bs*n {
			p.shape[k] *= n
			p.as[k], p.bs[k] = as, bs
			continue
		}
		p.shape = append(p.shape, n)
		p.as = append(p.as, as)
		p.bs = append(p.bs, bs)
	}
	return p
}

// runBinary fills dst (shape out) with k(a, b) broadcast.
func runBinary(k binKind, dst []float32, out []int, a []float32, aShape []int, b []float32, bShape []int) {
	if len(dst) == 0 {
		return
	}
	p := planBroadcast(out, aShape, bShape)
	if len(p.shape) == 0 { // one element
		dst[0] = binScalar(k, a[0], b[0])
		return
	}
	last := len(p.shape) - 1
	n, sa, sb := p.shape[last], p.as[last], p.bs[last]
	run := func(d []float32, ao, bo int) {
		switch {
		case sa != 0 && sb != 0:
			binVV(k, d, a[ao:ao+len(d)], b[bo:bo+len(d)])
		case sa != 0:
			binVS(k, d, a[ao:ao+len(d)], b[bo])
		case sb != 0:
			binSV(k, d, a[ao], b[bo:bo+len(d)])
		default: // both repeated (BroadcastTo passes x twice)
			v := binScalar(k, a[ao], b[bo])
			for i := range d {
				d[i] = v
			}
		}
	}
	rows := len(dst) / n
	if rows == 1 {
		parallel.For(n, elemMinPer, func(lo, hi int) { run(dst[lo:hi], lo*sa, lo*sb) })
		return
	}
	outer := p.shape[:last]
	parallel.For(rows, max(1, elemMinPer/n), func(lo, hi int) {
		idx := make([]int, len(outer))
		rem := lo
		for d := len(outer) - 1; d >= 0; d-- {
			idx[d] = rem % outer[d]
			rem /= outer[d]
		}
		ao, bo := 0, 0
		for d, i := range idx {
			ao += i * p.as[d]
			bo += i * p.bs[d]
		}
		for r := lo; r < hi; r++ {
			run(dst[r*n:(r+1)*n], ao, bo)
			for d := len(outer) - 1; d >= 0; d-- { // odometer step
				idx[d]++
				ao += p.as[d]
				bo += p.bs[d]
				if idx[d] < outer[d] {
					break
				}
				ao -= idx[d] * p.as[d]
				bo -= idx[d] * p.bs[d]
				idx[d] = 0
			}
		}
	})
}

// binaryRef is runBinary's reference: each output element reads a and b
// through its own multi-index.
func binaryRef(k binKind, dst []float32, out []int, a []float32, aShape []int, b []float32, bShape []int) {
	idx := make([]int, len(out))
	at := func(s []int) int {
		off := 0
		for j, d := range s {
			i := idx[len(out)-len(s)+j]
			if d == 1 {
				i = 0
			}
			off = off*d + i
		}
		return off
	}
	for f := range dst {
		rem := f
		for d := len(out) - 1; d >= 0; d-- {
			idx[d] = rem % out[d]
			rem /= out[d]
		}
		dst[f] = binScalar(k, a[at(aShape)], b[at(bShape)])
	}
}

// binVV, binVS and binSV are the run kernels: both inputs contiguous, b
// repeated, a repeated. One loop per kind keeps each loop branch-free.
func binVV(k binKind, d, a, b []float32) {
	a, b = a[:len(d)], b[:len(d)]
	switch k {
	case binAdd:
		kernels.Add(d, a, b)
	case binSub:
		for i := range d {
			d[i] = a[i] - b[i]
		}
	case binMul:
		for i := range d {
			d[i] = a[i] * b[i]
		}
	case binDiv:
		for i := range d {
			d[i] = a[i] / b[i]
		}
	case binLeft:
		copy(d, a)
	default:
		for i := range d {
			d[i] = binScalar(k, a[i], b[i])
		}
	}
}

func binVS(k binKind, d, a []float32, b float32) {
	a = a[:len(d)]
	switch k {
	case binAdd:
		for i := range d {
			d[i] = a[i] + b
		}
	case binSub:
		for i := range d {
			d[i] = a[i] - b
		}
	case binMul:
		for i := range d {
			d[i] = a[i] * b
		}
	case binDiv:
		for i := range d {
			d[i] = a[i] / b
		}
	case binLeft:
		copy(d, a)
	default:
		for i := range d {
			d[i] = binScalar(k, a[i], b)
		}
	}
}

func binSV(k binKind, d []float32, a float32, b []float32) {
	b = b[:len(d)]
	switch k {
	case binAdd:
		for i := range d {
			d[i] = a + b[i]
		}
	case binSub:
		for i := range d {
			d[i] = a - b[i]
		}
	case binMul:
		for i := range d {
			d[i] = a * b[i]
		}
	case binDiv:
		for i := range d {
			d[i] = a / b[i]
		}
	case binLeft:
		for i := range d {
			d[i] = a
		}
	default:
		for i := range d {
			d[i] = binScalar(k, a, b[i])
		}
	}
}
