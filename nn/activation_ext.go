package nn

// More activations, elementwise on a tensor of any shape, and softmax over
// any axis. x (features) is the op's input, y (outputs) its output, grad
// ∂loss/∂y; every gradient has x's shape. The gradient ops follow TF's raw
// ops where TF has one (Relu6Grad, EluGrad, SeluGrad, SoftplusGrad,
// SoftsignGrad: argument order (gradients, features or outputs)).
// Transcendental functions are evaluated in float64 and rounded once.

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// Relu6 returns min(max(x, 0), 6) (tf.nn.relu6). Gradient: Relu6Grad.
func Relu6(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 {
		if v < 0 {
			return 0
		}
		if v > 6 {
			return 6
		}
		return v
	})
}

// Relu6Grad returns gradients where 0 < features < 6, else 0 (TF's
// Relu6Grad; TF.js 4.22 also passes the gradient at exactly 6).
func Relu6Grad(gradients, features *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("Relu6Grad", "features", gradients, features, func(g, v float32) float32 {
		if v > 0 && v < 6 {
			return g
		}
		return 0
	})
}

// Elu returns x for x ≥ 0 and eˣ − 1 below (tf.nn.elu, alpha 1).
// Gradient: EluGrad.
func Elu(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 {
		if v < 0 {
			return float32(math.Expm1(float64(v)))
		}
		return v
	})
}

// EluGrad returns the gradient of Elu from its outputs y:
// gradients·(y + 1) where y < 0, else gradients (TF's EluGrad).
func EluGrad(gradients, outputs *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("EluGrad", "outputs", gradients, outputs, func(g, y float32) float32 {
		if y < 0 {
			return g * (y + 1)
		}
		return g
	})
}

// The SELU constants (Klambauer et al. 2017, as in tf.nn.selu).
const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

// Selu returns scale·x for x ≥ 0 and scale·alpha·(eˣ − 1) below
// (tf.nn.selu; alpha ≈ 1.6733, scale ≈ 1.0507). Gradient: SeluGrad.
func Selu(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 {
		if v < 0 {
			return float32(seluScale * seluAlpha * math.Expm1(float64(v)))
		}
		return float32(seluScale * float64(v))
	})
}

// SeluGrad returns the gradient of Selu from its outputs y:
// gradients·(y + scale·alpha) where y < 0, else gradients·scale (TF's
// SeluGrad).
func SeluGrad(gradients, outputs *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("SeluGrad", "outputs", gradients, outputs, func(g, y float32) float32 {
		if y < 0 {
			return g * (y + float32(seluScale*seluAlpha))
		}
		return g * float32(seluScale)
	})
}

// HardSigmoid returns clip(0.2·x + 0.5, 0, 1): the hard_sigmoid of Keras 2
// (tf.keras.activations.hard_sigmoid) and of TF.js 4.22's layers
// ('hardSigmoid'). Keras 3 changed it to relu6(x + 3)/6 = clip(x/6 + 0.5,
// 0, 1); a Keras 3 model needs that form instead. Gradient:
// HardSigmoidGrad.
func HardSigmoid(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 { return min(max(0.2*v+0.5, 0), 1) })
}

// HardSigmoidGrad returns 0.2·grad where 0 ≤ 0.2·x + 0.5 ≤ 1, else 0:
// clip_by_value passes the gradient at its bounds, in TF and TF.js.
func HardSigmoidGrad(grad, x *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("HardSigmoidGrad", "x", grad, x, func(g, v float32) float32 {
		if u := 0.2*v + 0.5; u >= 0 && u <= 1 {
			return 0.2 * g
		}
		return 0
	})
}

// softplusThreshold is TF's log(ε) + 2 for float32 (ε = 2⁻²³): beyond
// ±it softplus(x) is x or eˣ to within ε.
var softplusThreshold = math.Log(0x1p-23) + 2

// Softplus returns log(1 + eˣ) (tf.math.softplus), as x above
// −log(ε) − 2 ≈ 13.9 and as eˣ below log(ε) + 2, like TF. Gradient:
// SoftplusGrad.
func Softplus(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 {
		f := float64(v)
		switch {
		case f > -softplusThreshold:
			return v
		case f < softplusThreshold:
			return float32(math.Exp(f))
		}
		return float32(math.Log1p(math.Exp(f)))
	})
}

