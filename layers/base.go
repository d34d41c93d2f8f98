package layers

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/tensor"
)

// Base carries what every layer with weights needs besides its math: a
// name, the seed its initial values derive from, its trainable and
// non-trainable weights, and the build-once bookkeeping. Embed it in a
// custom layer and write only Build (calling BuildOnce and AddWeight),
// OutputShape and Call; see the example in example_test.go.
//
// Name, Variables and NonTrainable come from Base. Containers
// (Sequential, Model) build a layer before they call it, so Call may
// assume the weights exist.
type Base struct {
	name      string
	seed      uint64
	inShape   []int // dims the layer was built for (batch excluded)
	err       error // a failed build, returned again by every later Build
	trainable []*autograd.Var
	fixed     []*autograd.Var
}

// NewBase returns a Base for a layer called name whose weights are seeded
// from seed (mixed with each weight's full name by DeriveSeed).
func NewBase(name string, seed uint64) Base { return Base{name: name, seed: seed} }

// Name returns the layer's scope, e.g. "conv1".
func (b *Base) Name() string { return b.name }

// Variables returns the trainable weights in the order AddWeight created
// them (Keras's trainable_weights).
func (b *Base) Variables() []*autograd.Var { return b.trainable }

// NonTrainable returns the weights an optimizer must not touch (such as
// batch norm's moving statistics) in creation order (Keras's
// non_trainable_weights).
func (b *Base) NonTrainable() []*autograd.Var { return b.fixed }

// Built reports whether the layer's weights exist.
func (b *Base) Built() bool { return b.inShape != nil }

// BuildOnce runs build the first time it is called with a valid input
// shape (batch first) and remembers the shape. Later calls with the same
// per-example shape return nil at once; another shape is an error naming
// both, and a failed build returns its error again.
func (b *Base) BuildOnce(inputShape []int, build func(inputShape []int) error) error {
	if b.err != nil {
		return b.err
	}
	if b.inShape != nil {
		if len(inputShape) != len(b.inShape)+1 || !tensor.SameShape(inputShape[1:], b.inShape) {
			return fmt.Errorf("layers: %s was built for inputs [N %v], got %v", b.name, b.inShape, inputShape)
		}
		return nil
	}
	if len(inputShape) == 0 {
		return fmt.Errorf("layers: %s: input shape %v has no batch dimension", b.name, inputShape)
	}
	if err := build(inputShape); err != nil {
		b.err = err
		b.trainable, b.fixed = nil, nil
		return err
	}
	b.inShape = append([]int{}, inputShape[1:]...)
	return nil
}

// AddWeight creates the weight scope/name (e.g. "bn/moving_mean") of the
// given shape filled by init (nil means zeros) from a generator seeded
// with DeriveSeed(seed, full name), and lists it as trainable or not.
func (b *Base) AddWeight(name string, shape []int, init initializers.Initializer, trainable bool) *autograd.Var {
	if init == nil {
		init = initializers.Zeros{}
	}
	v := newVariable(b.name, name, shape, init, b.seed)
	if trainable {
		b.trainable = append(b.trainable, v)
	} else {
		b.fixed = append(b.fixed, v)
	}
	return v
}

// errorf returns an error prefixed with the layer's kind and name, the
// form every layer error takes ("layers: Conv1D c1: …").
func (b *Base) errorf(kind, format string, args ...any) error {
	return fmt.Errorf("layers: %s %s: %s", kind, b.name, fmt.Sprintf(format, args...))
}

// Stateful is a layer with non-trainable weights, which Sequential and
// Model list after the trainable ones in Weights so that checkpoints hold
// them.
type Stateful interface {
	NonTrainable() []*autograd.Var
}

// nonTrainable returns l's non-trainable weights, or nil.
func nonTrainable(l any) []*autograd.Var {
	if s, ok := l.(Stateful); ok {
		return s.NonTrainable()
	}
	return nil
}

// MultiLayer is a layer of several inputs, such as Add or Concatenate.
// Model applies it with ApplyN.
type MultiLayer interface {
	// Name returns the layer's scope.
	Name() string
	// OutputShapeN returns the output shape for inputs of the given
	// shapes (batch first).
	OutputShapeN(inputShapes [][]int) ([]int, error)
	// CallN applies the layer. Errors travel in the returned Var.
	CallN(xs []*autograd.Var, ctx Context) *autograd.Var
}
