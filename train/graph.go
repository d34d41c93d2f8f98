package train

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/summary"
	"github.com/convnet-go/convnet/tensor"
)

// traceBatch is the batch size of the traced forward pass. Dimension 0 of
// a value computed from the input is the batch and is written as −1
// (unknown), as a tf.placeholder with shape [None, …] gives.
const traceBatch = 2

// ModelGraph returns the GraphDef of m for inputs of exampleShape (one
// example, no batch dimension, e.g. [28, 28, 1]) as TensorBoard's Graphs
// tab draws it, with TensorFlow's op names and each layer's nodes in the
// layer's scope:
//
//	data/images, data/labels      Placeholder  [-1, 28, 28, 1], [-1]
//	conv1/kernel, conv1/bias      VariableV2
//	conv1/Conv2D → conv1/BiasAdd → conv1/Relu   (pool1/MaxPool, flatten/Reshape, fc/MatMul, …)
//	loss/SparseSoftmaxCrossEntropyWithLogits → loss/Mean
//	predict/Softmax → predict/ArgMax → predict/Equal → predict/Cast → predict/accuracy
//	optimizer/gradients, optimizer/<Name>/update_<var>/Apply<Name>, optimizer/<Name>
//
// The graph is traced: the layers run one by one (in inference mode, so
// no layer state changes) on a constant batch of two zero examples, and
// every Var a layer's Call creates becomes nodes under the layer's
// Name(); a Dropout layer with a rate above 0 is drawn as tf.nn.dropout's
// nodes. Fused ops are written as the ops they fuse (Conv2DBiasRelu as
// Conv2D, BiasAdd, Relu; Conv2DBias as Conv2D, BiasAdd). Every node carries its dtype
// attr ("T" or "dtype") and "_output_shapes"; convolutions and pools also
// carry strides, padding, ksize and data_format from their layer.
// optimizer is one of Optimizers, or "" for the model and loss only. An
// error names the layer whose Call failed.
//
// A model that is not a *layers.Sequential (a functional *layers.Model)
// is traced as one Call: its weights keep their layers' names, but its
// ops are all drawn in one scope, the model's Name(), without the conv
// and pool attrs, and its dropout (the identity in inference) is not
// drawn.
func ModelGraph(m layers.Network, exampleShape []int, optimizer string) (*summary.GraphDef, error) {
	if m == nil {
		return nil, fmt.Errorf("train: ModelGraph: no model")
	}
	seq, isSeq := m.(*layers.Sequential)
	if isSeq && len(seq.Layers()) == 0 {
		return nil, fmt.Errorf("train: ModelGraph: the model has no layers")
	}
	for _, d := range exampleShape {
		if d < 1 {
			return nil, fmt.Errorf("train: ModelGraph: example shape %v has a dimension below 1", exampleShape)
		}
	}
	b := &graphBuilder{names: map[string]bool{}, of: map[*autograd.Var]string{}, batched: map[*autograd.Var]bool{}}
	in := tensor.Zeros(append([]int{traceBatch}, exampleShape...)...)
	x := autograd.Constant(in)
	b.batched[x] = true
	b.of[x] = b.add("data/images", "Placeholder", nil, attrs{"dtype": dtFloat(), "shape": shapeAttr(b.shape(x)), "_output_shapes": shapesAttr(b.shape(x))})
	labels := b.add("data/labels", "Placeholder", nil, attrs{"dtype": dtype(summary.DTInt64), "shape": shapeAttr([]int64{-1}), "_output_shapes": shapesAttr([]int64{-1})})

	if !isSeq {
		y := m.Call(x, layers.Context{})
		if err := y.Err(); err != nil {
			return nil, fmt.Errorf("train: ModelGraph: model %s: %w", m.Name(), err)
		}
		if err := b.emit(y, m.Name()); err != nil {
			return nil, err
		}
		x = y
	}
	for _, l := range layersOf(seq) {
		// The layers run in inference mode, so that tracing changes no
		// state a layer keeps for training; dropout, the identity there,
		// is drawn as the training step runs it.
		if d, ok := l.(*layers.Dropout); ok {
			if d.Rate() > 0 {
				b.of[x] = b.dropout(d.Name()+"/", b.of[x], b.shape(x))
			}
			continue
		}
		y := l.Call(x, layers.Context{})
		if err := y.Err(); err != nil {
			return nil, fmt.Errorf("train: ModelGraph: layer %s: %w", l.Name(), err)
		}
		b.layer = l
		if err := b.emit(y, l.Name()); err != nil {
			return nil, err
		}
		x = y
	}
	logits := x
	if len(b.shape(logits)) != 2 {
		return &summary.GraphDef{Nodes: b.nodes, Producer: summary.GraphProducer}, nil
	}
	b.layer = nil

	// loss: the mean sparse softmax cross-entropy, as the training step.
	loss := autograd.ReduceMean(autograd.SparseSoftmaxCrossEntropyWithLogits(make([]int, traceBatch), logits))
	if err := loss.Err(); err != nil {
		return nil, fmt.Errorf("train: ModelGraph: loss: %w", err)
	}
	b.labels = labels
	if err := b.emit(loss, "loss"); err != nil {
		return nil, err
	}

	// predict: the lecture's accuracy, Σ(argmax softmax = label) / N.
	rows := b.shape(logits)
	sm := b.add("predict/Softmax", "Softmax", []string{b.of[logits]}, attrs{"T": dtFloat(), "_output_shapes": shapesAttr(rows)})
	dim := b.constant("predict/ArgMax/dimension", summary.DTInt32, nil)
	am := b.add("predict/ArgMax", "ArgMax", []string{sm, dim}, attrs{"T": dtFloat(), "Tidx": dtype(summary.DTInt32),
		"output_type": dtype(summary.DTInt64), "_output_shapes": shapesAttr([]int64{-1})})
	eq := b.add("predict/Equal", "Equal", []string{am, labels}, attrs{"T": dtype(summary.DTInt64), "_output_shapes": shapesAttr([]int64{-1})})
	cast := b.add("predict/Cast", "Cast", []string{eq}, attrs{"SrcT": dtype(summary.DTBool), "DstT": dtFloat(), "_output_shapes": shapesAttr([]int64{-1})})
	axis := b.constant("predict/Const", summary.DTInt32, []int64{1})
	b.add("predict/accuracy", "Mean", []string{cast, axis}, attrs{"T": dtFloat(), "Tidx": dtype(summary.DTInt32), "keep_dims": boolAttr(false), "_output_shapes": shapesAttr([]int64{})})

	if optimizer != "" {
		if err := b.optimizer(optimizer, b.of[loss], m.Variables()); err != nil {
			return nil, err
		}
	}
	return &summary.GraphDef{Nodes: b.nodes, Producer: summary.GraphProducer}, nil
}

