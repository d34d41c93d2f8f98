package layers

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// The functional API, as in Keras: Input gives a symbolic tensor of a
// per-example shape, Apply and ApplyN call layers on symbolic tensors
// (building each layer at once for that shape), and NewModel turns the
// graph between some inputs and outputs into a Model. A layer applied
// twice is shared: one set of weights. Errors met while applying layers
// travel in the Nodes and are reported, naming the layer, by NewModel.

// Node is a symbolic tensor: the output of Input, Apply or ApplyN. It
// holds no values, only its per-example shape (batch excluded) and how
// it is computed.
type Node struct {
	shape  []int
	name   string // the input's name, or the layer's
	layer  any    // Layer or MultiLayer; nil for an Input
	inputs []*Node
	err    error
}

// Input returns a symbolic model input named name, holding examples of
// the given shape (batch excluded), e.g. Input("image", 28, 28, 1) for
// [N, 28, 28, 1] batches.
func Input(name string, shape ...int) *Node {
	n := &Node{shape: append([]int{}, shape...), name: name}
	for _, d := range shape {
		if d < 1 {
			n.err = fmt.Errorf("layers: Input %s: shape %v must have positive dimensions", name, shape)
		}
	}
	return n
}

// Shape returns the node's per-example shape (batch excluded).
func (n *Node) Shape() []int { return append([]int(nil), n.shape...) }

// Err returns the first error met while building the node or its inputs.
func (n *Node) Err() error { return n.err }

// Apply calls l on x symbolically: it builds l for inputs [N, x.Shape()...]
// and returns a node of l's output shape.
func Apply(l Layer, x *Node) *Node {
	if err := nodeErr(x); err != nil {
		return &Node{err: err}
	}
	if l == nil {
		return &Node{err: fmt.Errorf("layers: Apply: nil layer on %s", x.name)}
	}
	in := append([]int{1}, x.shape...)
	out, err := l.OutputShape(in)
	if err == nil {
		err = l.Build(in)
	}
	if err != nil {
		return &Node{err: fmt.Errorf("layers: applying %s to %s: %w", l.Name(), x.name, err)}
	}
	return &Node{shape: out[1:], name: l.Name(), layer: l, inputs: []*Node{x}}
}

// ApplyN calls a layer of several inputs (Add, Concatenate, …) on xs
// symbolically.
func ApplyN(l MultiLayer, xs ...*Node) *Node {
	if l == nil {
		return &Node{err: errors.New("layers: ApplyN: nil layer")}
	}
	shapes := make([][]int, len(xs))
	for i, x := range xs {
		if err := nodeErr(x); err != nil {
			return &Node{err: err}
		}
		shapes[i] = append([]int{1}, x.shape...)
	}
	out, err := l.OutputShapeN(shapes)
	if err != nil {
		return &Node{err: fmt.Errorf("layers: applying %s: %w", l.Name(), err)}
	}
	return &Node{shape: out[1:], name: l.Name(), layer: l, inputs: append([]*Node(nil), xs...)}
}

func nodeErr(x *Node) error {
	if x == nil {
		return errors.New("layers: nil Node (use Input, Apply or ApplyN)")
	}
	return x.err
}

// Model is a functional model: a DAG of layers from its inputs to its
// outputs, checked once by NewModel. It is a Layer itself when it has
// one input and one output, so it can be applied inside another model or
// a Sequential.
type Model struct {
	name    string
	inputs  []*Node
	outputs []*Node
	order   []*Node // every node, each after its inputs
	layers  []any   // distinct layers in order of first use
	// folds are the conv → batch norm (→ ReLU) chains that inference runs
	// as one convolution, keyed by their last node; folded the nodes the
	// chains skip (planBNFolds, batchnorm.go).
	folds  map[*Node]*bnFold
	folded map[*Node]bool
	// bnRelu maps the ReLU nodes that training runs fused with their
	// batch-norm input to that input (planBNRelu); bnReluSkip holds those
	// batch-norm nodes.
	bnRelu     map[*Node]*Node
	bnReluSkip map[*Node]bool
	// bnReluConv maps the Conv2D nodes that training runs as one op with
	// the fused batch norm and ReLU they read to that ReLU's node
	// (planBNReluConv); bnReluConvSkip holds those ReLU nodes.
	bnReluConv     map[*Node]*Node
	bnReluConvSkip map[*Node]bool
	// addRelu maps the ReLU nodes that run fused with their Add input to
	// that input (planAddRelu); addReluSkip holds those Add nodes.
	addRelu     map[*Node]*Node
	addReluSkip map[*Node]bool
	// joins maps the fused Add → ReLU nodes one of whose inputs is a
	// fold without its own ReLU, read by that Add alone, to the join that
	// inference runs as one convolution with the skip added in its
	// epilogue (planFoldJoins); joined holds those folds' last nodes.
	joins  map[*Node]*foldJoin
	joined map[*Node]bool
	// bnJoins maps the fused Add → ReLU nodes one of whose two inputs is
	// a batch norm read by that Add alone to that join, which training
	// runs as one op with the skip (planBNJoins); bnJoined holds those
	// batch-norm nodes.
	bnJoins  map[*Node]*bnJoin
	bnJoined map[*Node]bool
}

