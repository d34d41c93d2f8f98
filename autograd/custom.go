package autograd

import (
	"fmt"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Custom adds a differentiable op defined by the caller: value is the
// op's output, computed from the inputs' values; backward receives
// g = ∂loss/∂value and returns one gradient per input, in order, each of
// that input's shape (nil for an input that gets none). Gradient adds
// them into the inputs' gradients, so fan-out works as for built-in ops.
// An error from backward, a wrong count or a wrong shape surfaces at
// Gradient, naming the op.
//
// value is not copied and belongs to the graph from then on: Release
// recycles it like any op's output. backward may return g itself, an
// input's value, or fresh tensors that it does not keep: autograd never
// writes into them, but a fresh one may be recycled for later results
// once Gradient returns. Custom fails (a Var carrying the error) on a nil value or
// backward, and on an input that carries an error.
func Custom(name string, value *tensor.Tensor, inputs []*Var, backward func(grad *tensor.Tensor) ([]*tensor.Tensor, error)) *Var {
	op := "Custom " + name
	if err := inputErr(op, inputs...); err != nil {
		return failed(name, err)
	}
	if value == nil || backward == nil {
		return failed(name, fmt.Errorf("autograd: %s: nil value or backward", op))
	}
	parents := append([]*Var(nil), inputs...)
	return node(name, value, func(g *tensor.Tensor) error {
		gs, err := backward(g)
		if err != nil {
			return backErr(op, err)
		}
		if len(gs) != len(parents) {
			return backErr(op, fmt.Errorf("returned %d gradients for %d inputs", len(gs), len(parents)))
		}
		for i, p := range parents {
			if gs[i] == nil || !p.needed {
				continue
			}
			if !tensor.SameShape(gs[i].Shape(), p.value.Shape()) {
				return backErr(op, fmt.Errorf("gradient %d has shape %v, input %d has shape %v", i, gs[i].Shape(), i, p.value.Shape()))
			}
			accumulate(p, gs[i], true)
		}
		return nil
	}, parents...)
}

// Inputs returns the Vars v was computed from, in the op's argument order
// (none for a leaf), for code that walks the graph, such as a TensorBoard
// graph writer. The slice is a copy; the Vars are not.
func (v *Var) Inputs() []*Var { return append([]*Var(nil), v.parents...) }

// CustomWeight is Custom for a weight that the caller derives from inputs
// and keeps from call to call, such as a convolution kernel with a batch
// norm folded in at inference: the value is p.Tensor(), which stays the
// caller's (Release and Workspace.Reset never recycle it), and the ops
// that prepare forms from a weight (Conv2D's Winograd filters, MatMul's
// slabs) keep them in p, as they do for a Variable, until p.Tensor()'s
// Version changes. backward is as in Custom.
func CustomWeight(name string, p *nn.Packed, inputs []*Var, backward func(grad *tensor.Tensor) ([]*tensor.Tensor, error)) *Var {
	if p == nil {
		return failed(name, fmt.Errorf("autograd: Custom %s: nil Packed", name))
	}
	v := Custom(name, p.Tensor(), inputs, backward)
	if v.errOf() != nil {
		return v
	}
	v.side = &varSide{packed: p}
	v.owner.exposed.Store(true) // the storage is p's: never recycled
	return v
}
