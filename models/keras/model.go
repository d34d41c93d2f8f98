// Package keras reads and writes Keras models: the architecture in the
// schema of Keras's model.to_json() (Sequential and Functional:
// class_name, config, inbound_nodes), the weights in safetensors under
// Keras's weight names ("conv2d/kernel", "batch_normalization/moving_mean",
// …), a model directory holding both (config.json and model.safetensors),
// and TensorFlow.js Layers models (a model.json holding modelTopology and
// weightsManifest, the weights in binary shards beside it), which is what
// tensorflowjs_converter writes from any Keras model.
//
// A loaded model runs on convnet's layers package: every Keras layer
// class maps to the layer of the same name (SupportedClasses lists them).
// An unknown layer class, an unknown config key, or a supported key with
// a value convnet does not implement (a constraint, an activity
// regularizer, data_format channels_first, grouped convolution, …) is an
// error naming the layer and the key, never a silent default.
// Initializer keys are accepted and written back unchanged: a loaded
// model's weights all come from its weights file.
//
// A layer called more than once (several inbound_nodes) shares its
// weights, as in Keras. It does not read Keras 3's .keras archives or its
// config form (module, registered_name, build_config), HDF5 files, nested
// models, layers of several outputs, or quantized TF.js weights.
package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/tensor"
)

// Model is a Keras model built on convnet's layers: the runnable graph
// (Net) and the Keras description it came from, which ToJSON writes back.
type Model struct {
	name    string
	class   string // "Sequential" or "Functional"
	specs   []*layerSpec
	inputs  []string
	outputs []ref
	net     *layers.Model
	nodes   map[ref]*layers.Node
}

// ref names one call of a layer: node k is its (k+1)-th call, as in
// Keras's [name, node_index, tensor_index] (a layer called more than once
// shares its weights).
type ref struct {
	name string
	node int
}

// String returns the layer's name, with the node index after a first call.
func (r ref) String() string {
	if r.node == 0 {
		return r.name
	}
	return fmt.Sprintf("%s[%d]", r.name, r.node)
}

// layerSpec is one entry of the config's "layers" list.
type layerSpec struct {
	class   string
	name    string
	config  map[string]json.RawMessage
	calls   [][]ref // per call (node), the layer outputs feeding it (functional models)
	layer   any     // layers.Layer or layers.MultiLayer; nil for InputLayer
	shape   []int   // InputLayer: per-example shape
	weights func(in []int) float64
	window  func(in []int) float64
}

// inShape returns the shape of the first input of call k.
func (s *layerSpec) inShape(nodes map[ref]*layers.Node, k int) []int {
	if k >= len(s.calls) || len(s.calls[k]) == 0 || nodes[s.calls[k][0]] == nil {
		return nil
	}
	return nodes[s.calls[k][0]].Shape()
}

// Bounds on what a model file may make convnet allocate and compute: the
// weights of all layers together, one example's output of any layer (in
// values), and the multiply-adds of one example through the whole model.
// A forged file is refused before the allocation.
var (
	maxParams     float64 = 1 << 28
	maxActivation float64 = 1 << 28
	maxCost       float64 = 1 << 36
)

// sizes tracks a model's weight count and cost while it is built.
type sizes struct{ params, cost float64 }

// addCost adds a layer's multiply-adds per example, from its input and
// output shapes (batch excluded): weights × output positions for layers
// with weights, output values × window for pooling, output values
// otherwise.
func (z *sizes) addCost(s *layerSpec, in, out []int) error {
	values := func(shape []int) float64 {
		v := 1.0
		for _, d := range shape {
			v *= float64(d)
		}
		return v
	}
	o := values(out)
	c := o
	switch {
	case s.weights != nil:
		pos := max(values(in), o)
		if len(out) > 0 && out[len(out)-1] > 0 {
			pos /= float64(out[len(out)-1])
		}
		c = s.weights(append([]int{1}, in...)) * pos
	case s.window != nil:
		c = o * s.window(append([]int{1}, in...))
	}
	z.cost += c
	if z.cost > maxCost {
		return fmt.Errorf("keras: layer %s (%s) takes the model past %.0f multiply-adds per example", s.name, s.class, maxCost)
	}
	return nil
}