// NewModel returns the model computing outputs from inputs. It checks the
// graph once: every node built without error, inputs distinct Input
// nodes, every path from an output ending at one of inputs, and distinct
// layers having distinct names (a layer applied twice is shared).
func NewModel(name string, inputs, outputs []*Node) (*Model, error) {
	if len(inputs) == 0 || len(outputs) == 0 {
		return nil, fmt.Errorf("layers: model %s needs at least one input and one output, got %d and %d", name, len(inputs), len(outputs))
	}
	isInput := map[*Node]bool{}
	for i, in := range inputs {
		if err := nodeErr(in); err != nil {
			return nil, fmt.Errorf("layers: model %s: input %d: %w", name, i, err)
		}
		if in.layer != nil {
			return nil, fmt.Errorf("layers: model %s: input %d is the output of layer %s, not an Input", name, i, in.name)
		}
		if isInput[in] {
			return nil, fmt.Errorf("layers: model %s: input %s is listed twice", name, in.name)
		}
		isInput[in] = true
	}
	m := &Model{name: name, inputs: append([]*Node(nil), inputs...), outputs: append([]*Node(nil), outputs...)}
	seen := map[*Node]bool{}
	var visit func(n *Node) error
	visit = func(n *Node) error {
		if seen[n] {
			return nil
		}
		seen[n] = true
		if n.layer == nil && !isInput[n] {
			return fmt.Errorf("layers: model %s: the graph needs input %s, which is not among the model's inputs", name, n.name)
		}
		for _, p := range n.inputs {
			if err := visit(p); err != nil {
				return err
			}
		}
		m.order = append(m.order, n)
		return nil
	}
	for i, out := range outputs {
		if err := nodeErr(out); err != nil {
			return nil, fmt.Errorf("layers: model %s: output %d: %w", name, i, err)
		}
		if err := visit(out); err != nil {
			return nil, err
		}
	}
	byName := map[string]any{}
	for _, n := range m.order {
		if n.layer == nil {
			continue
		}
		if prev, ok := byName[n.name]; ok {
			if prev != n.layer {
				return nil, fmt.Errorf("layers: model %s: two different layers are named %q; give them distinct names", name, n.name)
			}
			continue
		}
		byName[n.name] = n.layer
		m.layers = append(m.layers, n.layer)
	}
	m.sortLayers()
	// The fusion planners read how often each node is used (useCounts).
	uses := useCounts(m.order, m.outputs)
	m.folds, m.folded = planBNFolds(m.order, uses), map[*Node]bool{}
	for _, f := range m.folds {
		for _, n := range f.inner {
			m.folded[n] = true
		}
	}
	m.bnRelu, m.bnReluSkip = planBNRelu(m.order, uses), map[*Node]bool{}
	for _, bn := range m.bnRelu {
		m.bnReluSkip[bn] = true
	}
	m.bnReluConv, m.bnReluConvSkip = planBNReluConv(m.order, uses, m.bnRelu), map[*Node]bool{}
	for _, relu := range m.bnReluConv {
		m.bnReluConvSkip[relu] = true
	}
	m.addRelu, m.addReluSkip = planAddRelu(m.order, uses), map[*Node]bool{}
	for _, add := range m.addRelu {
		m.addReluSkip[add] = true
	}
	m.joins, m.joined = planFoldJoins(m.addRelu, m.folds, uses), map[*Node]bool{}
	for _, j := range m.joins {
		m.joined[j.last] = true
	}
	m.bnJoins, m.bnJoined = planBNJoins(m.addRelu, uses), map[*Node]bool{}
	for _, j := range m.bnJoins {
		m.bnJoined[j.bn] = true
	}
	if err := uniqueWeights(m.AllWeights()); err != nil {
		return nil, fmt.Errorf("layers: model %s: %w", name, err)
	}
	return m, nil
}

// sortLayers puts the layers in Keras's order (Functional's
// layers_by_depth): by depth, the longest path from a layer's output to
// a model output, deepest (nearest the inputs) first, ties in the order
// the graph walk first met them. Weights come in that order too.
func (m *Model) sortLayers() {
	depth := map[*Node]int{}
	// m.order has every node after its inputs: walking it backwards
	// visits consumers before producers.
	for i := len(m.order) - 1; i >= 0; i-- {
		n := m.order[i]
		for _, p := range n.inputs {
			depth[p] = max(depth[p], depth[n]+1)
		}
	}
	layerDepth := map[any]int{}
	for _, n := range m.order {
		if n.layer != nil {
			layerDepth[n.layer] = max(layerDepth[n.layer], depth[n])
		}
	}
	sort.SliceStable(m.layers, func(i, j int) bool { return layerDepth[m.layers[i]] > layerDepth[m.layers[j]] })
}