// layersOf returns a Sequential's layers (none for nil).
func layersOf(s *layers.Sequential) []layers.Layer {
	if s == nil {
		return nil
	}
	return s.Layers()
}

// attrs is a node's attribute map.
type attrs = map[string]summary.AttrValue

func dtype(t summary.DataType) summary.AttrValue {
	return summary.AttrValue{Kind: summary.AttrType, Type: t}
}
func dtFloat() summary.AttrValue { return dtype(summary.DTFloat) }
func shapeAttr(s []int64) summary.AttrValue {
	return summary.AttrValue{Kind: summary.AttrShape, Shape: s}
}
func shapesAttr(s ...[]int64) summary.AttrValue {
	return summary.AttrValue{Kind: summary.AttrShapes, Shapes: s}
}
func intsAttr(v ...int64) summary.AttrValue {
	return summary.AttrValue{Kind: summary.AttrInts, Ints: v}
}
func strAttr(s string) summary.AttrValue { return summary.AttrValue{Kind: summary.AttrString, S: s} }
func boolAttr(v bool) summary.AttrValue  { return summary.AttrValue{Kind: summary.AttrBool, B: v} }

// graphBuilder collects nodes while the trace is walked.
type graphBuilder struct {
	nodes   []summary.NodeDef
	names   map[string]bool
	of      map[*autograd.Var]string // the node that outputs each traced Var
	batched map[*autograd.Var]bool   // Vars computed from the input
	layer   layers.Layer             // the layer being traced, for conv and pool attrs
	labels  string                   // the labels placeholder, for the loss
}

// unique returns name, or name_1, name_2, … when taken (TF's rule).
func (b *graphBuilder) unique(name string) string {
	n := name
	for i := 1; b.names[n]; i++ {
		n = name + "_" + strconv.Itoa(i)
	}
	b.names[n] = true
	return n
}

