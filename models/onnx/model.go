package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

// Import limits. A file must fit in maxFileSize (protobuf's own 2 GiB
// message limit); the opsets are those whose CNN ops this package knows.
const (
	maxFileSize = 2 << 30
	// MinOpset and MaxOpset bound the ai.onnx opset versions Decode reads.
	// Opsets before 7 load too: the attributes by which their ops differ
	// (broadcast, is_test, consumed_inputs, shape and paddings as
	// attributes) are refused as unsupported.
	MinOpset = 1
	MaxOpset = 18
)

// Run limits against forged files: maxRunElems bounds any tensor an op
// allocates from sizes read out of the file or computed from attributes
// (1 GiB of float32); maxRunWork bounds the multiply-adds (or window
// reads) of one convolution, pooling or matrix product. The fuzz target
// lowers them.
var (
	maxRunElems = 1 << 28
	maxRunWork  = 1 << 34
)

// checkWork fails when the product of every size of shapes exceeds
// maxRunWork. It takes the factors themselves, not products of them
// (tensor.Size of sizes read from a file can wrap to 0 and pass).
func (n *node) checkWork(what string, shapes ...[]int) error {
	w := 1
	for _, shape := range shapes {
		for _, s := range shape {
			if s != 0 && w > maxRunWork/s {
				return n.errorf("%s would take more than %d multiply-adds (sizes %v)", what, maxRunWork, shapes)
			}
			w *= s
		}
	}
	return nil
}

// Model is an ONNX graph ready to run: its initializers decoded and
// checked, its conv filters converted once to the nn ops' layout, every
// node's op and attributes checked against what this package runs.
// Channels-first (NCHW) data runs natively on the nn ops. A Model is
// safe for concurrent Run calls.
type Model struct {
	opset    int64
	nodes    []*node
	consts   map[string]value
	inputs   []*valueInfoProto // graph inputs that are not initializers
	outputs  []string
	meta     map[string]string
	producer string
	name     string
}

// node is one graph node with its op definition and precomputed data.
type node struct {
	*nodeProto
	idx   int
	def   *opDef
	attrs map[string]*attrProto
	prep  []*tensor.Tensor // Conv/ConvTranspose filters in the nn layout (per group), when W is an initializer
	// fuseRelu: a Conv or Gemm applies the ReLU of the one node that reads
	// its output (nn.Conv2DBiasRelu, nn.BiasAddRelu: same bits as the
	// ops in turn); that Relu node is then passThrough.
	fuseRelu    bool
	passThrough bool
}

// label names a node in errors: its name, or its index and first output.
func (n *node) label() string {
	if n.name != "" {
		return fmt.Sprintf("node %q (%s)", n.name, n.opType)
	}
	out := ""
	if len(n.outputs) > 0 {
		out = n.outputs[0]
	}
	return fmt.Sprintf("node #%d → %q (%s)", n.idx, out, n.opType)
}

// errorf returns an error naming the node and its op.
func (n *node) errorf(format string, args ...any) error {
	return fmt.Errorf("onnx: %s: %s", n.label(), fmt.Sprintf(format, args...))
}

// attrErrorf returns an error naming the node, its op and the attribute.
func (n *node) attrErrorf(attr, format string, args ...any) error {
	return fmt.Errorf("onnx: %s: attribute %q: %s", n.label(), attr, fmt.Sprintf(format, args...))
}

// errUnsupported marks errors about ops, attributes or element types this
// package does not run (as opposed to malformed models or inputs).
var errUnsupported = errors.New("not supported")

// unsupportedf returns an errUnsupported error naming the node and op.
func (n *node) unsupportedf(format string, args ...any) error {
	return fmt.Errorf("onnx: %s: %w: %s", n.label(), errUnsupported, fmt.Sprintf(format, args...))
}

// attrUnsupportedf returns an errUnsupported error naming the node, op and
// attribute.
func (n *node) attrUnsupportedf(attr, format string, args ...any) error {
	return fmt.Errorf("onnx: %s: attribute %q: %w: %s", n.label(), attr, errUnsupported, fmt.Sprintf(format, args...))
}

