package serve

import (
	"errors"
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/tensor"
)

// FP32 is the Open Inference Protocol's name for float32 tensors, the only
// datatype the models here take and return.
const FP32 = "FP32"

// TensorSpec describes one input or output of a model as the Open
// Inference Protocol's model metadata does: a name, a datatype and a
// shape whose first dimension is −1, the batch.
type TensorSpec struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// elems returns the number of values of one example: the product of the
// shape after the batch dimension.
func (s TensorSpec) elems() int {
	n := 1
	for _, d := range s.Shape[1:] {
		n *= int(d)
	}
	return n
}

// Model is what the server runs. Each input and output is FP32 with a
// leading batch dimension. Predict gets n examples, in[i] holding input
// i's n·Inputs()[i].elems() values row-major, and returns one slice per
// output with n·Outputs()[j].elems() values. The server calls Predict
// from several goroutines at once.
type Model interface {
	Inputs() []TensorSpec
	Outputs() []TensorSpec
	Predict(n int, in [][]float32) ([][]float32, error)
}

// FeatureMap is one intermediate activation of one example: Shape is
// [H, W, C] and Data holds H·W·C values, channel fastest (NHWC without N).
type FeatureMap struct {
	Layer string
	Shape []int
	Data  []float32
}

// FeatureModel is a Model that can also show what its layers compute:
// FeatureMaps runs one example (input 0's values) and returns the outputs
// of the named layers, in the order asked, with the model's outputs.
type FeatureModel interface {
	Model
	FeatureLayers() []string
	FeatureMaps(x []float32, layers []string) ([]FeatureMap, [][]float32, error)
}

// Sequential serves a classifier, a layers.Network (a *layers.Sequential
// or a functional *layers.Model): one input of shape [−1, Shape...] named
// "input", and two outputs [−1, K]: "logits", the model's output, and
// "probabilities", their softmax.
type Sequential struct {
	model   layers.Network
	inputs  []TensorSpec
	outputs []TensorSpec
	maps    []string
}