// add appends a node and returns its (unique) name.
func (b *graphBuilder) add(name, op string, inputs []string, a attrs) string {
	name = b.unique(name)
	b.nodes = append(b.nodes, summary.NodeDef{Name: name, Op: op, Inputs: inputs, Attr: a})
	return name
}

// constant adds a Const node of type t and shape s (nil: a scalar).
func (b *graphBuilder) constant(name string, t summary.DataType, s []int64) string {
	if s == nil {
		s = []int64{}
	}
	return b.add(name, "Const", nil, attrs{"dtype": dtype(t), "_output_shapes": shapesAttr(s)})
}

// shape returns v's shape with a batch dimension written as −1.
func (b *graphBuilder) shape(v *autograd.Var) []int64 {
	s := v.Value().Shape()
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	if b.batched[v] && len(out) > 0 && out[0] == traceBatch {
		out[0] = -1
	}
	return out
}

// emit adds the nodes of v and of every not yet emitted Var it was
// computed from, inputs first, in scope.
func (b *graphBuilder) emit(v *autograd.Var, scope string) error {
	if _, done := b.of[v]; done {
		return nil
	}
	in := v.Inputs()
	var names []string
	for _, p := range in {
		if err := b.emit(p, scope); err != nil {
			return err
		}
		if b.batched[p] {
			b.batched[v] = true
		}
		names = append(names, b.of[p])
	}
	if len(in) == 0 {
		if v.Name() != "" { // a Variable: "conv1/kernel"
			s := b.shape(v)
			b.of[v] = b.add(v.Name(), "VariableV2", nil, attrs{"dtype": dtFloat(), "shape": shapeAttr(s), "_output_shapes": shapesAttr(s)})
		} else {
			b.of[v] = b.constant(scope+"/Const", summary.DTFloat, b.shape(v))
		}
		return nil
	}
	b.of[v] = b.op(v, scope, names)
	return nil
}

// op adds the TF nodes of the autograd op that computed v, reading the
// nodes inputs, and returns the node holding v's value.
func (b *graphBuilder) op(v *autograd.Var, scope string, inputs []string) string {
	s := b.shape(v)
	out := shapesAttr(s)
	float := func(extra attrs) attrs {
		a := attrs{"T": dtFloat(), "_output_shapes": out}
		for k, x := range extra {
			a[k] = x
		}
		return a
	}
	p := scope + "/"
	switch op := v.Name(); op {
	case "Conv2DBiasRelu": // x, w, bias
		conv := b.add(p+"Conv2D", "Conv2D", inputs[:2], float(b.convAttrs()))
		bias := b.add(p+"BiasAdd", "BiasAdd", []string{conv, inputs[2]}, float(attrs{"data_format": strAttr("NHWC")}))
		return b.add(p+"Relu", "Relu", []string{bias}, float(nil))
	case "Conv2DBias": // x, w, bias
		conv := b.add(p+"Conv2D", "Conv2D", inputs[:2], float(b.convAttrs()))
		return b.add(p+"BiasAdd", "BiasAdd", []string{conv, inputs[2]}, float(attrs{"data_format": strAttr("NHWC")}))
	case "BiasAddRelu": // x, bias
		bias := b.add(p+"BiasAdd", "BiasAdd", inputs, float(attrs{"data_format": strAttr("NHWC")}))
		return b.add(p+"Relu", "Relu", []string{bias}, float(nil))
	case "Conv2D":
		return b.add(p+op, op, inputs, float(b.convAttrs()))
	case "MaxPool", "AvgPool":
		return b.add(p+op, op, inputs, float(b.poolAttrs()))
	case "BiasAdd":
		return b.add(p+op, op, inputs, float(attrs{"data_format": strAttr("NHWC")}))
	case "MatMul":
		return b.add(p+op, op, inputs, float(attrs{"transpose_a": boolAttr(false), "transpose_b": boolAttr(false)}))
	case "Reshape":
		shape := b.constant(p+"Reshape/shape", summary.DTInt32, []int64{int64(len(s))})
		return b.add(p+op, op, []string{inputs[0], shape}, float(attrs{"Tshape": dtype(summary.DTInt32)}))
	case "Dropout":
		return b.dropout(p, inputs[0], s)
	case "ReduceMean", "ReduceSum":
		tfOp := map[string]string{"ReduceMean": "Mean", "ReduceSum": "Sum"}[op]
		axes := b.constant(p+"Const", summary.DTInt32, []int64{int64(len(v.Inputs()[0].Value().Shape()))})
		return b.add(p+tfOp, tfOp, []string{inputs[0], axes}, float(attrs{"Tidx": dtype(summary.DTInt32), "keep_dims": boolAttr(false)}))
	case "SparseSoftmaxCrossEntropyWithLogits": // logits; the labels are the placeholder
		logits := v.Inputs()[0]
		return b.add(p+op, op, []string{inputs[0], b.labels}, attrs{"T": dtFloat(), "Tlabels": dtype(summary.DTInt64),
			"_output_shapes": shapesAttr(s, b.shape(logits))})
	case "Add":
		return b.add(p+"AddV2", "AddV2", inputs, float(nil))
	case "DepthwiseConv2D":
		return b.add(p+"depthwise", "DepthwiseConv2dNative", inputs, float(b.convAttrs()))
	default: // Relu, Softmax, Sigmoid, Tanh, Sub, Mul, …: the same name in TF
		return b.add(p+op, op, inputs, float(nil))
	}
}

