// Package onnx exports convnet models to ONNX and imports ONNX models
// (CNNs exported by PyTorch, TensorFlow and convnet itself) into a
// runnable graph.
//
// Export writes opset 13, IR version 7. The graph input "input" keeps the
// model's channels-last layout, [N, H, W, C] with a symbolic batch
// dimension N; transposes inside the graph move to ONNX's NCHW for the
// convolutions and pools and back to NHWC before Flatten, so the dense
// layer's rows keep TensorFlow's (h, w, c) order. Conv kernels go from
// HWIO to OIHW; weights are initializers named after the variables
// ("conv1/kernel"); the output is "logits".
//
// Import (Decode, Load) reads opsets 1–18 of the ops CNNs use and runs
// them on the nn ops. 2-D convolutions and pools run channels-last, the nn
// ops' native layout: a channels-first input is transposed once at the
// first of them and stays channels-last through the ops that allow it
// (activations, batch norm, residual adds, pools), so the NHWC↔NCHW
// transposes of an exported Keras model cancel out; see Model.
//
// The protobuf is encoded and decoded by hand with protowire (proto.go):
// onnx.proto is not registered in the global protobuf registry, so a
// program may link this package next to another ONNX package.
package onnx

import (
	"fmt"
	"reflect"
	"runtime/debug"
	"sort"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/internal/atomicfile"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/nn"
)

// Export's fixed choices.
const (
	// ExportOpset is the ai.onnx opset of exported models.
	ExportOpset = 13
	// ExportIRVersion is the IR version of exported models.
	ExportIRVersion = 7
	// InputName and OutputName name an exported graph's input and output.
	InputName  = "input"
	OutputName = "logits"
	// Producer is the exported models' producer_name.
	Producer = "convnet"
)

// ExportOptions describe the model being exported.
type ExportOptions struct {
	// InputShape is one example's shape, batch excluded: [H, W, C] for
	// image models ([28, 28, 1] for the lecture model). Required.
	InputShape []int
	// Name is the graph's name and the "name" metadata entry, e.g.
	// models.ConvNetName.
	Name string
	// Metadata adds key/value pairs to the model's metadata_props.
	Metadata map[string]string
}

// Export encodes a built Sequential model as an ONNX ModelProto (see the
// package doc for the graph's layout). It supports Conv2D (with or without
// bias, linear/ReLU/sigmoid/tanh activations), MaxPooling2D,
// AveragePooling2D, Flatten, Dense and Dropout (dropped: inference only);
// any other layer or activation is an error naming it.
func Export(m *layers.Sequential, o ExportOptions) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("onnx: Export of a nil model")
	}
	if len(o.InputShape) == 0 {
		return nil, fmt.Errorf("onnx: Export needs ExportOptions.InputShape (one example's shape, e.g. [28 28 1])")
	}
	e := &exporter{shape: append([]int{1}, o.InputShape...), cur: InputName}
	for _, l := range m.Layers() {
		switch l := l.(type) {
		case *layers.Conv2D:
			if l.Kernel() == nil {
				return nil, fmt.Errorf("onnx: export layer %q: it is not built (no weights to export)", l.Name())
			}
		case *layers.Dense:
			if l.Kernel() == nil {
				return nil, fmt.Errorf("onnx: export layer %q: it is not built (no weights to export)", l.Name())
			}
		}
	}
	// Building built layers only checks the shape they were built for.
	if err := m.Build(e.shape); err != nil {
		return nil, fmt.Errorf("onnx: model does not accept inputs [N %v]: %v", o.InputShape, err)
	}
	for _, l := range m.Layers() {
		if err := e.layer(l); err != nil {
			return nil, fmt.Errorf("onnx: export layer %q (%T): %w", l.Name(), l, err)
		}
	}
	if e.nchw {
		e.toNHWC()
	}
	// The last node's output is renamed to OutputName.
	if len(e.g.nodes) == 0 {
		e.add(&nodeProto{opType: "Identity", name: "output", inputs: []string{e.cur}})
	}
	e.g.nodes[len(e.g.nodes)-1].outputs[0] = OutputName

	in := &valueInfoProto{name: InputName, elem: dtFloat, shape: true, dims: []dimProto{{param: "N"}}}
	for _, d := range o.InputShape {
		in.dims = append(in.dims, dimProto{value: int64(d)})
	}
	out := &valueInfoProto{name: OutputName, elem: dtFloat, shape: true, dims: []dimProto{{param: "N"}}}
	for _, d := range e.shape[1:] {
		out.dims = append(out.dims, dimProto{value: int64(d)})
	}
	e.g.name = o.Name
	if e.g.name == "" {
		e.g.name = "convnet"
	}
	e.g.inputs = []*valueInfoProto{in}
	e.g.outputs = []*valueInfoProto{out}

	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	mp := &modelProto{
		irVersion:       ExportIRVersion,
		producerName:    Producer,
		producerVersion: version,
		graph:           &e.g,
		opsets:          []opsetProto{{domain: "", version: ExportOpset}},
	}
	if o.Name != "" {
		mp.metadata = append(mp.metadata, kvProto{"name", o.Name})
	}
	for _, k := range sortedKeys(o.Metadata) {
		mp.metadata = append(mp.metadata, kvProto{k, o.Metadata[k]})
	}
	return mp.marshal(), nil
}

