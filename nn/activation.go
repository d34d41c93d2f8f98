package nn

// Activations and softmax: elementwise ops on tensors of any shape, and
// softmax over the last axis (rows of length L = the last dimension).
// Each op's kernel is generic over the element type so that the float64
// instance can be checked by finite differences; the exported functions
// run the float32 instance.

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// elemMinPer is the number of elements worth a goroutine in an
// elementwise loop.
const elemMinPer = 1 << 15

// opsUnary returns a new tensor of x's shape filled by k(dst, src) over
// contiguous chunks.
func opsUnary(x *tensor.Tensor, k func(dst, src []float32)) *tensor.Tensor {
	y := newResult(x.Shape()...)
	yd, xd := y.Data(), x.Data()
	parallel.For(len(xd), elemMinPer, func(lo, hi int) { k(yd[lo:hi], xd[lo:hi]) })
	return y
}

// opsBinary checks that a and b have the same shape and returns a new
// tensor of it filled by k(dst, a, b) over contiguous chunks.
func opsBinary(op, aName string, a *tensor.Tensor, bName string, b *tensor.Tensor, k func(dst, a, b []float32)) (*tensor.Tensor, error) {
	if err := opsSameShape(op, aName, a, bName, b); err != nil {
		return nil, err
	}
	y := newResult(a.Shape()...)
	yd, ad, bd := y.Data(), a.Data(), b.Data()
	parallel.For(len(ad), elemMinPer, func(lo, hi int) { k(yd[lo:hi], ad[lo:hi], bd[lo:hi]) })
	return y, nil
}

// opsSameShape returns an error unless a and b are non-nil and of the
// same shape.
func opsSameShape(op, aName string, a *tensor.Tensor, bName string, b *tensor.Tensor) error {
	if a == nil || b == nil {
		return fmt.Errorf("nn: %s: %s or %s is nil", op, aName, bName)
	}
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		return fmt.Errorf("nn: %s: %s has shape %v but %s has shape %v (want the same)", op, aName, a.Shape(), bName, b.Shape())
	}
	return nil
}

// Relu returns max(x, 0) elementwise, in x's shape. Like TF, a NaN stays NaN.
func Relu(x *tensor.Tensor) *tensor.Tensor { return opsUnary(x, reluKernel[float32]) }

// ReluGrad returns the gradient of Relu: grad where x > 0, else 0. grad
// and x (Relu's input) have the same shape, which the result takes.
func ReluGrad(grad, x *tensor.Tensor) (*tensor.Tensor, error) {
	return opsBinary("ReluGrad", "grad", grad, "x", x, reluGradKernel[float32])
}

// AddRelu returns Relu(a + b) for a and b of one shape, in one pass over
// memory: each worker adds and rectifies a block of addReluBlock values
// while they are in cache. The bits are those of Add then Relu (one
// float32 addition, then ReLU's rules: NaN stays NaN, −0 stays −0).
// Its gradient with respect to a and to b is ReluGrad(grad, y), y the
// result (y > 0 exactly where a + b > 0).
func AddRelu(a, b *tensor.Tensor) (*tensor.Tensor, error) {
	return opsBinary("AddRelu", "a", a, "b", b, func(dst, a, b []float32) {
		for lo := 0; lo < len(dst); lo += addReluBlock {
			hi := min(lo+addReluBlock, len(dst))
			kernels.Add(dst[lo:hi], a[lo:hi], b[lo:hi])
			kernels.Relu(dst[lo:hi], dst[lo:hi])
		}
	})
}

// addReluBlock is AddRelu's block: 16 KiB of results, well inside L1.
const addReluBlock = 4096

// LeakyRelu returns x where x > 0, else alpha·x, elementwise (TF's
// tf.nn.leaky_relu; TF's default alpha is 0.2).
func LeakyRelu(x *tensor.Tensor, alpha float32) *tensor.Tensor {
	return opsUnary(x, func(dst, src []float32) { leakyReluKernel(dst, src, alpha) })
}

// LeakyReluGrad returns the gradient of LeakyRelu: grad where x > 0, else
// alpha·grad. grad and x (LeakyRelu's input) have the same shape.
func LeakyReluGrad(grad, x *tensor.Tensor, alpha float32) (*tensor.Tensor, error) {
	return opsBinary("LeakyReluGrad", "grad", grad, "x", x, func(dst, g, x []float32) { leakyReluGradKernel(dst, g, x, alpha) })
}

// Sigmoid returns σ(x) = 1/(1+exp(−x)) elementwise, computed without
// overflow for large |x|.
func Sigmoid(x *tensor.Tensor) *tensor.Tensor { return opsUnary(x, sigmoidKernel[float32]) }