// SoftplusGrad returns gradients·σ(features) (TF's SoftplusGrad).
func SoftplusGrad(gradients, features *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("SoftplusGrad", "features", gradients, features, func(g, v float32) float32 {
		return float32(float64(g) * sigmoid64(float64(v)))
	})
}

// Softsign returns x/(1 + |x|) (tf.nn.softsign). Gradient: SoftsignGrad.
func Softsign(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 { return v / (1 + float32(math.Abs(float64(v)))) })
}

// SoftsignGrad returns gradients/(1 + |features|)² (TF's SoftsignGrad).
func SoftsignGrad(gradients, features *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("SoftsignGrad", "features", gradients, features, func(g, v float32) float32 {
		d := 1 + float32(math.Abs(float64(v)))
		return g / (d * d)
	})
}

// Swish returns x·σ(x), also called SiLU (tf.nn.silu, beta 1). Gradient:
// SwishGrad.
func Swish(x *tensor.Tensor) *tensor.Tensor {
	return mapUnary(x, func(v float32) float32 { return float32(float64(v) * sigmoid64(float64(v))) })
}

// SwishGrad returns grad·σ(x)·(1 + x·(1 − σ(x))).
func SwishGrad(grad, x *tensor.Tensor) (*tensor.Tensor, error) {
	return mapGrad("SwishGrad", "x", grad, x, func(g, v float32) float32 {
		f := float64(v)
		s := sigmoid64(f)
		return float32(float64(g) * s * (1 + f*(1-s)))
	})
}

// GELU constants: √(2/π) and the cubic coefficient of the tanh form.
const (
	geluC = 0.7978845608028654
	geluK = 0.044715
)

// Gelu returns x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (tf.nn.gelu), or with
// approximate the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
// (Keras' gelu(approximate=True), TF.js' 'gelu_new'). Gradient: GeluGrad.
func Gelu(x *tensor.Tensor, approximate bool) *tensor.Tensor {
	if approximate {
		return mapUnary(x, func(v float32) float32 {
			f := float64(v)
			return float32(0.5 * f * (1 + math.Tanh(geluC*(f+geluK*f*f*f))))
		})
	}
	return mapUnary(x, func(v float32) float32 {
		f := float64(v)
		return float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
	})
}

// GeluGrad returns grad·dGelu/dx: Φ(x) + x·φ(x) exactly (φ the standard
// normal density), or for the tanh form 0.5·(1 + t) + 0.5·x·(1 − t²)·
// √(2/π)·(1 + 3·0.044715·x²) with t = tanh(√(2/π)·(x + 0.044715·x³)).
func GeluGrad(grad, x *tensor.Tensor, approximate bool) (*tensor.Tensor, error) {
	if approximate {
		return mapGrad("GeluGrad", "x", grad, x, func(g, v float32) float32 {
			f := float64(v)
			t := math.Tanh(geluC * (f + geluK*f*f*f))
			return float32(float64(g) * (0.5*(1+t) + 0.5*f*(1-t*t)*geluC*(1+3*geluK*f*f)))
		})
	}
	return mapGrad("GeluGrad", "x", grad, x, func(g, v float32) float32 {
		f := float64(v)
		d := 0.5*(1+math.Erf(f/math.Sqrt2)) + f*math.Exp(-0.5*f*f)/math.Sqrt(2*math.Pi)
		return float32(float64(g) * d)
	})
}

// SoftmaxAxis returns softmax over axis (tf.nn.softmax(x, axis); negative
// from the end): exp(x_i − m)/Σ_j exp(x_j − m) along the axis, m the
// maximum along it. Gradient: SoftmaxAxisGrad.
func SoftmaxAxis(x *tensor.Tensor, axis int) (*tensor.Tensor, error) {
	return softmaxAxis("SoftmaxAxis", x, axis, false)
}

// LogSoftmaxAxis returns x_i − m − log Σ_j exp(x_j − m) along axis
// (tf.nn.log_softmax(x, axis)). Gradient: LogSoftmaxAxisGrad.
func LogSoftmaxAxis(x *tensor.Tensor, axis int) (*tensor.Tensor, error) {
	return softmaxAxis("LogSoftmaxAxis", x, axis, true)
}

// SoftmaxAxisGrad returns the gradient of SoftmaxAxis from its output y:
// dx_i = y_i·(g_i − Σ_j g_j·y_j) along axis.
func SoftmaxAxisGrad(y, grad *tensor.Tensor, axis int) (*tensor.Tensor, error) {
	return softmaxAxisGrad("SoftmaxAxisGrad", y, grad, axis, false)
}