// ExportFile writes Export's result to path atomically (temporary file in
// the same directory, synced, renamed over path).
func ExportFile(path string, m *layers.Sequential, o ExportOptions) error {
	b, err := Export(m, o)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("onnx: %v", err)
	}
	return nil
}

// exporter builds the graph layer by layer. cur names the current value,
// shape is its NHWC shape (batch 1), nchw tells whether cur is laid out
// channels-first.
type exporter struct {
	g     graphProto
	cur   string
	shape []int
	nchw  bool
}

func (e *exporter) add(n *nodeProto) {
	if len(n.outputs) == 0 {
		n.outputs = []string{n.name}
	}
	e.g.nodes = append(e.g.nodes, n)
	e.cur = n.outputs[0]
}

func (e *exporter) transpose(name string, perm ...int64) {
	e.add(&nodeProto{opType: "Transpose", name: name, inputs: []string{e.cur},
		attrs: []*attrProto{{name: "perm", typ: atInts, ints: perm}}})
}

func (e *exporter) toNCHW() {
	e.transpose(e.cur+"/to_nchw", 0, 3, 1, 2)
	e.nchw = true
}

func (e *exporter) toNHWC() {
	e.transpose(e.cur+"/to_nhwc", 0, 2, 3, 1)
	e.nchw = false
}

func (e *exporter) initializer(name string, dims []int, data []float32) {
	t := &tensorProto{name: name, dataType: dtFloat, floats: data}
	for _, d := range dims {
		t.dims = append(t.dims, int64(d))
	}
	e.g.initializers = append(e.g.initializers, t)
}

func ints(v ...int) *attrProto {
	a := &attrProto{typ: atInts}
	for _, x := range v {
		a.ints = append(a.ints, int64(x))
	}
	return a
}

func named(name string, a *attrProto) *attrProto { a.name = name; return a }

// activationOps maps the activations export knows to ONNX ops.
var activationOps = map[uintptr]string{
	reflect.ValueOf(autograd.Relu).Pointer():    "Relu",
	reflect.ValueOf(autograd.Sigmoid).Pointer(): "Sigmoid",
	reflect.ValueOf(autograd.Tanh).Pointer():    "Tanh",
}

func (e *exporter) activation(name string, act layers.Activation) error {
	if act == nil {
		return nil
	}
	op, ok := activationOps[reflect.ValueOf(act).Pointer()]
	if !ok {
		return fmt.Errorf("activation %v has no ONNX export (want nil, autograd.Relu, Sigmoid or Tanh)", reflect.ValueOf(act))
	}
	e.add(&nodeProto{opType: op, name: name + "/" + op, inputs: []string{e.cur}})
	return nil
}

// samePads returns ONNX pads [top, left, bottom, right] for TF padding p
// over the NHWC input shape in.
func samePads(in []int, k, s, d [2]int, p string) ([]int, error) {
	pads := make([]int, 4)
	if p != "SAME" && p != "same" {
		return pads, nil
	}
	for i := 0; i < 2; i++ {
		out, err := nn.OutputSize(in[1+i], k[i], s[i], d[i], "SAME")
		if err != nil {
			return nil, err
		}
		total := max((out-1)*s[i]+(k[i]-1)*d[i]+1-in[1+i], 0)
		pads[i], pads[2+i] = total/2, total-total/2
	}
	return pads, nil
}

func pair(v []int, def int) [2]int {
	switch len(v) {
	case 1:
		return [2]int{v[0], v[0]}
	case 2:
		return [2]int{v[0], v[1]}
	}
	return [2]int{def, def}
}