// dropout adds tf.nn.dropout's nodes: x·(1/(1−rate)) kept where a uniform
// draw is at least rate.
func (b *graphBuilder) dropout(p, x string, s []int64) string {
	scale := b.constant(p+"Const", summary.DTFloat, nil)
	mul := b.add(p+"Mul", "Mul", []string{x, scale}, attrs{"T": dtFloat(), "_output_shapes": shapesAttr(s)})
	shape := b.add(p+"Shape", "Shape", []string{x}, attrs{"T": dtFloat(), "out_type": dtype(summary.DTInt32), "_output_shapes": shapesAttr([]int64{int64(len(s))})})
	uniform := b.add(p+"random_uniform/RandomUniform", "RandomUniform", []string{shape},
		attrs{"T": dtype(summary.DTInt32), "dtype": dtFloat(), "_output_shapes": shapesAttr(s)})
	rate := b.constant(p+"GreaterEqual/y", summary.DTFloat, nil)
	keep := b.add(p+"GreaterEqual", "GreaterEqual", []string{uniform, rate}, attrs{"T": dtFloat(), "_output_shapes": shapesAttr(s)})
	mask := b.add(p+"Cast", "Cast", []string{keep}, attrs{"SrcT": dtype(summary.DTBool), "DstT": dtFloat(), "_output_shapes": shapesAttr(s)})
	return b.add(p+"Mul_1", "Mul", []string{mul, mask}, attrs{"T": dtFloat(), "_output_shapes": shapesAttr(s)})
}

// convAttrs gives Conv2D's strides, padding, dilations and data_format
// from the layer being traced.
func (b *graphBuilder) convAttrs() attrs {
	l, ok := b.layer.(*layers.Conv2D)
	if !ok {
		return attrs{"data_format": strAttr("NHWC")}
	}
	c := l.Config()
	sh, sw := pairOf(c.Strides)
	dh, dw := pairOf(c.DilationRate)
	return attrs{"strides": intsAttr(1, sh, sw, 1), "dilations": intsAttr(1, dh, dw, 1),
		"padding": strAttr(tfPadding(c.Padding)), "data_format": strAttr("NHWC"), "use_cudnn_on_gpu": boolAttr(true)}
}

// poolAttrs gives MaxPool's and AvgPool's ksize, strides and padding
// from the layer being traced.
func (b *graphBuilder) poolAttrs() attrs {
	var c layers.PoolConfig
	switch l := b.layer.(type) {
	case *layers.MaxPooling2D:
		c = l.Config()
	case *layers.AveragePooling2D:
		c = l.Config()
	default:
		return attrs{"data_format": strAttr("NHWC")}
	}
	kh, kw := pairOf(c.PoolSize)
	sh, sw := kh, kw
	if len(c.Strides) > 0 {
		sh, sw = pairOf(c.Strides)
	}
	return attrs{"ksize": intsAttr(1, kh, kw, 1), "strides": intsAttr(1, sh, sw, 1),
		"padding": strAttr(tfPadding(c.Padding)), "data_format": strAttr("NHWC")}
}