// check refuses a layer whose weights would pass maxParams for an input
// of per-example shape in, before it is built.
func (z *sizes) check(s *layerSpec, in []int) error {
	if s.weights == nil {
		return nil
	}
	z.params += s.weights(append([]int{1}, in...))
	if z.params > maxParams {
		return fmt.Errorf("keras: layer %s (%s) takes the model past %.0f weights", s.name, s.class, maxParams)
	}
	return nil
}

// checkActivation refuses a node (an input or a layer's output) holding
// more than maxActivation values per example.
func checkActivation(s *layerSpec, n *layers.Node) error {
	v := 1.0
	for _, d := range n.Shape() {
		v *= float64(d)
	}
	if v > maxActivation {
		return fmt.Errorf("keras: layer %s (%s) outputs %v, more than %.0f values per example", s.name, s.class, n.Shape(), maxActivation)
	}
	return nil
}

// Name returns the model's name.
func (m *Model) Name() string { return m.name }

// Class returns "Sequential" or "Functional".
func (m *Model) Class() string { return m.class }

// Net returns the runnable functional model (a Sequential is built as a
// chain); its weights carry Keras's names.
func (m *Model) Net() *layers.Model { return m.net }

// InputShape returns the first input's per-example shape (batch
// excluded).
func (m *Model) InputShape() []int { return m.net.Inputs()[0].Shape() }

// Predict runs the model in inference mode (dropout off, batch norm on
// its moving statistics) on x [N, input shape…] and returns its first
// output [N, output shape…]. A model of several inputs is refused.
func (m *Model) Predict(x *tensor.Tensor) (*tensor.Tensor, error) {
	if len(m.inputs) != 1 {
		return nil, fmt.Errorf("keras: model %s takes %d inputs %q; Predict feeds one", m.name, len(m.inputs), m.inputs)
	}
	in := m.InputShape()
	s := x.Shape()
	if len(s) != len(in)+1 || !tensor.SameShape(s[1:], in) {
		return nil, fmt.Errorf("keras: model %s takes inputs [N %s], got shape %v", m.name, strings.Trim(fmt.Sprint(in), "[]"), s)
	}
	y := m.net.CallN([]*autograd.Var{autograd.Constant(x)}, layers.Context{})[0]
	if err := y.Err(); err != nil {
		return nil, err
	}
	return y.Value(), nil
}

// topology is the outer object of model.to_json().
type topology struct {
	ClassName    string          `json:"class_name"`
	Config       json.RawMessage `json:"config"`
	KerasVersion string          `json:"keras_version,omitempty"`
	Backend      string          `json:"backend,omitempty"`
}

// modelConfig is its "config".
type modelConfig struct {
	Name         string          `json:"name"`
	Layers       []layerJSON     `json:"layers"`
	InputLayers  json.RawMessage `json:"input_layers,omitempty"`
	OutputLayers json.RawMessage `json:"output_layers,omitempty"`
}

// layerJSON is one entry of "layers".
type layerJSON struct {
	ClassName    string                     `json:"class_name"`
	Config       map[string]json.RawMessage `json:"config"`
	Name         string                     `json:"name,omitempty"`
	InboundNodes json.RawMessage            `json:"inbound_nodes,omitempty"`
}

// maxLayers bounds the layer count of a model file.
const maxLayers = 10000

// decodeStrict decodes b into v, refusing unknown fields and trailing
// data.
func decodeStrict(b []byte, v any, what string) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("keras: %s: %v", what, err)
	}
	if d.More() {
		return fmt.Errorf("keras: %s: data after the JSON value", what)
	}
	return nil
}

