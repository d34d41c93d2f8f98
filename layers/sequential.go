package layers

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// Sequential applies its layers one after another, like
// tf.keras.Sequential.
// A Sequential is itself a Layer, so Sequentials nest (inside each other
// or inside a functional Model); the variables keep their layers' names.
type Sequential struct {
	name   string
	layers []Layer
}

// NewSequential returns a model named "sequential" applying layers in
// order.
func NewSequential(layers ...Layer) *Sequential {
	return &Sequential{name: "sequential", layers: append([]Layer(nil), layers...)}
}

// NewSequentialNamed returns a Sequential with the given name.
func NewSequentialNamed(name string, layers ...Layer) *Sequential {
	m := NewSequential(layers...)
	m.name = name
	return m
}

// Name returns the model's name.
func (m *Sequential) Name() string { return m.name }

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
	if err := uniqueWeights(m.AllWeights()); err != nil {
		return fmt.Errorf("layers: %w", err)
	}
	return nil
}

// Call applies the layers in order to x. Errors travel in the result.
func (m *Sequential) Call(x *autograd.Var, ctx Context) *autograd.Var {
	for i := 0; i < len(m.layers); i++ {
		// At inference Conv2D → BatchNormalization (→ ReLU) runs as one
		// convolution (batchnorm.go).
		if n := seqFold(m.layers[i:]); n > 0 && !ctx.Training {
			x = foldedConvBN(m.layers[i].(*Conv2D), m.layers[i+1].(*BatchNormalization), n == 3, x)
			i += n - 1
			continue
		}
		// In training BatchNormalization → ReLU → Conv2D runs as one op,
		// and BatchNormalization → ReLU before anything else.
		if ctx.Training && seqBNReluConv(m.layers[i:]) {
			x = m.layers[i+2].(*Conv2D).callBNRelu(m.layers[i].(*BatchNormalization), x)
			i += 2
			continue
		}
		if ctx.Training && seqBNRelu(m.layers[i:]) {
			x = m.layers[i].(*BatchNormalization).call(x, ctx, true)
			i++
			continue
		}
		x = callLayer(m.layers[i], x, ctx)
	}
	return x
}

// Variables returns the trainable variables of all layers in layer order
// (each layer's kernel before its bias).
func (m *Sequential) Variables() []*autograd.Var { return variablesOf(m.any()) }

// NonTrainable returns the non-trainable weights (batch norm's moving
// statistics) of all layers in layer order.
func (m *Sequential) NonTrainable() []*autograd.Var { return nonTrainableOf(m.any()) }

// AllWeights returns every weight in Keras's model.weights order: layer
// by layer, each layer's trainable weights then its non-trainable ones.
func (m *Sequential) AllWeights() []*autograd.Var { return allWeightsOf(m.any()) }

// Losses returns the regularization penalties of every layer.
func (m *Sequential) Losses() []*autograd.Var { return lossesOf(m.any()) }

func (m *Sequential) any() []any {
	out := make([]any, len(m.layers))
	for i, l := range m.layers {
		out[i] = l
	}
	return out
}

// Weights returns every weight's current value by name, trainable and
// non-trainable (so a checkpoint of it holds the moving statistics too).
// The tensors are the live values, not copies.
func (m *Sequential) Weights() map[string]*tensor.Tensor { return weightMap(m.AllWeights()) }

// SetWeights copies values into the model's weights (trainable and not)
// by name. Every weight must be present with its exact shape; extra
// entries are ignored (a checkpoint also holds optimizer slots). On error
// nothing is changed and the message names each offending tensor with
// both shapes.
func (m *Sequential) SetWeights(values map[string]*tensor.Tensor) error {
	return setWeights(m.AllWeights(), values)
}