// value is a tensor flowing through the graph: float data (FLOAT, DOUBLE
// and FLOAT16 are all held as float32) or integer data (the INT, UINT and
// BOOL types, held as int64, as shape computations need).
//
// nhwc marks a rank-4 float value whose logical layout is ONNX's
// [N, C, H, W] but whose tensor f is stored channels-last [N, H, W, C],
// the nn ops' native layout. Convolutions and pools produce it, the
// layout-aware ops (opDef.layoutAware) pass it on, and every other op sees
// the value transposed back, so a chain of CNN ops runs without a
// transpose per op and the NHWC↔NCHW transposes of an exported Keras or
// TF model cancel out.
type value struct {
	f     *tensor.Tensor
	ints  []int64
	shape []int // of ints
	dt    int32
	nhwc  bool
}

func floatValue(t *tensor.Tensor) value { return value{f: t, dt: dtFloat} }

func intValue(shape []int, v []int64) value {
	return value{ints: v, shape: append([]int{}, shape...), dt: dtInt64}
}

func (v value) isInt() bool { return v.f == nil }

// dims returns the logical shape.
func (v value) dims() []int {
	if v.nhwc {
		s := v.f.Shape()
		return []int{s[0], s[3], s[1], s[2]}
	}
	if v.f != nil {
		return v.f.Shape()
	}
	return v.shape
}

// materialized returns v in its logical layout.
func (v value) materialized() value {
	if !v.nhwc {
		return v
	}
	return value{f: transposeFloat(v.f, []int{0, 3, 1, 2}), dt: v.dt}
}

func (v value) size() int { return tensor.Size(v.dims()) }

// Load reads an ONNX model file with Decode.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: reading %s: %v", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("onnx: %s is larger than the 2 GiB protobuf limit", path)
	}
	m, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode parses an ONNX ModelProto and prepares it to run. It checks the
// IR version, the ai.onnx opset (MinOpset–MaxOpset, no other domains),
// every initializer's data against its dims, and that every node's op,
// attributes and inputs are ones this package runs; an unsupported op or
// attribute is an error naming the node, the op and the attribute. It
// never panics on corrupt input, and no declared size makes it allocate
// more than the file holds.
func Decode(b []byte) (*Model, error) {
	mp, err := decodeModel(b)
	if err != nil {
		return nil, fmt.Errorf("onnx: not a valid ONNX model: %v", err)
	}
	if mp.graph == nil {
		return nil, fmt.Errorf("onnx: the model has no graph")
	}
	if mp.irVersion < 3 {
		return nil, fmt.Errorf("onnx: IR version %d, want 3 or later", mp.irVersion)
	}
	m := &Model{opset: -1, consts: map[string]value{}, meta: map[string]string{}, producer: mp.producerName, name: mp.graph.name}
	for _, o := range mp.opsets {
		// Other domains (ai.onnx.ml, vendor ones) may be imported; a node
		// that uses one is refused below.
		if o.domain == "" || o.domain == "ai.onnx" {
			m.opset = o.version
		}
	}
	if m.opset == -1 {
		return nil, fmt.Errorf("onnx: the model imports no ai.onnx opset")
	}
	if m.opset < MinOpset || m.opset > MaxOpset {
		return nil, fmt.Errorf("onnx: ai.onnx opset %d, want %d to %d", m.opset, MinOpset, MaxOpset)
	}
	for _, kv := range mp.metadata {
		m.meta[kv.key] = kv.value
	}
	g := mp.graph
	for _, t := range g.initializers {
		v, err := tensorValue(t)
		if err != nil {
			return nil, fmt.Errorf("onnx: initializer: %v", err)
		}
		m.consts[t.name] = v
	}
	for _, in := range g.inputs {
		if _, ok := m.consts[in.name]; ok {
			continue // an initializer listed as an input (IR < 4 style): a constant here
		}
		if in.other {
			return nil, fmt.Errorf("onnx: graph input %q: %w: only tensor inputs (not sequences, maps or optionals)", in.name, errUnsupported)
		}
		m.inputs = append(m.inputs, in)
	}
	for _, out := range g.outputs {
		m.outputs = append(m.outputs, out.name)
	}
	known := map[string]bool{"": true}
	for name := range m.consts {
		known[name] = true
	}
	for _, in := range m.inputs {
		known[in.name] = true
	}
	for i, np := range g.nodes {
		n := &node{nodeProto: np, idx: i, attrs: map[string]*attrProto{}}
		if np.domain != "" && np.domain != "ai.onnx" {
			return nil, n.unsupportedf("op domain %q", np.domain)
		}
		def, ok := opDefs[np.opType]
		if !ok {
			return nil, n.unsupportedf("op %s", np.opType)
		}
		n.def = def
		for _, a := range np.attrs {
			if a.refName != "" {
				return nil, n.attrUnsupportedf(a.name, "it references function attribute %q", a.refName)
			}
			if !slices.Contains(def.attrs, a.name) {
				return nil, n.attrUnsupportedf(a.name, "%s here takes only %s", np.opType, strings.Join(def.attrs, ", "))
			}
			if _, dup := n.attrs[a.name]; dup {
				return nil, n.attrErrorf(a.name, "given twice")
			}
			if a.t != nil {
				if err := a.t.decodeData(); err != nil {
					return nil, n.attrErrorf(a.name, "%v", err)
				}
			}
			n.attrs[a.name] = a
		}
		if len(np.inputs) < def.minIn || len(np.inputs) > def.maxIn {
			return nil, n.errorf("%d inputs, want %d to %d", len(np.inputs), def.minIn, def.maxIn)
		}
		if len(np.outputs) == 0 {
			return nil, n.errorf("no outputs")
		}
		for _, in := range np.inputs {
			if !known[in] {
				return nil, n.errorf("input %q is not produced by an earlier node, an initializer or a graph input (nodes must be in topological order)", in)
			}
		}
		if def.check != nil {
			if err := def.check(n, m.opset); err != nil {
				return nil, err
			}
		}
		if def.prepare != nil {
			if err := def.prepare(n, m); err != nil {
				return nil, err
			}
		}
		for _, out := range np.outputs {
			known[out] = true
		}
		m.nodes = append(m.nodes, n)
	}
	for _, out := range m.outputs {
		if !known[out] {
			return nil, fmt.Errorf("onnx: graph output %q is produced by no node", out)
		}
	}
	m.fuseRelus()
	return m, nil
}