// ParseJSON reads a model architecture in the schema of Keras's
// model.to_json() (also the modelTopology of a TF.js model.json, with
// class_name "Model" for a functional model) and builds it. The weights
// are freshly initialized: set them with SetWeights.
func ParseJSON(b []byte) (*Model, error) {
	var top topology
	if err := decodeStrict(b, &top, "model JSON"); err != nil {
		return nil, err
	}
	var mc modelConfig
	if err := decodeStrict(top.Config, &mc, "model config"); err != nil {
		for _, k := range []string{`"module"`, `"registered_name"`, `"build_config"`} {
			if strings.Contains(err.Error(), k) {
				return nil, fmt.Errorf("%w (Keras 3's config form is not read; save with tf.keras 2 or tensorflowjs_converter)", err)
			}
		}
		return nil, err
	}
	if len(mc.Layers) == 0 {
		return nil, errors.New("keras: the model config lists no layers")
	}
	if len(mc.Layers) > maxLayers {
		return nil, fmt.Errorf("keras: the model config lists %d layers, more than %d", len(mc.Layers), maxLayers)
	}
	name := mc.Name
	if name == "" {
		name = "model"
	}
	switch top.ClassName {
	case "Sequential":
		if mc.InputLayers != nil || mc.OutputLayers != nil {
			return nil, errors.New("keras: a Sequential config has no input_layers or output_layers")
		}
		return buildSequential(name, mc.Layers)
	case "Functional", "Model":
		return buildFunctional(name, mc)
	}
	return nil, fmt.Errorf("keras: model class_name %q; supported: Sequential, Functional (or Model)", top.ClassName)
}

// inputShape reads a batch_input_shape (or Keras 3's batch_shape):
// [null, d1, …] with every d positive.
func inputShape(c *config) []int {
	key := "batch_input_shape"
	v, ok := c.get(key)
	if !ok {
		key = "batch_shape"
		if v, ok = c.get(key); !ok {
			c.fail("batch_input_shape", "missing: convnet needs the input shape")
			return nil
		}
	}
	var dims []json.RawMessage
	if json.Unmarshal(v, &dims) != nil || len(dims) < 2 || len(dims) > 6 {
		c.fail(key, "got %s, want [null, d1, …] of rank 2 to 6", short(v))
		return nil
	}
	shape := make([]int, len(dims)-1)
	for i, d := range dims[1:] {
		n, ok := integer(d)
		if !ok || n < 1 || n > 1<<24 {
			c.fail(key, "got %s: dimension %d must be a fixed positive size", short(v), i+1)
			return nil
		}
		shape[i] = n
	}
	return shape
}

// inputLayer reads an InputLayer entry.
func inputLayer(name string, raw map[string]json.RawMessage) (*layerSpec, error) {
	c := newConfig("InputLayer", name, raw)
	c.str("name", "")
	c.oneOf("dtype", "float32", "float32")
	if c.boolean("sparse", false) {
		c.fail("sparse", "true is not supported")
	}
	if c.boolean("ragged", false) {
		c.fail("ragged", "true is not supported")
	}
	shape := inputShape(c)
	if err := c.done(); err != nil {
		return nil, err
	}
	return &layerSpec{class: "InputLayer", name: name, config: raw, shape: shape}, nil
}

// layerName returns the entry's name: the outer "name" or config.name,
// which must agree.
func layerName(l layerJSON, i int) (string, error) {
	var inner string
	if v, ok := l.Config["name"]; ok {
		if json.Unmarshal(v, &inner) != nil {
			return "", fmt.Errorf("keras: layer %d (%s): config key \"name\" is not a string", i, l.ClassName)
		}
	}
	name := l.Name
	switch {
	case name == "" && inner == "":
		return "", fmt.Errorf("keras: layer %d (%s) has no name", i, l.ClassName)
	case name == "":
		name = inner
	case inner != "" && inner != name:
		return "", fmt.Errorf("keras: layer %d is named %q outside its config and %q inside", i, name, inner)
	}
	if strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("keras: layer name %q: '/' separates weight names and cannot be part of one", name)
	}
	return name, nil
}

