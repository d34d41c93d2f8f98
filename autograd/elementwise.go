package autograd

import (
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Broadcasting binary ops. Shapes: a and b broadcast as in TF and NumPy
// (aligned from the right; a dim of 1 or a missing dim repeats), the
// result has nn.BroadcastShape(a, b). Each backward is the nn gradient op
// (nn.AddGrad, nn.MulGrad, …), which sums the gradient back over the
// broadcast dims (nn.SumToShape), or, when only one input needs a
// gradient, the half of it that input needs (see binaryNode). Scale, ReduceSum, ReduceMean and
// Reshape compute their gradients inline: they have no nn counterpart.

// Add returns a + b with broadcasting. ∂/∂a = g, ∂/∂b = g, each summed
// to its input's shape (nn.AddGrad).
func Add(a, b *Var) *Var {
	return binaryNode("Add", a, b, nn.Add, func(g *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error) {
		switch {
		case !b.needed:
			da, err := nn.SumToShape(g, a.value.Shape())
			return da, nil, err
		case !a.needed:
			db, err := nn.SumToShape(g, b.value.Shape())
			return nil, db, err
		}
		return nn.AddGrad(g, a.value.Shape(), b.value.Shape())
	})
}

// AddRelu returns Relu(Add(a, b)) for a and b of one shape (no
// broadcasting), computed in one pass (nn.AddRelu) with the bits of the
// two ops: a residual block's join. ∂/∂a = ∂/∂b = nn.ReluGrad(g, y), one
// tensor handed to both inputs as shared, so neither writes into it (a
// later sum into either input's gradient takes other storage; the
// tensor goes back to the pool with the step's gradients when one of
// them still holds it).
func AddRelu(a, b *Var) *Var {
	const op = "AddRelu"
	if err := inputErr(op, a, b); err != nil {
		return failed(op, err)
	}
	y, err := nn.AddRelu(a.value, b.value)
	if err != nil {
		return opErr(op, err)
	}
	return node(op, y, func(g *tensor.Tensor) error {
		if !a.needed && !b.needed {
			return nil
		}
		d, err := nn.ReluGrad(g, y)
		if err != nil {
			return backErr(op, err)
		}
		if a.needed {
			accumulate(a, d, true)
		}
		if b.needed {
			accumulate(b, d, true)
		}
		return nil
	}, a, b)
}

// Sub returns a − b with broadcasting. ∂/∂a = g, ∂/∂b = −g, each summed
// to its input's shape (nn.SubGrad).
func Sub(a, b *Var) *Var {
	return binaryNode("Sub", a, b, nn.Sub, func(g *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error) {
		switch {
		case !b.needed:
			da, err := nn.SumToShape(g, a.value.Shape())
			return da, nil, err
		case !a.needed:
			db, err := nn.SumToShape(g, b.value.Shape())
			if err != nil {
				return nil, nil, err
			}
			return nil, nn.Neg(db), nil
		}
		return nn.SubGrad(g, a.value.Shape(), b.value.Shape())
	})
}

// Mul returns the elementwise product a·b with broadcasting.
// ∂/∂a = g·b, ∂/∂b = g·a, each summed to its input's shape (nn.MulGrad).
func Mul(a, b *Var) *Var {
	return binaryNode("Mul", a, b, nn.Mul, func(g *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error) {
		switch {
		case !b.needed:
			da, err := reduced(nn.Mul, g, b.value, a.value.Shape())
			return da, nil, err
		case !a.needed:
			db, err := reduced(nn.Mul, g, a.value, b.value.Shape())
			return nil, db, err
		}
		return nn.MulGrad(g, a.value, b.value)
	})
}

// Div returns a / b with broadcasting. ∂/∂a = g/b, ∂/∂b = −g·a/b², each
// summed to its input's shape (nn.DivGrad).
func Div(a, b *Var) *Var {
	return binaryNode("Div", a, b, nn.Div, func(g *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error) {
		if !b.needed { // division by a constant
			da, err := reduced(nn.Div, g, b.value, a.value.Shape())
			return da, nil, err
		}
		return nn.DivGrad(g, a.value, b.value)
	})
}

// Maximum returns max(a, b) elementwise with broadcasting. The gradient
// goes to a where a ≥ b and to b where a < b: a tie sends it to a, the
// first input, as in TF and TF.js 4.22 (nn.MaximumGrad).
func Maximum(a, b *Var) *Var {
	return binaryNode("Maximum", a, b, nn.Maximum, func(g *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error) {
		return nn.MaximumGrad(g, a.value, b.value)
	})
}

// Minimum returns min(a, b) elementwise with broadcasting. The gradient
// goes to a where a ≤ b and to b where a > b; ties go to a
// (nn.MinimumGrad).
func Minimum(a, b *Var) *Var {
	return binaryNode("Minimum", a, b, nn.Minimum, func(g *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error) {
		return nn.MinimumGrad(g, a.value, b.value)
	})
}

// binaryNode runs fwd on a and b and attaches a backward that adds the
// two gradients grads returns into whichever inputs need them. A
// gradient that is g itself (no reduction needed) is passed on shared.
// grads may leave the gradient of an input that needs none nil: Add,
// Sub, Mul and Div then compute only the other one, from the same nn
// pieces their gradient op is made of (a constant operand, such as a
// dropout mask or a divisor, costs no product or reduction).
func binaryNode(op string, a, b *Var, fwd func(a, b *tensor.Tensor) (*tensor.Tensor, error), grads func(g *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error)) *Var {
	if err := inputErr(op, a, b); err != nil {
		return failed(op, err)
	}
	y, err := fwd(a.value, b.value)
	if err != nil {
		return opErr(op, err)
	}
	return node(op, y, func(g *tensor.Tensor) error {
		if !a.needed && !b.needed {
			return nil
		}
		da, db, err := grads(g)
		if err != nil {
			return backErr(op, err)
		}
		if a.needed {
			fromOp(a, da, g)
		}
		if b.needed {
			fromOp(b, db, g)
		}
		return nil
	}, a, b)
}

// reduced returns op(g, t) summed to shape: one input's half of
// nn.MulGrad (op nn.Mul) or nn.DivGrad's ∂/∂a (op nn.Div), with their
// bits.
func reduced(op func(a, b *tensor.Tensor) (*tensor.Tensor, error), g, t *tensor.Tensor, shape []int) (*tensor.Tensor, error) {
	p, err := op(g, t)
	if err != nil {
		return nil, err
	}
	return nn.SumToShape(p, shape)
}

// Scale returns c·x. ∂/∂x = c·g.
func Scale(x *Var, c float32) *Var {
	const op = "Scale"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	return unaryNode(op, x, scaled(x.value, c), func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return scaled(g, c), nil
	})
}