// fuseRelus marks each Conv or Gemm whose output only a Relu reads (and
// that is no graph output) to apply that ReLU itself.
func (m *Model) fuseRelus() {
	readers := map[string]int{}
	producer := map[string]*node{}
	for _, n := range m.nodes {
		for _, in := range n.inputs {
			readers[in]++
		}
		for _, out := range n.outputs {
			producer[out] = n
		}
	}
	for _, out := range m.outputs {
		readers[out]++
	}
	for _, n := range m.nodes {
		if n.opType != "Relu" || len(n.inputs) != 1 || len(n.outputs) != 1 {
			continue
		}
		p := producer[n.inputs[0]]
		if p == nil || (p.opType != "Conv" && p.opType != "Gemm") || len(p.outputs) != 1 || readers[n.inputs[0]] != 1 {
			continue
		}
		p.fuseRelu, n.passThrough = true, true
	}
}

// tensorValue decodes a TensorProto into a value.
func tensorValue(t *tensorProto) (value, error) {
	if err := t.decodeData(); err != nil {
		return value{}, err
	}
	shape := make([]int, len(t.dims))
	for i, d := range t.dims {
		shape[i] = int(d)
	}
	if isFloat(t.dataType) {
		x, err := tensor.New(shape, t.floats)
		if err != nil {
			return value{}, fmt.Errorf("tensor %q: %v", t.name, err)
		}
		return value{f: x, dt: t.dataType}, nil
	}
	return value{ints: t.ints, shape: shape, dt: t.dataType}, nil
}

// InputNames returns the names of the graph inputs Run takes, in order.
func (m *Model) InputNames() []string {
	names := make([]string, len(m.inputs))
	for i, in := range m.inputs {
		names[i] = in.name
	}
	return names
}

// InputShape returns input i's declared shape, −1 for a symbolic or
// unknown dimension (nil when the rank is unknown).
func (m *Model) InputShape(i int) []int {
	in := m.inputs[i]
	if !in.shape {
		return nil
	}
	s := make([]int, len(in.dims))
	for j, d := range in.dims {
		s[j] = int(d.value)
		if d.param != "" || d.value <= 0 {
			s[j] = -1
		}
	}
	return s
}

// OutputNames returns the graph's output names, in order.
func (m *Model) OutputNames() []string { return append([]string(nil), m.outputs...) }

// Opset returns the model's ai.onnx opset version.
func (m *Model) Opset() int64 { return m.opset }

// Metadata returns the model's metadata_props plus "producer" (the
// producer_name) and "graph" (the graph's name) when set.
func (m *Model) Metadata() map[string]string {
	md := map[string]string{}
	for k, v := range m.meta {
		md[k] = v
	}
	if m.producer != "" {
		md["producer"] = m.producer
	}
	if m.name != "" {
		md["graph"] = m.name
	}
	return md
}