func (e *exporter) layer(l layers.Layer) error {
	out, err := l.OutputShape(e.shape)
	if err != nil {
		return err
	}
	defer func() { e.shape = out }()
	name := l.Name()
	switch l := l.(type) {
	case *layers.Conv2D:
		c := l.Config()
		w := l.Kernel()
		if w == nil || w.Value() == nil {
			return fmt.Errorf("layer is not built")
		}
		k, s, d := pair(c.KernelSize, 1), pair(c.Strides, 1), pair(c.DilationRate, 1)
		pads, err := samePads(e.shape, k, s, d, c.Padding)
		if err != nil {
			return err
		}
		if !e.nchw {
			e.toNCHW()
		}
		kernel := w.Value() // [KH, KW, C, K] → [K, C, KH, KW]
		ks := kernel.Shape()
		oihw := make([]float32, kernel.Len())
		src := kernel.Data()
		for a := 0; a < ks[0]; a++ {
			for b := 0; b < ks[1]; b++ {
				for ci := 0; ci < ks[2]; ci++ {
					for ko := 0; ko < ks[3]; ko++ {
						oihw[((ko*ks[2]+ci)*ks[0]+a)*ks[1]+b] = src[((a*ks[1]+b)*ks[2]+ci)*ks[3]+ko]
					}
				}
			}
		}
		e.initializer(w.Name(), []int{ks[3], ks[2], ks[0], ks[1]}, oihw)
		inputs := []string{e.cur, w.Name()}
		if !c.NoBias {
			b := l.Bias()
			e.initializer(b.Name(), b.Value().Shape(), append([]float32(nil), b.Value().Data()...))
			inputs = append(inputs, b.Name())
		}
		e.add(&nodeProto{opType: "Conv", name: name, inputs: inputs, attrs: []*attrProto{
			named("kernel_shape", ints(k[0], k[1])), named("strides", ints(s[0], s[1])),
			named("dilations", ints(d[0], d[1])), named("pads", ints(pads...)), named("group", &attrProto{typ: atInt, i: 1}),
		}})
		return e.activation(name, c.Activation)
	case *layers.MaxPooling2D, *layers.AveragePooling2D:
		var c layers.PoolConfig
		op := "MaxPool"
		if mp, ok := l.(*layers.MaxPooling2D); ok {
			c = mp.Config()
		} else {
			c = l.(*layers.AveragePooling2D).Config()
			op = "AveragePool"
		}
		k := pair(c.PoolSize, 1)
		s := k
		if len(c.Strides) > 0 {
			s = pair(c.Strides, 1)
		}
		// TF's SAME pooling ignores padded cells: MaxPool pads with −inf,
		// AveragePool's count_include_pad 0 divides by the real cells.
		pads, err := samePads(e.shape, k, s, [2]int{1, 1}, c.Padding)
		if err != nil {
			return err
		}
		if !e.nchw {
			e.toNCHW()
		}
		e.add(&nodeProto{opType: op, name: name, inputs: []string{e.cur}, attrs: []*attrProto{
			named("kernel_shape", ints(k[0], k[1])), named("strides", ints(s[0], s[1])), named("pads", ints(pads...)),
		}})
		return nil
	case *layers.Flatten:
		if e.nchw {
			e.toNHWC() // TF flattens in (h, w, c) order
		}
		e.add(&nodeProto{opType: "Flatten", name: name, inputs: []string{e.cur},
			attrs: []*attrProto{{name: "axis", typ: atInt, i: 1}}})
		return nil
	case *layers.Dense:
		c := l.Config()
		if len(e.shape) != 2 {
			return fmt.Errorf("dense input of rank %d: only rank-2 inputs ([N, D]) are exported", len(e.shape))
		}
		w := l.Kernel()
		if w == nil || w.Value() == nil {
			return fmt.Errorf("layer is not built")
		}
		e.initializer(w.Name(), w.Value().Shape(), append([]float32(nil), w.Value().Data()...))
		inputs := []string{e.cur, w.Name()}
		if !c.NoBias {
			b := l.Bias()
			e.initializer(b.Name(), b.Value().Shape(), append([]float32(nil), b.Value().Data()...))
			inputs = append(inputs, b.Name())
		}
		e.add(&nodeProto{opType: "Gemm", name: name, inputs: inputs})
		return e.activation(name, c.Activation)
	case *layers.Dropout:
		return nil // identity at inference
	}
	return fmt.Errorf("no ONNX export for this layer type")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