// ReduceSum returns the sum of every element of x as a scalar (shape []),
// accumulated in float64. ∂/∂x = g broadcast to x's shape.
func ReduceSum(x *Var) *Var { return reduce("ReduceSum", x, false) }

// ReduceMean returns the mean of every element of x as a scalar (shape
// []), accumulated in float64; the mean of an empty tensor is NaN, as in
// TF. ∂/∂x = g/n broadcast to x's shape, n = x's element count.
func ReduceMean(x *Var) *Var { return reduce("ReduceMean", x, true) }

func reduce(op string, x *Var, mean bool) *Var {
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	var s float64
	for _, v := range x.value.Data() {
		s += float64(v)
	}
	n := x.value.Len()
	if mean {
		s /= float64(n)
	}
	y := tensor.Zeros()
	y.Data()[0] = float32(s)
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		d := g.Data()[0]
		if mean {
			d /= float32(n)
		}
		return tensor.Full(d, x.value.Shape()...), nil
	})
}

// Reshape returns x with a new shape holding the same elements in the
// same order (one dimension may be −1, inferred). The value is a view of
// x's data. ∂/∂x = g viewed with x's shape.
func Reshape(x *Var, shape ...int) *Var {
	const op = "Reshape"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	y, err := x.value.Reshape(shape...)
	if err != nil {
		return opErr(op, err)
	}
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return g.Reshape(x.value.Shape()...)
	})
}

// scaled returns c·t as a new tensor.
func scaled(t *tensor.Tensor, c float32) *tensor.Tensor {
	y := tensor.Zeros(t.Shape()...)
	yd, td := y.Data(), t.Data()
	td = td[:len(yd)]
	for i := range yd {
		yd[i] = c * td[i]
	}
	return y
}