// buildSequential builds a Sequential config: an optional InputLayer,
// then layers applied in order; the input shape comes from the
// InputLayer or the first layer's batch_input_shape.
func buildSequential(name string, ls []layerJSON) (*Model, error) {
	m := &Model{name: name, class: "Sequential", nodes: map[ref]*layers.Node{}}
	var z sizes
	var x *layers.Node
	seen := map[string]bool{}
	for i, l := range ls {
		lname, err := layerName(l, i)
		if err != nil {
			return nil, err
		}
		if seen[lname] {
			return nil, fmt.Errorf("keras: two layers are named %q", lname)
		}
		seen[lname] = true
		if l.InboundNodes != nil {
			return nil, fmt.Errorf("keras: layer %s: a Sequential layer has no inbound_nodes", lname)
		}
		if l.ClassName == "InputLayer" {
			if i != 0 {
				return nil, fmt.Errorf("keras: layer %s: InputLayer must come first in a Sequential", lname)
			}
			s, err := inputLayer(lname, l.Config)
			if err != nil {
				return nil, err
			}
			m.specs = append(m.specs, s)
			x = layers.Input(lname, s.shape...)
			if err := checkActivation(s, x); err != nil {
				return nil, err
			}
			m.inputs = []string{lname}
			m.nodes[ref{lname, 0}] = x
			continue
		}
		cfg := l.Config
		if x == nil {
			// The first layer carries the input shape.
			c := newConfig(l.ClassName, lname, cfg)
			shape := inputShape(c)
			if c.err != nil {
				return nil, c.err
			}
			cfg = without(cfg, "batch_input_shape", "batch_shape")
			iname := lname + "_input"
			x = layers.Input(iname, shape...)
			if err := checkActivation(&layerSpec{class: "InputLayer", name: iname}, x); err != nil {
				return nil, err
			}
			m.inputs = []string{iname}
			m.nodes[ref{iname, 0}] = x
		}
		s, err := newLayer(l.ClassName, lname, cfg)
		if err != nil {
			return nil, err
		}
		s.config = l.Config
		single, ok := s.layer.(layers.Layer)
		if !ok {
			return nil, fmt.Errorf("keras: layer %s (%s) takes several inputs and cannot be in a Sequential", lname, l.ClassName)
		}
		if err := z.check(s, x.Shape()); err != nil {
			return nil, err
		}
		in := x.Shape()
		x = layers.Apply(single, x)
		if err := x.Err(); err != nil {
			return nil, fmt.Errorf("keras: %w", err)
		}
		if err := checkActivation(s, x); err != nil {
			return nil, err
		}
		if err := z.addCost(s, in, x.Shape()); err != nil {
			return nil, err
		}
		m.nodes[ref{lname, 0}] = x
		m.specs = append(m.specs, s)
	}
	if x == nil || len(m.specs) == 0 || m.specs[len(m.specs)-1].layer == nil {
		return nil, errors.New("keras: the Sequential has no layers besides its input")
	}
	m.outputs = []ref{{m.specs[len(m.specs)-1].name, 0}}
	net, err := layers.NewModel(name, []*layers.Node{m.nodes[ref{m.inputs[0], 0}]}, []*layers.Node{x})
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	m.net = net
	return m, nil
}