// LogSoftmaxAxisGrad returns the gradient of LogSoftmaxAxis from its
// output y: dx_i = g_i − exp(y_i)·Σ_j g_j along axis.
func LogSoftmaxAxisGrad(y, grad *tensor.Tensor, axis int) (*tensor.Tensor, error) {
	return softmaxAxisGrad("LogSoftmaxAxisGrad", y, grad, axis, true)
}

// axisSplit returns the sizes before, along and after axis.
func axisSplit(op string, s []int, axis int) (outer, l, inner int, err error) {
	if len(s) == 0 {
		return 0, 0, 0, fmt.Errorf("nn: %s wants rank ≥ 1, got shape %v", op, s)
	}
	a, err := normAxis(op, axis, len(s))
	if err != nil {
		return 0, 0, 0, err
	}
	return tensor.Size(s[:a]), s[a], tensor.Size(s[a+1:]), nil
}

func softmaxAxis(op string, x *tensor.Tensor, axis int, logForm bool) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: %s: nil tensor", op)
	}
	outer, l, inner, err := axisSplit(op, x.Shape(), axis)
	if err != nil {
		return nil, err
	}
	if inner == 1 { // the last axis: the row kernels
		if logForm {
			return LogSoftmax(x)
		}
		return Softmax(x)
	}
	y := newResult(x.Shape()...)
	xd, yd := x.Data(), y.Data()
	if l == 0 {
		return y, nil
	}
	// Each outer block is an [l, inner] matrix reduced down its columns,
	// a row at a time so that memory is read in order.
	parallel.For(outer, max(1, elemMinPer/(l*inner)), func(lo, hi int) {
		m := make([]float32, inner)
		s := make([]float64, inner)
		for o := lo; o < hi; o++ {
			xb, yb := xd[o*l*inner:(o+1)*l*inner], yd[o*l*inner:(o+1)*l*inner]
			copy(m, xb[:inner])
			for r := 1; r < l; r++ {
				for j, v := range xb[r*inner : (r+1)*inner] {
					if v > m[j] || v != v {
						m[j] = v
					}
				}
			}
			clear(s)
			for r := 0; r < l; r++ {
				for j, v := range xb[r*inner : (r+1)*inner] {
					e := math.Exp(float64(v - m[j]))
					s[j] += e
					if !logForm {
						yb[r*inner+j] = float32(e)
					}
				}
			}
			for r := 0; r < l; r++ {
				row, xr := yb[r*inner:(r+1)*inner], xb[r*inner:(r+1)*inner]
				for j := range row {
					if logForm {
						row[j] = float32(float64(xr[j]-m[j]) - math.Log(s[j]))
					} else {
						row[j] = float32(float64(row[j]) / s[j])
					}
				}
			}
		}
	})
	return y, nil
}

func softmaxAxisGrad(op string, y, grad *tensor.Tensor, axis int, logForm bool) (*tensor.Tensor, error) {
	if err := opsSameShape(op, "y", y, "grad", grad); err != nil {
		return nil, err
	}
	outer, l, inner, err := axisSplit(op, y.Shape(), axis)
	if err != nil {
		return nil, err
	}
	if inner == 1 {
		if logForm {
			return LogSoftmaxGrad(y, grad)
		}
		return SoftmaxGrad(y, grad)
	}
	dx := newResult(y.Shape()...)
	yd, gd, dd := y.Data(), grad.Data(), dx.Data()
	parallel.For(outer, max(1, elemMinPer/max(1, l*inner)), func(lo, hi int) {
		s := make([]float64, inner)
		for o := lo; o < hi; o++ {
			b := o * l * inner
			clear(s)
			for r := 0; r < l; r++ {
				for j := 0; j < inner; j++ {
					i := b + r*inner + j
					if logForm {
						s[j] += float64(gd[i])
					} else {
						s[j] += float64(gd[i]) * float64(yd[i])
					}
				}
			}
			for r := 0; r < l; r++ {
				for j := 0; j < inner; j++ {
					i := b + r*inner + j
					if logForm {
						dd[i] = float32(float64(gd[i]) - math.Exp(float64(yd[i]))*s[j])
					} else {
						dd[i] = float32(float64(yd[i]) * (float64(gd[i]) - s[j]))
					}
				}
			}
		}
	})
	return dx, nil
}