// SigmoidGrad returns the gradient of Sigmoid from its output y:
// grad·y·(1−y). y and grad have the same shape.
func SigmoidGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) {
	return opsBinary("SigmoidGrad", "y", y, "grad", grad, sigmoidGradKernel[float32])
}

// Tanh returns tanh(x) elementwise.
func Tanh(x *tensor.Tensor) *tensor.Tensor { return opsUnary(x, tanhKernel[float32]) }

// TanhGrad returns the gradient of Tanh from its output y: grad·(1−y²).
// y and grad have the same shape.
func TanhGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) {
	return opsBinary("TanhGrad", "y", y, "grad", grad, tanhGradKernel[float32])
}

// Softmax returns exp(x_i − m)/Σ_j exp(x_j − m) over the last axis, with
// m the row maximum (so no exp overflows). logits has rank ≥ 1; the
// result has its shape.
func Softmax(logits *tensor.Tensor) (*tensor.Tensor, error) {
	return opsRows("Softmax", logits, softmaxKernel[float32])
}

// LogSoftmax returns x_i − m − log Σ_j exp(x_j − m) over the last axis,
// with m the row maximum. logits has rank ≥ 1; the result has its shape.
func LogSoftmax(logits *tensor.Tensor) (*tensor.Tensor, error) {
	return opsRows("LogSoftmax", logits, logSoftmaxKernel[float32])
}

// SoftmaxGrad returns the gradient of Softmax from its output y, per row
// of the last axis: dx_i = y_i·(g_i − Σ_j g_j·y_j). y and grad have the
// same shape.
func SoftmaxGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) {
	return opsRowsGrad("SoftmaxGrad", y, grad, softmaxGradKernel[float32])
}

// LogSoftmaxGrad returns the gradient of LogSoftmax from its output y,
// per row of the last axis: dx_i = g_i − exp(y_i)·Σ_j g_j. y and grad
// have the same shape.
func LogSoftmaxGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) {
	return opsRowsGrad("LogSoftmaxGrad", y, grad, logSoftmaxGradKernel[float32])
}

// opsRows applies a row kernel over the last axis of x.
func opsRows(op string, x *tensor.Tensor, k func(dst, src []float32, l int)) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: %s: logits tensor is nil", op)
	}
	if x.Rank() < 1 {
		return nil, fmt.Errorf("nn: %s wants logits of rank ≥ 1, got shape %v", op, x.Shape())
	}
	l := x.Dim(-1)
	y := tensor.Zeros(x.Shape()...)
	if l == 0 {
		return y, nil
	}
	yd, xd := y.Data(), x.Data()
	parallel.For(len(xd)/l, max(1, elemMinPer/l), func(lo, hi int) { k(yd[lo*l:hi*l], xd[lo*l:hi*l], l) })
	return y, nil
}

// opsRowsGrad applies a row gradient kernel over the last axis.
func opsRowsGrad(op string, y, grad *tensor.Tensor, k func(dst, y, g []float32, l int)) (*tensor.Tensor, error) {
	if err := opsSameShape(op, "y", y, "grad", grad); err != nil {
		return nil, err
	}
	if y.Rank() < 1 {
		return nil, fmt.Errorf("nn: %s wants y of rank ≥ 1, got shape %v", op, y.Shape())
	}
	l := y.Dim(-1)
	dx := tensor.Zeros(y.Shape()...)
	if l == 0 {
		return dx, nil
	}
	dd, yd, gd := dx.Data(), y.Data(), grad.Data()
	parallel.For(len(yd)/l, max(1, elemMinPer/l), func(lo, hi int) {
		k(dd[lo*l:hi*l], yd[lo*l:hi*l], gd[lo*l:hi*l], l)
	})
	return dx, nil
}

// The float32 instances of the Relu kernels select with bit masks
// instead of branches: half the activations of a layer are negative in no
// predictable order, and a mispredicted branch per element costs more
// than the rest of the loop.

