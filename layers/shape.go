package layers

import (
	"fmt"
	"slices"

	"github.com/convnet-go/convnet/autograd"
)

// Flatten reshapes [N, d1, …, dk] to [N, d1·…·dk], keeping the row-major
// order (so an NHWC feature map flattens as TensorFlow's reshape does).
type Flatten struct{ name string }

// NewFlatten returns a Flatten layer with scope name.
func NewFlatten(name string) *Flatten { return &Flatten{name: name} }

// Name returns the layer's scope.
func (l *Flatten) Name() string { return l.name }

// OutputShape returns [N, d1·…·dk].
func (l *Flatten) OutputShape(in []int) ([]int, error) {
	if err := l.Build(in); err != nil {
		return nil, err
	}
	n := 1
	for _, d := range in[1:] {
		n *= d
	}
	return []int{in[0], n}, nil
}

// Build checks the input shape (without building the output shape: a
// model calls Build on every call).
func (l *Flatten) Build(in []int) error {
	if len(in) < 2 {
		return fmt.Errorf("layers: Flatten %s: input needs a batch and at least one more dimension, got shape %v", l.name, slices.Clone(in))
	}
	return nil
}

// Call returns x reshaped to [N, d1·…·dk].
func (l *Flatten) Call(x *autograd.Var, _ Context) *autograd.Var { return reshaped(x, l.OutputShape) }

// reshaped returns x viewed with the shape outputShape gives for x's
// shape: the Call of Flatten and Reshape.
func reshaped(x *autograd.Var, outputShape func(in []int) ([]int, error)) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	out, err := outputShape(shapeOf(x))
	if err != nil {
		return autograd.Failed(err)
	}
	return autograd.Reshape(x, out...)
}

// Variables returns nil.
func (l *Flatten) Variables() []*autograd.Var { return nil }

// Dropout zeroes each value with probability Rate while training and
// scales the kept ones by 1/(1 − Rate), so the expected value is
// unchanged; outside training it is the identity. Rate is the fraction
// dropped, as in tf.layers.dropout (the lecture's keep_prob 0.75 is rate
// 0.25). The mask's seed is DeriveSeed(Seed, name, Context.Step).
type Dropout struct {
	name string
	rate float32
	seed uint64
}

// NewDropout returns a Dropout layer with scope name, drop rate in [0, 1)
// and seed.
func NewDropout(name string, rate float32, seed uint64) *Dropout {
	return &Dropout{name: name, rate: rate, seed: seed}
}

// Name returns the layer's scope.
func (l *Dropout) Name() string { return l.name }

// Rate returns the drop rate.
func (l *Dropout) Rate() float32 { return l.rate }

func (l *Dropout) check() error {
	if !(l.rate >= 0 && l.rate < 1) {
		return fmt.Errorf("layers: Dropout %s: rate must be in [0, 1), got %v", l.name, l.rate)
	}
	return nil
}

// OutputShape returns the input shape.
func (l *Dropout) OutputShape(in []int) ([]int, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	return append([]int(nil), in...), nil
}

// Build checks the rate.
func (l *Dropout) Build(in []int) error { return l.check() }

// Call applies dropout when ctx.Training and returns x unchanged
// otherwise.
func (l *Dropout) Call(x *autograd.Var, ctx Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if err := l.check(); err != nil {
		return autograd.Failed(err)
	}
	if !ctx.Training || l.rate == 0 {
		return x
	}
	return autograd.Dropout(x, l.rate, DeriveSeed(l.seed, l.name, ctx.Step), true)
}

// Variables returns nil.
func (l *Dropout) Variables() []*autograd.Var { return nil }