// uniqueWeights fails when two weights share a name.
func uniqueWeights(ws []*autograd.Var) error {
	seen := map[string]bool{}
	for _, v := range ws {
		if seen[v.Name()] {
			return fmt.Errorf("two weights are named %q; give the layers distinct names", v.Name())
		}
		seen[v.Name()] = true
	}
	return nil
}

// Name returns the model's name.
func (m *Model) Name() string { return m.name }

// Layers returns the model's distinct layers in Keras's order (by depth
// from the outputs, deepest first; see sortLayers).
// Each is a Layer or a MultiLayer.
func (m *Model) Layers() []any { return m.layers }

// Inputs and Outputs return the model's symbolic inputs and outputs.
func (m *Model) Inputs() []*Node { return m.inputs }

// Outputs returns the model's symbolic outputs.
func (m *Model) Outputs() []*Node { return m.outputs }

// CallN runs the model on one batch per input ([N, input shape...]) and
// returns one Var per output. Errors travel in the results.
func (m *Model) CallN(xs []*autograd.Var, ctx Context) []*autograd.Var {
	fail := func(err error) []*autograd.Var {
		out := make([]*autograd.Var, len(m.outputs))
		for i := range out {
			out[i] = autograd.Failed(err)
		}
		return out
	}
	if len(xs) != len(m.inputs) {
		return fail(fmt.Errorf("layers: model %s takes %d inputs, got %d", m.name, len(m.inputs), len(xs)))
	}
	val := make(map[*Node]*autograd.Var, len(m.order))
	for i, in := range m.inputs {
		x := xs[i]
		if x == nil {
			return fail(fmt.Errorf("layers: model %s: input %s is nil", m.name, in.name))
		}
		if x.Err() != nil {
			return fail(x.Err())
		}
		s := shapeOf(x)
		if len(s) != len(in.shape)+1 || !tensor.SameShape(s[1:], in.shape) {
			return fail(fmt.Errorf("layers: model %s: input %s must be [N %v], got %v", m.name, in.name, in.shape, s))
		}
		val[in] = x
	}
	for _, n := range m.order {
		if n.layer == nil || m.addReluSkip[n] {
			continue
		}
		if j := m.joins[n]; j != nil && !ctx.Training {
			val[n] = j.call(val)
			continue
		}
		if j := m.bnJoins[n]; j != nil && ctx.Training {
			val[n] = j.call(val)
			continue
		}
		if add := m.addRelu[n]; add != nil {
			args := make([]*autograd.Var, len(add.inputs))
			for i, p := range add.inputs {
				args[i] = val[p]
			}
			val[n] = add.layer.(*Add).callRelu(args)
			continue
		}
		if !ctx.Training {
			if m.folded[n] || m.joined[n] {
				continue
			}
			if f := m.folds[n]; f != nil {
				val[n] = f.call(val[f.conv.inputs[0]])
				continue
			}
		} else {
			if m.bnReluSkip[n] {
				continue
			}
			if m.bnJoined[n] || m.bnReluConvSkip[n] {
				continue // run by its join, or by the convolution reading it
			}
			if relu := m.bnReluConv[n]; relu != nil {
				bn := m.bnRelu[relu]
				val[n] = n.layer.(*Conv2D).callBNRelu(bn.layer.(*BatchNormalization), val[bn.inputs[0]])
				continue
			}
			if bn := m.bnRelu[n]; bn != nil {
				val[n] = bn.layer.(*BatchNormalization).call(val[bn.inputs[0]], ctx, true)
				continue
			}
		}
		val[n] = n.apply(val, ctx)
	}
	out := make([]*autograd.Var, len(m.outputs))
	for i, o := range m.outputs {
		out[i] = val[o]
	}
	return out
}

// apply runs n's layer (n is not an Input) on the values val holds for
// n's inputs.
func (n *Node) apply(val map[*Node]*autograd.Var, ctx Context) *autograd.Var {
	if l, ok := n.layer.(Layer); ok {
		return callLayer(l, val[n.inputs[0]], ctx)
	}
	args := make([]*autograd.Var, len(n.inputs))
	for i, p := range n.inputs {
		args[i] = val[p]
	}
	return n.layer.(MultiLayer).CallN(args, ctx)
}

