package layers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// Sequential applies its layers one after another, like
// tf.keras.Sequential.
type Sequential struct {
	layers []Layer
}

// NewSequential returns a model applying layers in order.
func NewSequential(layers ...Layer) *Sequential {
	return &Sequential{layers: append([]Layer(nil), layers...)}
}

// Layers returns the model's layers in order.
func (m *Sequential) Layers() []Layer { return m.layers }

// Layer returns the layer with the given scope name, or nil.
func (m *Sequential) Layer(name string) Layer {
	for _, l := range m.layers {
		if l.Name() == name {
			return l
		}
	}
	return nil
}

// LayerShape is one row of Shapes: a layer and its output shape.
type LayerShape struct {
	Name  string
	Shape []int
}

// Shapes returns every layer's output shape for an input of the given
// shape (batch first), without building anything.
func (m *Sequential) Shapes(inputShape []int) ([]LayerShape, error) {
	out := make([]LayerShape, 0, len(m.layers))
	s := inputShape
	for _, l := range m.layers {
		var err error
		if s, err = l.OutputShape(s); err != nil {
			return out, err
		}
		out = append(out, LayerShape{Name: l.Name(), Shape: s})
	}
	return out, nil
}

// OutputShape returns the model's output shape for an input shape.
func (m *Sequential) OutputShape(inputShape []int) ([]int, error) {
	s, err := m.Shapes(inputShape)
	if err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return append([]int(nil), inputShape...), nil
	}
	return s[len(s)-1].Shape, nil
}

// Build builds every layer for an input of the given shape (batch first),
// creating all variables, and checks that variable names are unique.
func (m *Sequential) Build(inputShape []int) error {
	s := inputShape
	for _, l := range m.layers {
		if err := l.Build(s); err != nil {
			return err
		}
		var err error
		if s, err = l.OutputShape(s); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, v := range m.Variables() {
		if seen[v.Name()] {
			return fmt.Errorf("layers: two variables are named %q; give the layers distinct names", v.Name())
		}
		seen[v.Name()] = true
	}
	return nil
}

// Call applies the layers in order to x. Errors travel in the result.
func (m *Sequential) Call(x *autograd.Var, ctx Context) *autograd.Var {
	for _, l := range m.layers {
		x = l.Call(x, ctx)
	}
	return x
}

// Variables returns the trainable variables of all layers in layer order
// (each layer's kernel before its bias).
func (m *Sequential) Variables() []*autograd.Var {
	var vs []*autograd.Var
	for _, l := range m.layers {
		vs = append(vs, l.Variables()...)
	}
	return vs
}

// Weights returns the variables' current values by name. The tensors are
// the live values, not copies.
func (m *Sequential) Weights() map[string]*tensor.Tensor {
	w := map[string]*tensor.Tensor{}
	for _, v := range m.Variables() {
		w[v.Name()] = v.Value()
	}
	return w
}

// SetWeights copies values into the model's variables by name. Every
// variable must be present with its exact shape; extra entries are
// ignored (a checkpoint also holds optimizer slots). On error nothing is
// changed and the message names each offending tensor with both shapes.
func (m *Sequential) SetWeights(values map[string]*tensor.Tensor) error {
	var problems []string
	for _, v := range m.Variables() {
		t, ok := values[v.Name()]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is missing (model expects shape %v)", v.Name(), v.Value().Shape()))
		case !tensor.SameShape(t.Shape(), v.Value().Shape()):
			problems = append(problems, fmt.Sprintf("%s has shape %v, the model expects %v", v.Name(), t.Shape(), v.Value().Shape()))
		}
	}
	if len(m.Variables()) == 0 {
		problems = append(problems, "the model has no variables: build it first")
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("layers: weights do not fit the model: %s", strings.Join(problems, "; "))
	}
	for _, v := range m.Variables() {
		copy(v.Value().Data(), values[v.Name()].Data())
	}
	return nil
}