// pairOf expands a layer's one- or two-value spatial argument (nil: 1).
func pairOf(v []int) (int64, int64) {
	switch len(v) {
	case 1:
		return int64(v[0]), int64(v[0])
	case 2:
		return int64(v[0]), int64(v[1])
	}
	return 1, 1
}

// tfPadding spells a layer's padding as TF's attr does ("" is VALID).
func tfPadding(p string) string {
	if strings.EqualFold(p, "same") {
		return "SAME"
	}
	return "VALID"
}

// optimizerOps describes how TF1 draws each optimizer: its name scope
// and apply op, its slots (as optim names them) and its hyperparameters'
// nodes, in the apply op's input order (the gradient comes last).
var optimizerOps = map[string]struct {
	name, apply string
	slots       []string
	hyper       []string // before the gradient; "lr" is the learning rate
	after       []string // after the gradient
}{
	"adam":     {"Adam", "ApplyAdam", []string{"Adam", "Adam_1"}, []string{"beta1_power", "beta2_power", "learning_rate", "beta1", "beta2", "epsilon"}, nil},
	"adamw":    {"AdamW", "ApplyAdam", []string{"AdamW", "AdamW_1"}, []string{"beta1_power", "beta2_power", "learning_rate", "beta1", "beta2", "epsilon"}, nil},
	"sgd":      {"GradientDescent", "ApplyGradientDescent", nil, []string{"learning_rate"}, nil},
	"momentum": {"Momentum", "ApplyMomentum", []string{"Momentum"}, []string{"learning_rate"}, []string{"momentum"}},
	"rmsprop":  {"RMSProp", "ApplyRMSProp", []string{"RMSProp", "RMSProp_1"}, []string{"learning_rate", "decay", "momentum", "epsilon"}, nil},
}

// optimizer adds the training step: one SymbolicGradient node for
// ∂loss/∂vars, the optimizer's slot variables and hyperparameters, an
// Apply op per variable and the optimizer's NoOp grouping the updates.
func (b *graphBuilder) optimizer(name, loss string, vars []*autograd.Var) error {
	o, ok := optimizerOps[name]
	if !ok {
		return fmt.Errorf("train: ModelGraph: unknown optimizer %q, want one of %s", name, strings.Join(Optimizers, ", "))
	}
	shapes := make([][]int64, len(vars))
	for i, v := range vars {
		shapes[i] = b.shape(v)
	}
	grads := b.add("optimizer/gradients", "SymbolicGradient", []string{loss},
		attrs{"Tin": dtFloat(), "Tout": dtFloat(), "_output_shapes": shapesAttr(shapes...)})
	scope := "optimizer/" + o.name + "/"
	hyper := map[string]string{}
	for _, h := range append(append([]string(nil), o.hyper...), o.after...) {
		if strings.HasSuffix(h, "_power") { // TF1 keeps β^t as variables
			hyper[h] = b.add("optimizer/"+h, "VariableV2", nil, attrs{"dtype": dtFloat(), "shape": shapeAttr([]int64{}), "_output_shapes": shapesAttr([]int64{})})
			continue
		}
		hyper[h] = b.constant(scope+h, summary.DTFloat, nil)
	}
	var updates []string
	for i, v := range vars {
		in := []string{b.of[v]}
		for _, s := range o.slots {
			in = append(in, b.add(v.Name()+"/"+s, "VariableV2", nil, attrs{"dtype": dtFloat(), "shape": shapeAttr(shapes[i]), "_output_shapes": shapesAttr(shapes[i])}))
		}
		for _, h := range o.hyper {
			in = append(in, hyper[h])
		}
		grad := grads
		if i > 0 {
			grad += ":" + strconv.Itoa(i)
		}
		in = append(in, grad)
		for _, h := range o.after {
			in = append(in, hyper[h])
		}
		updates = append(updates, "^"+b.add(scope+"update_"+v.Name()+"/"+o.apply, o.apply, in,
			attrs{"T": dtFloat(), "use_locking": boolAttr(false), "_output_shapes": shapesAttr(shapes[i])}))
	}
	b.add("optimizer/"+o.name, "NoOp", updates, attrs{})
	return nil
}
