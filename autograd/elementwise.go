package autograd

import (
	"fmt"

	"github.com/convnet-go/convnet/tensor"
)

// The elementwise helpers compute their gradients inline: they have no
// nn counterpart. Shapes must match exactly (no broadcasting).

// Add returns a + b; a and b have the same shape.
// ∂/∂a = g, ∂/∂b = g.
func Add(a, b *Var) *Var {
	const op = "Add"
	y, err := binary(op, a, b, opAdd)
	if err != nil {
		return failed(op, err)
	}
	return node(op, y, func(g *tensor.Tensor) error {
		if a.needed {
			accumulate(a, g, true)
		}
		if b.needed {
			accumulate(b, g, true)
		}
		return nil
	}, a, b)
}

// Sub returns a − b; a and b have the same shape.
// ∂/∂a = g, ∂/∂b = −g.
func Sub(a, b *Var) *Var {
	const op = "Sub"
	y, err := binary(op, a, b, opSub)
	if err != nil {
		return failed(op, err)
	}
	return node(op, y, func(g *tensor.Tensor) error {
		if a.needed {
			accumulate(a, g, true)
		}
		if b.needed {
			accumulate(b, scaled(g, -1), false)
		}
		return nil
	}, a, b)
}

// Mul returns the elementwise product a ⊙ b; a and b have the same shape.
// ∂/∂a = g ⊙ b, ∂/∂b = g ⊙ a.
func Mul(a, b *Var) *Var {
	const op = "Mul"
	y, err := binary(op, a, b, opMul)
	if err != nil {
		return failed(op, err)
	}
	return node(op, y, func(g *tensor.Tensor) error {
		if a.needed {
			accumulate(a, product(g, b.value), false)
		}
		if b.needed {
			accumulate(b, product(g, a.value), false)
		}
		return nil
	}, a, b)
}

// Scale returns c·x. ∂/∂x = c·g.
func Scale(x *Var, c float32) *Var {
	const op = "Scale"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	return node(op, scaled(x.value, c), func(g *tensor.Tensor) error {
		if x.needed {
			accumulate(x, scaled(g, c), false)
		}
		return nil
	}, x)
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
	return node(op, y, func(g *tensor.Tensor) error {
		if !x.needed {
			return nil
		}
		d := g.Data()[0]
		if mean {
			d /= float32(n)
		}
		accumulate(x, tensor.Full(d, x.value.Shape()...), false)
		return nil
	}, x)
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
	return node(op, y, func(g *tensor.Tensor) error {
		if !x.needed {
			return nil
		}
		gx, err := g.Reshape(x.value.Shape()...)
		if err != nil {
			return backErr(op, err)
		}
		accumulate(x, gx, true)
		return nil
	}, x)
}

const (
	opAdd = iota
	opSub
	opMul
)

// binary applies the elementwise operation kind (opAdd, opSub, opMul) to
// two same-shaped inputs. One loop per kind keeps each loop vectorisable.
func binary(op string, a, b *Var, kind int) (*tensor.Tensor, error) {
	if err := inputErr(op, a, b); err != nil {
		return nil, err
	}
	if !tensor.SameShape(a.value.Shape(), b.value.Shape()) {
		return nil, fmt.Errorf("autograd: %s: shapes %v and %v differ (no broadcasting)", op, a.value.Shape(), b.value.Shape())
	}
	y := tensor.Zeros(a.value.Shape()...)
	yd, ad, bd := y.Data(), a.value.Data(), b.value.Data()
	ad, bd = ad[:len(yd)], bd[:len(yd)]
	switch kind {
	case opAdd:
		addTo(yd, ad, bd)
	case opSub:
		for i := range yd {
			yd[i] = ad[i] - bd[i]
		}
	case opMul:
		for i := range yd {
			yd[i] = ad[i] * bd[i]
		}
	}
	return y, nil
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

// product returns a ⊙ b as a new tensor (same lengths).
func product(a, b *tensor.Tensor) *tensor.Tensor {
	y := tensor.Zeros(a.Shape()...)
	yd, ad, bd := y.Data(), a.Data(), b.Data()
	ad, bd = ad[:len(yd)], bd[:len(yd)]
	for i := range yd {
		yd[i] = ad[i] * bd[i]
	}
	return y
}
