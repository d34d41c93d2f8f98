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
	n, bad := newCustom(name, value, inputs, backward)
	if bad != nil {
		return bad
	}
	return &n.Var
}

// customVar is a Custom node: the Var, its inputs (inline up to four) and
// the caller's backward in one allocation, and for CustomWeight the side
// that carries the Packed, so that a node made every call (a kept fold's
// weight at batch 1) costs one allocation, not five.
type customVar struct {
	Var
	side     varSide
	inline   [4]*Var
	backward func(grad *tensor.Tensor) ([]*tensor.Tensor, error)
}

// newCustom makes Custom's node, or returns a failed Var for bad
// arguments.
func newCustom(name string, value *tensor.Tensor, inputs []*Var, backward func(grad *tensor.Tensor) ([]*tensor.Tensor, error)) (*customVar, *Var) {
	for _, v := range inputs {
		if v == nil || v.errOf() != nil || v.value == nil {
			return nil, failed(name, inputErr("Custom "+name, inputs...))
		}
	}
	if value == nil || backward == nil {
		return nil, failed(name, fmt.Errorf("autograd: Custom %s: nil value or backward", name))
	}
	n := &customVar{backward: backward}
	parents := append(n.inline[:0], inputs...) // a copy: the caller may reuse inputs
	initNode(&n.Var, name, value, n, parents)
	return n, nil
}

// backprop runs the caller's backward and adds its gradients into the
// inputs.
func (n *customVar) backprop(g *tensor.Tensor) error {
	gs, err := n.backward(g)
	if err != nil {
		return backErr("Custom "+n.name, err)
	}
	if len(gs) != len(n.parents) {
		return backErr("Custom "+n.name, fmt.Errorf("returned %d gradients for %d inputs", len(gs), len(n.parents)))
	}
	for i, p := range n.parents {
		if gs[i] == nil || !p.needed {
			continue
		}
		if !tensor.SameShape(gs[i].Shape(), p.value.Shape()) {
			return backErr("Custom "+n.name, fmt.Errorf("gradient %d has shape %v, input %d has shape %v", i, gs[i].Shape(), i, p.value.Shape()))
		}
		accumulate(p, gs[i], true)
	}
	return nil
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
	n, bad := newCustom(name, p.Tensor(), inputs, backward)
	if bad != nil {
		return bad
	}
	n.side.packed = p
	n.Var.side = &n.side
	n.owner.exposed.Store(true) // the storage is p's: never recycled
	return &n.Var
}