// Run evaluates the graph on float32 inputs given in InputNames order and
// returns the outputs in OutputNames order. Each input's shape must agree
// with the declared one (symbolic dimensions take any size).
func (m *Model) Run(inputs ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(inputs) != len(m.inputs) {
		return nil, fmt.Errorf("onnx: the model takes %d inputs %q, got %d", len(m.inputs), m.InputNames(), len(inputs))
	}
	feeds := map[string]value{}
	for i, x := range inputs {
		if x == nil {
			return nil, fmt.Errorf("onnx: input %q is nil", m.inputs[i].name)
		}
		if e := m.inputs[i].elem; e != dtFloat && e != 0 {
			return nil, fmt.Errorf("onnx: input %q has element type %s; Run takes FLOAT inputs only", m.inputs[i].name, dtName(e))
		}
		feeds[m.inputs[i].name] = floatValue(x)
	}
	outs, err := m.run(feeds)
	if err != nil {
		return nil, err
	}
	res := make([]*tensor.Tensor, len(outs))
	for i, v := range outs {
		if v.isInt() {
			return nil, fmt.Errorf("onnx: output %q is %s, not float", m.outputs[i], dtName(v.dt))
		}
		res[i] = v.f
	}
	return res, nil
}

// run evaluates the graph on named input values.
func (m *Model) run(feeds map[string]value) ([]value, error) {
	env := make(map[string]value, len(m.consts)+len(m.nodes))
	for k, v := range m.consts {
		env[k] = v
	}
	for _, in := range m.inputs {
		v, ok := feeds[in.name]
		if !ok {
			return nil, fmt.Errorf("onnx: no value for input %q", in.name)
		}
		if in.shape {
			got := v.dims()
			bad := len(got) != len(in.dims)
			for j := 0; !bad && j < len(got); j++ {
				bad = in.dims[j].param == "" && in.dims[j].value > 0 && int64(got[j]) != in.dims[j].value
			}
			if bad {
				return nil, fmt.Errorf("onnx: input %q has shape %v, the model declares %s", in.name, got, formatDims(in.dims))
			}
		}
		env[in.name] = v
	}
	for _, n := range m.nodes {
		args := make([]value, len(n.inputs))
		present := make([]bool, len(n.inputs))
		for i, name := range n.inputs {
			if name == "" {
				continue // an omitted optional input
			}
			args[i], present[i] = env[name], true
		}
		if n.passThrough { // a Relu its producer applied
			env[n.outputs[0]] = args[0]
			continue
		}
		if !n.def.layoutAware {
			for i := range args {
				args[i] = args[i].materialized()
			}
		}
		c := &call{n: n, in: args, has: present, opset: m.opset}
		outs, err := n.def.run(c)
		if err != nil {
			return nil, err
		}
		if n.def.exactInts != nil && len(outs) > 0 && !outs[0].isInt() && present[0] && args[0].isInt() {
			if outs[0], err = c.floatToInts(outs[0].materialized().f, args[0].dt); err != nil {
				return nil, err
			}
		}
		for i, name := range n.outputs {
			if name == "" || i >= len(outs) {
				continue
			}
			env[name] = outs[i]
		}
	}
	res := make([]value, len(m.outputs))
	for i, name := range m.outputs {
		v, ok := env[name]
		if !ok {
			return nil, fmt.Errorf("onnx: graph output %q was not computed", name)
		}
		res[i] = v.materialized()
	}
	return res, nil
}

func formatDims(ds []dimProto) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		if d.param != "" {
			parts[i] = d.param
		} else {
			parts[i] = fmt.Sprint(d.value)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// PredictFile runs the ONNX model at modelPath on the tensor in the .npy
// file inPath (float32, in the graph input's own layout) and writes the
// first output to outPath as .npy, atomically. The model must take one
// input. It returns the output's shape.
func PredictFile(modelPath, inPath, outPath string) ([]int, error) {
	m, err := Load(modelPath)
	if err != nil {
		return nil, err
	}
	if len(m.inputs) != 1 {
		return nil, fmt.Errorf("onnx: %s takes %d inputs %q; one .npy feeds one input", modelPath, len(m.inputs), m.InputNames())
	}
	x, err := npy.ReadFile(inPath)
	if err != nil {
		return nil, err
	}
	outs, err := m.Run(x)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", modelPath, inPath, err)
	}
	if err := npy.WriteFile(outPath, outs[0]); err != nil {
		return nil, err
	}
	return outs[0].Shape(), nil
}