// NewSequential wraps m, which takes inputs of shape [N, inputShape...].
// featureLayers names the layers whose outputs FeatureMaps may return
// (rank-4 outputs only, such as "conv1" and "conv2" of the lecture's
// model); each must exist, and only a *layers.Sequential, run layer by
// layer, has them.
func NewSequential(m layers.Network, inputShape []int, featureLayers ...string) (*Sequential, error) {
	if m == nil {
		return nil, errors.New("serve: nil model")
	}
	in := append([]int{1}, inputShape...)
	var shapes []layers.LayerShape
	seq, isSeq := m.(*layers.Sequential)
	if isSeq {
		var err error
		if shapes, err = seq.Shapes(in); err != nil {
			return nil, fmt.Errorf("serve: model does not take inputs of shape %v: %w", in, err)
		}
		if len(shapes) == 0 {
			return nil, errors.New("serve: model has no layers")
		}
	} else if len(featureLayers) > 0 {
		return nil, fmt.Errorf("serve: feature maps need a Sequential model; %s is a %T", m.Name(), m)
	}
	if err := m.Build(in); err != nil {
		return nil, fmt.Errorf("serve: model does not take inputs of shape %v: %w", in, err)
	}
	out, err := m.OutputShape(in)
	if err != nil {
		return nil, fmt.Errorf("serve: model does not take inputs of shape %v: %w", in, err)
	}
	if len(out) != 2 {
		return nil, fmt.Errorf("serve: model output shape %v; want [N, classes]", out)
	}
	for _, name := range featureLayers {
		found := false
		for _, s := range shapes {
			if s.Name == name {
				if len(s.Shape) != 4 {
					return nil, fmt.Errorf("serve: layer %q has output shape %v; feature maps need [N, H, W, C]", name, s.Shape)
				}
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("serve: model has no layer %q", name)
		}
	}
	spec := TensorSpec{Name: "input", Datatype: FP32, Shape: []int64{-1}}
	for _, d := range inputShape {
		spec.Shape = append(spec.Shape, int64(d))
	}
	k := int64(out[1])
	return &Sequential{
		model:  m,
		inputs: []TensorSpec{spec},
		outputs: []TensorSpec{
			{Name: "logits", Datatype: FP32, Shape: []int64{-1, k}},
			{Name: "probabilities", Datatype: FP32, Shape: []int64{-1, k}},
		},
		maps: append([]string(nil), featureLayers...),
	}, nil
}

// Inputs returns the one input, "input" [−1, inputShape...].
func (s *Sequential) Inputs() []TensorSpec { return s.inputs }

// Outputs returns "logits" and "probabilities", both [−1, K].
func (s *Sequential) Outputs() []TensorSpec { return s.outputs }

// FeatureLayers returns the layers FeatureMaps may be asked for.
func (s *Sequential) FeatureLayers() []string { return s.maps }

// Predict runs the model (dropout off; layers.Predict) on n examples and
// returns their logits and softmax probabilities, each n·K values.
func (s *Sequential) Predict(n int, in [][]float32) ([][]float32, error) {
	x, err := s.batch(n, in)
	if err != nil {
		return nil, err
	}
	logits, err := layers.Predict(s.model, x, 0)
	if err != nil {
		return nil, fmt.Errorf("serve: running the model: %w", err)
	}
	return outputs(autograd.Constant(logits))
}

// batch checks in against the input spec and wraps it as [n, shape...].
func (s *Sequential) batch(n int, in [][]float32) (*tensor.Tensor, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("serve: %d inputs; the model takes 1", len(in))
	}
	if want := n * s.inputs[0].elems(); n < 1 || len(in[0]) != want {
		return nil, fmt.Errorf("serve: %d values for %d examples; want %d", len(in[0]), n, want)
	}
	shape := []int{n}
	for _, d := range s.inputs[0].Shape[1:] {
		shape = append(shape, int(d))
	}
	return tensor.New(shape, in[0])
}

// FeatureMaps runs one example through the layers one at a time and
// returns the outputs of the layers asked for (copies) together with the
// example's logits and probabilities.
func (s *Sequential) FeatureMaps(x []float32, names []string) ([]FeatureMap, [][]float32, error) {
	for _, name := range names {
		if !contains(s.maps, name) {
			return nil, nil, fmt.Errorf("serve: no feature maps for layer %q; available: %v", name, s.maps)
		}
	}
	t, err := s.batch(1, [][]float32{x})
	if err != nil {
		return nil, nil, err
	}
	v := autograd.Constant(t)
	maps := make([]FeatureMap, len(names))
	seq, ok := s.model.(*layers.Sequential)
	if !ok { // no feature layers: NewSequential allows none
		out, err := outputs(s.model.Call(v, layers.Context{}))
		return maps, out, err
	}
	for _, l := range seq.Layers() {
		v = l.Call(v, layers.Context{})
		if err := v.Err(); err != nil {
			return nil, nil, fmt.Errorf("serve: layer %q: %w", l.Name(), err)
		}
		for i, name := range names {
			if name == l.Name() {
				sh := v.Value().Shape()
				maps[i] = FeatureMap{Layer: name, Shape: []int{sh[1], sh[2], sh[3]}, Data: append([]float32(nil), v.Value().Data()...)}
			}
		}
	}
	out, err := outputs(v)
	return maps, out, err
}

// outputs returns copies of the logits and of their softmax (nn.Softmax,
// as train.Predict uses), then releases the graph's memory for reuse.
func outputs(logits *autograd.Var) ([][]float32, error) {
	probs := autograd.Softmax(logits)
	defer autograd.Release(probs)
	if err := probs.Err(); err != nil {
		return nil, fmt.Errorf("serve: running the model: %w", err)
	}
	return [][]float32{
		append([]float32(nil), logits.Value().Data()...),
		append([]float32(nil), probs.Value().Data()...),
	}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
