package nn

// Unary math, elementwise on a tensor of any shape, with the gradient of
// each beside it. x is the op's input, y its output, grad ∂loss/∂y; every
// gradient has x's shape. Transcendental functions are evaluated in
// float64 and rounded once, as TF.js' cpu backend does.

import (
	"math"

	"github.com/convnet-go/convnet/tensor"
)

// mapUnary returns f applied to every element of x, in x's shape.
func mapUnary(x *tensor.Tensor, f func(float32) float32) *tensor.Tensor {
	return opsUnary(x, func(dst, src []float32) {
		for i, v := range src[:len(dst)] {
			dst[i] = f(v)
		}
	})
}

// mapGrad returns f(grad_i, t_i) elementwise; grad and t have one shape.
func mapGrad(op, tName string, grad, t *tensor.Tensor, f func(g, t float32) float32) (*tensor.Tensor, error) {
	return opsBinary(op, "grad", grad, tName, t, func(dst, g, t []float32) {
		g, t = g[:len(dst)], t[:len(dst)]
		for i := range dst {
			dst[i] = f(g[i], t[i])
		}
	})
}

// Neg returns −x. Its gradient is Neg(grad).
func Neg(x *tensor.Tensor) *tensor.Tensor {
	return opsUnary(x, func(dst, src []float32) {
		for i, v := range src[:len(dst)] {
			dst[i] = -v
		}
	})
}

// Abs returns |x|. Gradient: AbsGrad.
func Abs(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 { return float32(math.Abs(float64(v))) })
}

// AbsGrad returns grad·sign(x), 0 at x = 0 as in TF (TF.js 4.22 gives
// −grad there).
func AbsGrad(grad, x *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("AbsGrad", "x", grad, x, func(g, v float32) float32 {
		switch {
		case v > 0:
			return g
		case v < 0:
			return -g
		}
		return 0
	})
}

// Exp returns eˣ. Gradient: ExpGrad.
func Exp(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 { return float32(math.Exp(float64(v))) })
}

// ExpGrad returns grad·y from Exp's output y.
func ExpGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("ExpGrad", "y", grad, y, func(g, y float32) float32 { return g * y })
}

// Log returns the natural logarithm ln x (−Inf at 0, NaN below). Gradient:
// LogGrad.
func Log(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 { return float32(math.Log(float64(v))) })
}

// LogGrad returns grad/x.
func LogGrad(grad, x *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("LogGrad", "x", grad, x, func(g, v float32) float32 { return g / v })
}

// Sqrt returns √x. Gradient: SqrtGrad.
func Sqrt(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 { return float32(math.Sqrt(float64(v))) })
}

// SqrtGrad returns grad·0.5/y from Sqrt's output y (TF's raw SqrtGrad).
func SqrtGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("SqrtGrad", "y", grad, y, func(g, y float32) float32 { return g * 0.5 / y })
}

// Rsqrt returns 1/√x. Gradient: RsqrtGrad.
func Rsqrt(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 { return float32(1 / math.Sqrt(float64(v))) })
}

// RsqrtGrad returns −0.5·grad·y³ from Rsqrt's output y (TF's raw
// RsqrtGrad).
func RsqrtGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("RsqrtGrad", "y", grad, y, func(g, y float32) float32 { return -0.5 * g * y * y * y })
}

// Square returns x². Gradient: SquareGrad.
func Square(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 { return v * v })
}

// SquareGrad returns 2·x·grad.
func SquareGrad(grad, x *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("SquareGrad", "x", grad, x, func(g, v float32) float32 { return 2 * v * g })
}

// Pow returns xᵖ (math.Pow rules: NaN for a negative x and a non-integer
// p). Gradient: PowGrad.
func Pow(x *tensor.Tensor, p float32) *tensor.Tensor {
	switch p {
	case 1:
		return mapUnary(x, func(v float32) float32 { return v })
	case 2:
		return Square(x)
	}
	return mapUnary(x, func(v float32) float32 { return float32(math.Pow(float64(v), float64(p))) })
}

// PowGrad returns grad·p·x^(p−1).
func PowGrad(grad, x *tensor.Tensor, p float32) (*tensor.Tensor, error) {
	return mapGrad("PowGrad", "x", grad, x, func(g, v float32) float32 {
		return g * float32(float64(p)*math.Pow(float64(v), float64(p)-1))
	})
}