// without returns a copy of cfg lacking keys.
func without(cfg map[string]json.RawMessage, keys ...string) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(cfg))
	for k, v := range cfg {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// tensorRefs reads input_layers/output_layers: [[name, node, 0], …]
// (Keras 2, TF.js) or [name, node, 0] for a single tensor (Keras 3).
func tensorRefs(raw json.RawMessage, key string) ([]ref, error) {
	var list []json.RawMessage
	if raw == nil || json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return nil, fmt.Errorf("keras: model config %s: got %s, want [[name, 0, 0], …]", key, short(raw))
	}
	var first string
	if json.Unmarshal(list[0], &first) == nil {
		list = []json.RawMessage{raw}
	}
	refs := make([]ref, len(list))
	for i, r := range list {
		var err error
		if refs[i], err = tensorRef(r); err != nil {
			return nil, fmt.Errorf("keras: model config %s: %v", key, err)
		}
	}
	return refs, nil
}

// tensorRef reads [name, node_index, tensor_index] or [name,
// node_index, tensor_index, kwargs]; the tensor index must be 0 (layers of
// several outputs are not supported) and kwargs empty.
func tensorRef(r json.RawMessage) (ref, error) {
	var parts []json.RawMessage
	if json.Unmarshal(r, &parts) != nil || len(parts) < 3 || len(parts) > 4 {
		return ref{}, fmt.Errorf("got %s, want [name, node_index, tensor_index]", short(r))
	}
	var name string
	if json.Unmarshal(parts[0], &name) != nil {
		return ref{}, fmt.Errorf("got %s: the layer name is not a string", short(r))
	}
	node, ok := integer(parts[1])
	if !ok || node < 0 || node >= maxLayers {
		return ref{}, fmt.Errorf("%s: node index %s, want a whole number from 0 to %d", name, short(parts[1]), maxLayers-1)
	}
	if n, ok := integer(parts[2]); !ok || n != 0 {
		return ref{}, fmt.Errorf("%s: tensor index %s; only 0 is supported (one output per layer)", name, short(parts[2]))
	}
	if len(parts) == 4 {
		var kw map[string]json.RawMessage
		if json.Unmarshal(parts[3], &kw) != nil || len(kw) > 0 {
			return ref{}, fmt.Errorf("%s: call arguments %s are not supported", name, short(parts[3]))
		}
	}
	return ref{name, node}, nil
}

