package layers

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// The merge layers: Keras's Add, Subtract, Multiply, Average, Maximum
// and Concatenate. They take two or more inputs (Subtract exactly two)
// and are applied in a Model with ApplyN. Except for Concatenate every
// input must have the same shape, which is the output's.

// merge is the shared part of the merge layers.
type merge struct {
	name string
	kind string
	// op folds the inputs into one Var.
	op func(xs []*autograd.Var) *autograd.Var
	// count is the exact number of inputs (0: two or more).
	count int
}

// Name returns the layer's scope.
func (m *merge) Name() string { return m.name }

// OutputShapeN returns the common shape of the inputs.
func (m *merge) OutputShapeN(in [][]int) ([]int, error) {
	if m.count > 0 && len(in) != m.count {
		return nil, fmt.Errorf("layers: %s %s: needs exactly %d inputs, got %d", m.kind, m.name, m.count, len(in))
	}
	if len(in) < 2 {
		return nil, fmt.Errorf("layers: %s %s: needs at least 2 inputs, got %d", m.kind, m.name, len(in))
	}
	for i, s := range in[1:] {
		if !tensor.SameShape(s, in[0]) {
			return nil, fmt.Errorf("layers: %s %s: input %d has shape %v, input 0 has %v (they must match)", m.kind, m.name, i+1, s, in[0])
		}
	}
	return append([]int(nil), in[0]...), nil
}

// CallN merges xs.
func (m *merge) CallN(xs []*autograd.Var, _ Context) *autograd.Var {
	shapes, failed := shapesOf(m.kind, m.name, xs)
	if failed != nil {
		return failed
	}
	if _, err := m.OutputShapeN(shapes); err != nil {
		return autograd.Failed(err)
	}
	return m.op(xs)
}

// shapesOf returns the shapes of a merge layer's inputs, or instead a
// Var carrying the first input's error (or naming a nil input).
func shapesOf(kind, name string, xs []*autograd.Var) ([][]int, *autograd.Var) {
	shapes := make([][]int, len(xs))
	for i, x := range xs {
		if x == nil {
			return nil, autograd.Failed(fmt.Errorf("layers: %s %s: input %d is nil", kind, name, i))
		}
		if x.Err() != nil {
			return nil, x
		}
		shapes[i] = shapeOf(x)
	}
	return shapes, nil
}

// Variables returns nil: merge layers have no variables.
func (m *merge) Variables() []*autograd.Var { return nil }

// fold combines xs left to right with f.
func fold(xs []*autograd.Var, f func(a, b *autograd.Var) *autograd.Var) *autograd.Var {
	y := xs[0]
	for _, x := range xs[1:] {
		y = f(y, x)
	}
	return y
}

// Add is Keras's Add: y = x₀ + x₁ + … elementwise.
type Add struct{ merge }

// NewAdd returns an Add layer with scope name.
func NewAdd(name string) *Add {
	return &Add{merge{name: name, kind: "Add", op: func(xs []*autograd.Var) *autograd.Var { return fold(xs, autograd.Add) }}}
}

// callRelu is Relu(CallN(xs)) with the last addition and the ReLU in
// one pass (autograd.AddRelu), the bits of the two layers. Functional
// models use it for an Add read only by a ReLU (planAddRelu): a residual
// block's join.
func (l *Add) callRelu(xs []*autograd.Var) *autograd.Var {
	shapes, failed := shapesOf(l.kind, l.name, xs)
	if failed != nil {
		return failed
	}
	if _, err := l.OutputShapeN(shapes); err != nil {
		return autograd.Failed(err)
	}
	last := len(xs) - 1
	return autograd.AddRelu(fold(xs[:last], autograd.Add), xs[last])
}

// planAddRelu finds, in the graph order, the ReLU layers whose input is
// an Add read by nothing else (and not a model output): it maps each
// such ReLU node to its Add node, which then runs fused with the ReLU,
// in training and inference alike. uses are the graph's useCounts.
func planAddRelu(order []*Node, uses map[*Node]int) map[*Node]*Node {
	plan := map[*Node]*Node{}
	for _, n := range order {
		if len(n.inputs) != 1 || uses[n.inputs[0]] != 1 || !isReluLayer(n.layer) {
			continue
		}
		if _, ok := n.inputs[0].layer.(*Add); ok {
			plan[n] = n.inputs[0]
		}
	}
	return plan
}

// foldJoin is a residual join that inference runs as one convolution:
// ReLU(Add(fold, skip)), fold a conv → batch norm chain without a ReLU
// of its own (last its batch-norm node) that only the Add reads.
type foldJoin struct {
	fold       *bnFold
	last, skip *Node
}

// planFoldJoins finds the joins among the fused Add → ReLU nodes
// (addRelu, planAddRelu): an Add of two inputs, one of them a fold
// (folds, planBNFolds) without a ReLU and used once.
func planFoldJoins(addRelu map[*Node]*Node, folds map[*Node]*bnFold, uses map[*Node]int) map[*Node]*foldJoin {
	joins := map[*Node]*foldJoin{}
	for relu, add := range addRelu {
		if len(add.inputs) != 2 || add.inputs[0] == add.inputs[1] {
			continue
		}
		for i, p := range add.inputs {
			if f := folds[p]; f != nil && f.relu == nil && uses[p] == 1 {
				joins[relu] = &foldJoin{fold: f, last: p, skip: add.inputs[1-i]}
				break
			}
		}
	}
	return joins
}