func reluKernel[T float](dst, x []T) {
	if d, ok := any(dst).([]float32); ok {
		kernels.Relu(d, any(x).([]float32)) // zero where v < 0: NaN and −0 pass
		return
	}
	for i, v := range x[:len(dst)] {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

func reluGradKernel[T float](dst, g, x []T) {
	if d, ok := any(dst).([]float32); ok {
		kernels.ReluGrad(d, any(g).([]float32), any(x).([]float32)) // +0 where x ≤ 0 or NaN
		return
	}
	x, g = x[:len(dst)], g[:len(dst)]
	for i, v := range x {
		if v > 0 {
			dst[i] = g[i]
		} else {
			dst[i] = 0
		}
	}
}

// The LeakyRelu kernels multiply by a factor s that is 1 where x > 0 and
// alpha elsewhere; in float32 s is picked by a bit mask, without a branch.

func leakyReluKernel[T float](dst, x []T, alpha T) {
	if d, ok := any(dst).([]float32); ok {
		x32 := any(x).([]float32)
		leakyScaleF32(d, x32, x32, float32(alpha))
		return
	}
	for i, v := range x[:len(dst)] {
		s := alpha
		if v > 0 {
			s = 1
		}
		dst[i] = v * s
	}
}

func leakyReluGradKernel[T float](dst, g, x []T, alpha T) {
	if d, ok := any(dst).([]float32); ok {
		leakyScaleF32(d, any(g).([]float32), any(x).([]float32), float32(alpha))
		return
	}
	x, g = x[:len(dst)], g[:len(dst)]
	for i, v := range x {
		s := alpha
		if v > 0 {
			s = 1
		}
		dst[i] = g[i] * s
	}
}

// leakyScaleF32 sets dst = v·(x > 0 ? 1 : alpha).
func leakyScaleF32(dst, v, x []float32, alpha float32) {
	v, x = v[:len(dst)], x[:len(dst)]
	one, a := math.Float32bits(1), math.Float32bits(alpha)
	for i, xv := range x {
		var m uint32
		if xv > 0 {
			m = ^uint32(0)
		}
		dst[i] = v[i] * math.Float32frombits(one&m|a&^m)
	}
}

// sigmoid64 is σ(v) without overflow: for v < 0 it uses e^v/(1+e^v).
func sigmoid64(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

func sigmoidKernel[T float](dst, x []T) {
	for i, v := range x[:len(dst)] {
		dst[i] = T(sigmoid64(float64(v)))
	}
}

func sigmoidGradKernel[T float](dst, y, g []T) {
	y, g = y[:len(dst)], g[:len(dst)]
	for i, v := range y {
		dst[i] = g[i] * v * (1 - v)
	}
}

func tanhKernel[T float](dst, x []T) {
	for i, v := range x[:len(dst)] {
		dst[i] = T(math.Tanh(float64(v)))
	}
}

func tanhGradKernel[T float](dst, y, g []T) {
	y, g = y[:len(dst)], g[:len(dst)]
	for i, v := range y {
		dst[i] = g[i] * (1 - v*v)
	}
}

// softmaxKernel computes softmax over each row of length l, with the
// exponentials and their sum in float64.
func softmaxKernel[T float](dst, x []T, l int) {
	for r := 0; r+l <= len(x); r += l {
		xr, yr := x[r:r+l], dst[r:r+l]
		m := rowMax(xr)
		var s float64
		for i, v := range xr {
			e := math.Exp(float64(v - m))
			yr[i] = T(e)
			s += e
		}
		inv := 1 / s
		for i, e := range yr {
			yr[i] = T(float64(e) * inv)
		}
	}
}

// logSoftmaxKernel computes x − m − log Σ exp(x − m) over each row.
func logSoftmaxKernel[T float](dst, x []T, l int) {
	for r := 0; r+l <= len(x); r += l {
		xr, yr := x[r:r+l], dst[r:r+l]
		m := rowMax(xr)
		var s float64
		for _, v := range xr {
			s += math.Exp(float64(v - m))
		}
		ls := math.Log(s)
		for i, v := range xr {
			yr[i] = T(float64(v-m) - ls)
		}
	}
}

// rowMax returns the largest value of a non-empty row (NaN if any is NaN,
// so that a NaN logit poisons its row instead of being skipped).
func rowMax[T float](x []T) T {
	m := x[0]
	for _, v := range x[1:] {
		if v > m || v != v {
			m = v
		}
	}
	return m
}

func softmaxGradKernel[T float](dst, y, g []T, l int) {
	for r := 0; r+l <= len(y); r += l {
		yr, gr, dr := y[r:r+l], g[r:r+l], dst[r:r+l]
		var dot float64
		for i, v := range yr {
			dot += float64(gr[i]) * float64(v)
		}
		for i, v := range yr {
			dr[i] = T(float64(v) * (float64(gr[i]) - dot))
		}
	}
}

func logSoftmaxGradKernel[T float](dst, y, g []T, l int) {
	for r := 0; r+l <= len(y); r += l {
		yr, gr, dr := y[r:r+l], g[r:r+l], dst[r:r+l]
		var s float64
		for _, v := range gr {
			s += float64(v)
		}
		for i, v := range yr {
			dr[i] = T(float64(gr[i]) - math.Exp(float64(v))*s)
		}
	}
}
