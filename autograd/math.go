package autograd

import (
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Unary math and activations on Vars, elementwise on any shape. Each
// backward is the nn gradient op named in the doc comment.

// noErr adapts an nn op that cannot fail to unaryOfOutput's signature.
func noErr(f func(*tensor.Tensor) *tensor.Tensor) func(*tensor.Tensor) (*tensor.Tensor, error) {
	return func(x *tensor.Tensor) (*tensor.Tensor, error) { return f(x), nil }
}

// Neg is −x. ∂/∂x = −g.
func Neg(x *Var) *Var {
	return unaryOfInput("Neg", x, nn.Neg, func(g, _ *tensor.Tensor) (*tensor.Tensor, error) { return nn.Neg(g), nil })
}

// Abs is |x|. ∂/∂x = nn.AbsGrad(g, x) = g·sign(x), 0 at x = 0.
func Abs(x *Var) *Var { return unaryOfInput("Abs", x, nn.Abs, nn.AbsGrad) }

// Exp is eˣ. ∂/∂x = nn.ExpGrad(y, g) = g·y.
func Exp(x *Var) *Var { return unaryOfOutput("Exp", x, noErr(nn.Exp), nn.ExpGrad) }

// Log is ln x. ∂/∂x = nn.LogGrad(g, x) = g/x.
func Log(x *Var) *Var { return unaryOfInput("Log", x, nn.Log, nn.LogGrad) }

// Sqrt is √x. ∂/∂x = nn.SqrtGrad(y, g) = 0.5·g/y.
func Sqrt(x *Var) *Var { return unaryOfOutput("Sqrt", x, noErr(nn.Sqrt), nn.SqrtGrad) }

// Rsqrt is 1/√x. ∂/∂x = nn.RsqrtGrad(y, g) = −0.5·g·y³.
func Rsqrt(x *Var) *Var { return unaryOfOutput("Rsqrt", x, noErr(nn.Rsqrt), nn.RsqrtGrad) }

// Square is x². ∂/∂x = nn.SquareGrad(g, x) = 2·x·g.
func Square(x *Var) *Var { return unaryOfInput("Square", x, nn.Square, nn.SquareGrad) }

// Pow is xᵖ. ∂/∂x = nn.PowGrad(g, x, p) = g·p·x^(p−1).
func Pow(x *Var, p float32) *Var {
	return unaryOfInput("Pow", x, func(x *tensor.Tensor) *tensor.Tensor { return nn.Pow(x, p) },
		func(g, x *tensor.Tensor) (*tensor.Tensor, error) { return nn.PowGrad(g, x, p) })
}

// Relu6 is min(max(x, 0), 6). ∂/∂x = nn.Relu6Grad(g, x).
func Relu6(x *Var) *Var { return unaryOfInput("Relu6", x, nn.Relu6, nn.Relu6Grad) }

// Elu is x for x ≥ 0, eˣ − 1 below. ∂/∂x = nn.EluGrad(g, y).
func Elu(x *Var) *Var { return unaryOfOutput("Elu", x, noErr(nn.Elu), swapped(nn.EluGrad)) }

// Selu is nn.Selu. ∂/∂x = nn.SeluGrad(g, y).
func Selu(x *Var) *Var { return unaryOfOutput("Selu", x, noErr(nn.Selu), swapped(nn.SeluGrad)) }

// HardSigmoid is clip(0.2·x + 0.5, 0, 1) (Keras 2 and TF.js; see
// nn.HardSigmoid). ∂/∂x = nn.HardSigmoidGrad(g, x).
func HardSigmoid(x *Var) *Var {
	return unaryOfInput("HardSigmoid", x, nn.HardSigmoid, nn.HardSigmoidGrad)
}

// Softplus is log(1 + eˣ). ∂/∂x = nn.SoftplusGrad(g, x).
func Softplus(x *Var) *Var { return unaryOfInput("Softplus", x, nn.Softplus, nn.SoftplusGrad) }

// Softsign is x/(1 + |x|). ∂/∂x = nn.SoftsignGrad(g, x).
func Softsign(x *Var) *Var { return unaryOfInput("Softsign", x, nn.Softsign, nn.SoftsignGrad) }

// Swish is x·σ(x) (SiLU). ∂/∂x = nn.SwishGrad(g, x).
func Swish(x *Var) *Var { return unaryOfInput("Swish", x, nn.Swish, nn.SwishGrad) }

// Gelu is x·Φ(x), or its tanh approximation (nn.Gelu).
// ∂/∂x = nn.GeluGrad(g, x, approximate).
func Gelu(x *Var, approximate bool) *Var {
	return unaryOfInput("Gelu", x, func(x *tensor.Tensor) *tensor.Tensor { return nn.Gelu(x, approximate) },
		func(g, x *tensor.Tensor) (*tensor.Tensor, error) { return nn.GeluGrad(g, x, approximate) })
}

// SoftmaxAxis is softmax along axis (negative from the end).
// ∂/∂x = nn.SoftmaxAxisGrad(y, g, axis).
func SoftmaxAxis(x *Var, axis int) *Var {
	return unaryOfOutput("SoftmaxAxis", x,
		func(x *tensor.Tensor) (*tensor.Tensor, error) { return nn.SoftmaxAxis(x, axis) },
		func(y, g *tensor.Tensor) (*tensor.Tensor, error) { return nn.SoftmaxAxisGrad(y, g, axis) })
}

// LogSoftmaxAxis is log-softmax along axis.
// ∂/∂x = nn.LogSoftmaxAxisGrad(y, g, axis).
func LogSoftmaxAxis(x *Var, axis int) *Var {
	return unaryOfOutput("LogSoftmaxAxis", x,
		func(x *tensor.Tensor) (*tensor.Tensor, error) { return nn.LogSoftmaxAxis(x, axis) },
		func(y, g *tensor.Tensor) (*tensor.Tensor, error) { return nn.LogSoftmaxAxisGrad(y, g, axis) })
}

// swapped turns a TF-style grad op (gradients, outputs) into the (y, g)
// order unaryOfOutput calls.
func swapped(f func(g, y *tensor.Tensor) (*tensor.Tensor, error)) func(y, g *tensor.Tensor) (*tensor.Tensor, error) {
	return func(y, g *tensor.Tensor) (*tensor.Tensor, error) { return f(g, y) }
}