// callLayer builds l for x's shape if needed and applies it.
func callLayer(l Layer, x *autograd.Var, ctx Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if err := l.Build(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	return l.Call(x, ctx)
}

// Call runs a model of one input and one output.
func (m *Model) Call(x *autograd.Var, ctx Context) *autograd.Var {
	if len(m.inputs) != 1 || len(m.outputs) != 1 {
		return autograd.Failed(fmt.Errorf("layers: model %s has %d inputs and %d outputs: use CallN", m.name, len(m.inputs), len(m.outputs)))
	}
	return m.CallN([]*autograd.Var{x}, ctx)[0]
}

// OutputShape returns [N, output shape...] for a one-input, one-output
// model given [N, input shape...].
func (m *Model) OutputShape(in []int) ([]int, error) {
	if err := m.Build(in); err != nil {
		return nil, err
	}
	if len(m.outputs) != 1 {
		return nil, fmt.Errorf("layers: model %s has %d outputs", m.name, len(m.outputs))
	}
	return append([]int{in[0]}, m.outputs[0].shape...), nil
}

// Build checks that in is [N, input shape...]: a model is built when it
// is made.
func (m *Model) Build(in []int) error {
	if len(m.inputs) != 1 {
		return fmt.Errorf("layers: model %s has %d inputs", m.name, len(m.inputs))
	}
	if s := m.inputs[0].shape; len(in) != len(s)+1 || !tensor.SameShape(in[1:], s) {
		return fmt.Errorf("layers: model %s: input must be [N %v], got %v", m.name, s, in)
	}
	return nil
}

// Variables returns the trainable weights, layer by layer in Keras's
// order (Layers).
func (m *Model) Variables() []*autograd.Var { return variablesOf(m.layers) }

// NonTrainable returns the non-trainable weights (moving statistics),
// layer by layer.
func (m *Model) NonTrainable() []*autograd.Var { return nonTrainableOf(m.layers) }

// AllWeights returns every weight in Keras's model.weights order: layer
// by layer, each layer's trainable weights then its non-trainable ones.
func (m *Model) AllWeights() []*autograd.Var { return allWeightsOf(m.layers) }

// Losses returns the regularization penalties of every layer.
func (m *Model) Losses() []*autograd.Var { return lossesOf(m.layers) }

// Weights returns every weight's live value by name (trainable and not).
func (m *Model) Weights() map[string]*tensor.Tensor { return weightMap(m.AllWeights()) }

// SetWeights copies values into the weights by name; see
// Sequential.SetWeights.
func (m *Model) SetWeights(values map[string]*tensor.Tensor) error {
	return setWeights(m.AllWeights(), values)
}

func variablesOf(ls []any) []*autograd.Var {
	var vs []*autograd.Var
	for _, l := range ls {
		if v, ok := l.(interface{ Variables() []*autograd.Var }); ok {
			vs = append(vs, v.Variables()...)
		}
	}
	return vs
}

func nonTrainableOf(ls []any) []*autograd.Var {
	var vs []*autograd.Var
	for _, l := range ls {
		vs = append(vs, nonTrainable(l)...)
	}
	return vs
}

func allWeightsOf(ls []any) []*autograd.Var {
	var vs []*autograd.Var
	for _, l := range ls {
		if w, ok := l.(interface{ AllWeights() []*autograd.Var }); ok {
			vs = append(vs, w.AllWeights()...)
			continue
		}
		vs = append(vs, variablesOf([]any{l})...)
		vs = append(vs, nonTrainable(l)...)
	}
	return vs
}

func lossesOf(ls []any) []*autograd.Var {
	var out []*autograd.Var
	for _, l := range ls {
		if r, ok := l.(Regularized); ok {
			out = append(out, r.Losses()...)
		}
	}
	return out
}

func weightMap(ws []*autograd.Var) map[string]*tensor.Tensor {
	w := make(map[string]*tensor.Tensor, len(ws))
	for _, v := range ws {
		w[v.Name()] = v.Value()
	}
	return w
}

// setWeights copies values into ws by name: every weight must be present
// with its exact shape, extra entries are ignored; on error nothing
// changes and the message names each offending tensor with both shapes.
func setWeights(ws []*autograd.Var, values map[string]*tensor.Tensor) error {
	var problems []string
	for _, v := range ws {
		t, ok := values[v.Name()]
		switch {
		case !ok || t == nil:
			problems = append(problems, fmt.Sprintf("%s is missing (model expects shape %v)", v.Name(), v.Value().Shape()))
		case !tensor.SameShape(t.Shape(), v.Value().Shape()):
			problems = append(problems, fmt.Sprintf("%s has shape %v, the model expects %v", v.Name(), t.Shape(), v.Value().Shape()))
		}
	}
	if len(ws) == 0 {
		problems = append(problems, "the model has no variables: build it first")
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("layers: weights do not fit the model: %s", strings.Join(problems, "; "))
	}
	for _, v := range ws {
		copy(v.Value().Data(), values[v.Name()].Data())
		v.Value().MarkChanged()
	}
	return nil
}