// buildFunctional builds a Functional config: layers connected by
// inbound_nodes between input_layers and output_layers.
func buildFunctional(name string, mc modelConfig) (*Model, error) {
	m := &Model{name: name, class: "Functional", nodes: map[ref]*layers.Node{}}
	var z sizes
	inputs, err := tensorRefs(mc.InputLayers, "input_layers")
	if err != nil {
		return nil, err
	}
	for _, r := range inputs {
		m.inputs = append(m.inputs, r.name)
	}
	if m.outputs, err = tensorRefs(mc.OutputLayers, "output_layers"); err != nil {
		return nil, err
	}
	byName := map[string]*layerSpec{}
	for i, l := range mc.Layers {
		lname, err := layerName(l, i)
		if err != nil {
			return nil, err
		}
		if byName[lname] != nil {
			return nil, fmt.Errorf("keras: two layers are named %q", lname)
		}
		var s *layerSpec
		if l.ClassName == "InputLayer" {
			if s, err = inputLayer(lname, l.Config); err != nil {
				return nil, err
			}
		} else {
			if s, err = newLayer(l.ClassName, lname, l.Config); err != nil {
				return nil, err
			}
		}
		if s.calls, err = inboundNodes(lname, l.InboundNodes, s.layer == nil); err != nil {
			return nil, err
		}
		byName[lname] = s
		m.specs = append(m.specs, s)
	}
	// Build each call's node after the nodes feeding it.
	visiting := map[ref]bool{}
	var visit func(r ref) (*layers.Node, error)
	visit = func(r ref) (*layers.Node, error) {
		if n := m.nodes[r]; n != nil {
			return n, nil
		}
		name := r.name
		s := byName[name]
		switch {
		case s == nil:
			return nil, fmt.Errorf("keras: the graph refers to layer %q, which the config does not list", name)
		case s.layer == nil && r.node != 0, s.layer != nil && r.node >= len(s.calls):
			return nil, fmt.Errorf("keras: the graph refers to call %d of layer %s, which inbound_nodes does not list", r.node, name)
		case visiting[r]:
			return nil, fmt.Errorf("keras: layer %s feeds itself (a cycle in inbound_nodes)", r)
		}
		visiting[r] = true
		var n *layers.Node
		if s.layer == nil {
			n = layers.Input(name, s.shape...)
		} else {
			call := s.calls[r.node]
			ins := make([]*layers.Node, len(call))
			for i, p := range call {
				var err error
				if ins[i], err = visit(p); err != nil {
					return nil, err
				}
			}
			switch l := s.layer.(type) {
			case layers.Layer:
				if len(ins) != 1 {
					return nil, fmt.Errorf("keras: layer %s (%s) takes one input, inbound_nodes gives %d", name, s.class, len(ins))
				}
				if r.node == 0 {
					if err := z.check(s, ins[0].Shape()); err != nil {
						return nil, err
					}
				}
				n = layers.Apply(l, ins[0])
			case layers.MultiLayer:
				if len(ins) < 2 {
					return nil, fmt.Errorf("keras: layer %s (%s) merges several inputs, inbound_nodes gives %d", name, s.class, len(ins))
				}
				n = layers.ApplyN(l, ins...)
			}
		}
		if err := n.Err(); err != nil {
			return nil, fmt.Errorf("keras: %w", err)
		}
		if err := checkActivation(s, n); err != nil {
			return nil, err
		}
		if s.layer != nil {
			if err := z.addCost(s, s.inShape(m.nodes, r.node), n.Shape()); err != nil {
				return nil, err
			}
		}
		m.nodes[r] = n
		return n, nil
	}
	ins := make([]*layers.Node, len(inputs))
	for i, r := range inputs {
		if s := byName[r.name]; s == nil || s.layer != nil || r.node != 0 {
			return nil, fmt.Errorf("keras: model input %s is not an InputLayer of the config", r)
		}
		if ins[i], err = visit(r); err != nil {
			return nil, err
		}
	}
	outs := make([]*layers.Node, len(m.outputs))
	for i, r := range m.outputs {
		if outs[i], err = visit(r); err != nil {
			return nil, err
		}
	}
	for _, s := range m.specs {
		for k := range max(len(s.calls), 1) {
			if m.nodes[ref{s.name, k}] == nil {
				return nil, fmt.Errorf("keras: layer %s does not lead to any model output", ref{s.name, k})
			}
		}
	}
	if m.net, err = layers.NewModel(name, ins, outs); err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	return m, nil
}

// inboundNodes reads a layer's inbound_nodes: [] for an InputLayer, one
// node [[name, 0, 0, {}], …] per call for any other layer (a layer
// called more than once shares its weights).
func inboundNodes(name string, raw json.RawMessage, isInput bool) ([][]ref, error) {
	var nodes []json.RawMessage
	if raw != nil && json.Unmarshal(raw, &nodes) != nil {
		return nil, fmt.Errorf("keras: layer %s: inbound_nodes %s is not a list of nodes", name, short(raw))
	}
	if isInput {
		if len(nodes) != 0 {
			return nil, fmt.Errorf("keras: InputLayer %s has inbound_nodes", name)
		}
		return nil, nil
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("keras: layer %s has no inbound_nodes: nothing feeds it", name)
	}
	calls := make([][]ref, len(nodes))
	for k, node := range nodes {
		var refs []json.RawMessage
		if json.Unmarshal(node, &refs) != nil || len(refs) == 0 {
			return nil, fmt.Errorf("keras: layer %s: inbound node %s, want [[name, 0, 0, {}], …]", name, short(node))
		}
		calls[k] = make([]ref, len(refs))
		for i, r := range refs {
			var err error
			if calls[k][i], err = tensorRef(r); err != nil {
				return nil, fmt.Errorf("keras: layer %s: inbound_nodes: %v", name, err)
			}
		}
	}
	return calls, nil
}