// call runs the join from the values computed so far.
func (j *foldJoin) call(val map[*Node]*autograd.Var) *autograd.Var {
	f := j.fold
	return foldedJoin(f.conv.layer.(*Conv2D), f.bn.layer.(*BatchNormalization), false, val[f.conv.inputs[0]], val[j.skip])
}

// bnJoin is a residual join that training runs as one op:
// ReLU(Add(bn, skip)), bn a BatchNormalization node read by the Add
// alone, as either of its two inputs. The graph's shapes make the skip's
// shape the batch norm's (an Add of other shapes is not built).
type bnJoin struct {
	bn, skip *Node
}

// planBNJoins finds the joins among the fused Add → ReLU nodes (addRelu,
// planAddRelu) of two distinct inputs, one of them a batch norm used
// once. A join whose both inputs qualify takes the first.
func planBNJoins(addRelu map[*Node]*Node, uses map[*Node]int) map[*Node]*bnJoin {
	joins := map[*Node]*bnJoin{}
	for relu, add := range addRelu {
		if len(add.inputs) != 2 || add.inputs[0] == add.inputs[1] {
			continue
		}
		for i, p := range add.inputs {
			if _, ok := p.layer.(*BatchNormalization); ok && uses[p] == 1 {
				joins[relu] = &bnJoin{bn: p, skip: add.inputs[1-i]}
				break
			}
		}
	}
	return joins
}

// call runs the join while training from the values computed so far.
func (j *bnJoin) call(val map[*Node]*autograd.Var) *autograd.Var {
	return j.bn.layer.(*BatchNormalization).callJoin(val[j.bn.inputs[0]], val[j.skip])
}

// Subtract is Keras's Subtract: y = x₀ − x₁ (exactly two inputs).
type Subtract struct{ merge }

// NewSubtract returns a Subtract layer with scope name.
func NewSubtract(name string) *Subtract {
	return &Subtract{merge{name: name, kind: "Subtract", count: 2, op: func(xs []*autograd.Var) *autograd.Var { return autograd.Sub(xs[0], xs[1]) }}}
}

// Multiply is Keras's Multiply: y = x₀ ⊙ x₁ ⊙ … elementwise.
type Multiply struct{ merge }

// NewMultiply returns a Multiply layer with scope name.
func NewMultiply(name string) *Multiply {
	return &Multiply{merge{name: name, kind: "Multiply", op: func(xs []*autograd.Var) *autograd.Var { return fold(xs, autograd.Mul) }}}
}

// Average is Keras's Average: y = (x₀ + … + x_{n−1})/n elementwise.
type Average struct{ merge }

// NewAverage returns an Average layer with scope name.
func NewAverage(name string) *Average {
	return &Average{merge{name: name, kind: "Average", op: func(xs []*autograd.Var) *autograd.Var {
		return autograd.Scale(fold(xs, autograd.Add), 1/float32(len(xs)))
	}}}
}

// Maximum is Keras's Maximum: y = max(x₀, x₁, …) elementwise (a tie sends
// the gradient to the earlier input, as TF does).
type Maximum struct{ merge }

// NewMaximum returns a Maximum layer with scope name.
func NewMaximum(name string) *Maximum {
	return &Maximum{merge{name: name, kind: "Maximum", op: func(xs []*autograd.Var) *autograd.Var { return fold(xs, autograd.Maximum) }}}
}

// Concatenate is Keras's Concatenate: the inputs joined along Axis (−1,
// the channels, by default; the batch axis 0 is not allowed). All other
// dimensions must agree.
type Concatenate struct {
	name string
	axis int
}

// NewConcatenate returns a Concatenate layer joining along axis (counted
// with the batch axis; negative counts from the end, Keras's default is
// −1).
func NewConcatenate(name string, axis int) *Concatenate { return &Concatenate{name: name, axis: axis} }

// Name returns the layer's scope.
func (l *Concatenate) Name() string { return l.name }

// OutputShapeN returns the inputs' common shape with the axis dimension
// summed.
func (l *Concatenate) OutputShapeN(in [][]int) ([]int, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("layers: Concatenate %s: needs at least 2 inputs, got %d", l.name, len(in))
	}
	r := len(in[0])
	a := l.axis
	if a < 0 {
		a += r
	}
	if a < 1 || a >= r {
		return nil, fmt.Errorf("layers: Concatenate %s: axis %d is out of range for inputs of rank %d (the batch axis 0 is not allowed)", l.name, l.axis, r)
	}
	out := append([]int(nil), in[0]...)
	for i, s := range in[1:] {
		ok := len(s) == r
		for d := 0; ok && d < r; d++ {
			ok = d == a || s[d] == in[0][d]
		}
		if !ok {
			return nil, fmt.Errorf("layers: Concatenate %s: input %d has shape %v, input 0 has %v (only axis %d may differ)", l.name, i+1, s, in[0], a)
		}
		out[a] += s[a]
	}
	return out, nil
}

// CallN concatenates xs.
func (l *Concatenate) CallN(xs []*autograd.Var, _ Context) *autograd.Var {
	shapes, failed := shapesOf("Concatenate", l.name, xs)
	if failed != nil {
		return failed
	}
	if _, err := l.OutputShapeN(shapes); err != nil {
		return autograd.Failed(err)
	}
	return autograd.Concat(l.axis, xs...)
}

// Variables returns nil.
func (l *Concatenate) Variables() []*autograd.Var { return nil }
