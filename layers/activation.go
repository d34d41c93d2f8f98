package layers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// activations maps Keras's activation names to functions on Vars.
var activations = map[string]Activation{
	"linear":       nil,
	"relu":         autograd.Relu,
	"relu6":        autograd.Relu6,
	"elu":          autograd.Elu,
	"selu":         autograd.Selu,
	"gelu":         func(x *autograd.Var) *autograd.Var { return autograd.Gelu(x, false) },
	"gelu_new":     func(x *autograd.Var) *autograd.Var { return autograd.Gelu(x, true) },
	"mish":         func(x *autograd.Var) *autograd.Var { return autograd.Mul(x, autograd.Tanh(autograd.Softplus(x))) },
	"sigmoid":      autograd.Sigmoid,
	"hard_sigmoid": autograd.HardSigmoid,
	"tanh":         autograd.Tanh,
	"softmax":      autograd.Softmax,
	"softplus":     autograd.Softplus,
	"softsign":     autograd.Softsign,
	"swish":        autograd.Swish,
	"silu":         autograd.Swish,
	"exponential":  autograd.Exp,
}

// ActivationByName returns Keras's activation of that name: "relu",
// "relu6", "elu", "selu", "gelu" (the exact erf form, Keras's default),
// "gelu_new" (the tanh approximation), "mish" (x·tanh(softplus(x))),
// "sigmoid", "hard_sigmoid", "tanh", "softmax" (over the last axis),
// "softplus", "softsign", "swish" (also "silu"), "exponential", and
// "linear" or "" for the identity, which is a nil Activation. TF.js's
// camel-case "hardSigmoid" is accepted too.
func ActivationByName(name string) (Activation, error) {
	if name == "" {
		return nil, nil
	}
	if name == "hardSigmoid" {
		name = "hard_sigmoid"
	}
	a, ok := activations[name]
	if !ok {
		names := make([]string, 0, len(activations))
		for n := range activations {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("layers: unknown activation %q, want one of %s", name, strings.Join(names, ", "))
	}
	return a, nil
}

// elementwise is a variable-free layer that keeps its input's shape.
type elementwise struct {
	name string
	kind string
	err  error // a bad configuration, reported by Build and Call
	f    func(x *autograd.Var, ctx Context) *autograd.Var
}

// Name returns the layer's scope.
func (l *elementwise) Name() string { return l.name }

// OutputShape returns the input shape.
func (l *elementwise) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, l.err
	}
	return append([]int(nil), in...), nil
}

// Build reports a bad configuration.
func (l *elementwise) Build(in []int) error { return l.err }

// Call applies the function.
func (l *elementwise) Call(x *autograd.Var, ctx Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if l.err != nil {
		return autograd.Failed(l.err)
	}
	return l.f(x, ctx)
}

// Variables returns nil.
func (l *elementwise) Variables() []*autograd.Var { return nil }

// ActivationLayer is Keras's Activation layer: y = f(x) for the
// activation named in NewActivation.
type ActivationLayer struct {
	elementwise
	act Activation // nil for "linear" or an unknown name
}

// NewActivation returns an Activation layer applying Keras's activation
// called activation (see ActivationByName); an unknown name is reported
// when the layer is built.
func NewActivation(name, activation string) *ActivationLayer {
	a, err := ActivationByName(activation)
	if err != nil {
		err = fmt.Errorf("layers: Activation %s: %w", name, err)
	}
	return &ActivationLayer{elementwise: elementwise{name: name, kind: "Activation", err: err,
		f: func(x *autograd.Var, _ Context) *autograd.Var { return apply(a, x) }}, act: a}
}

// ReLU is Keras's ReLU layer with its defaults: y = max(x, 0).
type ReLU struct{ elementwise }

// NewReLU returns a ReLU layer with scope name.
func NewReLU(name string) *ReLU {
	return &ReLU{elementwise{name: name, kind: "ReLU", f: func(x *autograd.Var, _ Context) *autograd.Var { return autograd.Relu(x) }}}
}

// LeakyReLU is Keras's LeakyReLU: y = x for x > 0, alpha·x otherwise.
type LeakyReLU struct{ elementwise }

// NewLeakyReLU returns a LeakyReLU layer; Keras's default alpha is 0.3.
func NewLeakyReLU(name string, alpha float32) *LeakyReLU {
	return &LeakyReLU{elementwise{name: name, kind: "LeakyReLU",
		f: func(x *autograd.Var, _ Context) *autograd.Var { return autograd.LeakyRelu(x, alpha) }}}
}

// SpatialDropout2D is Keras's SpatialDropout2D: while training it drops
// whole channels of NHWC input (one draw per example and channel, rate
// the fraction dropped) and scales the kept ones by 1/(1 − rate);
// otherwise it is the identity. The mask's seed is DeriveSeed(seed, name,
// Context.Step), as Dropout's.
type SpatialDropout2D struct {
	elementwise
	rate float32
	seed uint64
}

// NewSpatialDropout2D returns a SpatialDropout2D layer with drop rate in
// [0, 1) and seed.
func NewSpatialDropout2D(name string, rate float32, seed uint64) *SpatialDropout2D {
	l := &SpatialDropout2D{rate: rate, seed: seed}
	l.elementwise = elementwise{name: name, kind: "SpatialDropout2D", f: l.drop}
	if !(rate >= 0 && rate < 1) {
		l.err = fmt.Errorf("layers: SpatialDropout2D %s: rate must be in [0, 1), got %v", name, rate)
	}
	return l
}

// drop multiplies x by the channel mask expanded over H×W.
func (l *SpatialDropout2D) drop(x *autograd.Var, ctx Context) *autograd.Var {
	s := shapeOf(x)
	if len(s) != 4 {
		return autograd.Failed(fmt.Errorf("layers: SpatialDropout2D %s: input must be NHWC (rank 4), got shape %v", l.name, s))
	}
	if !ctx.Training || l.rate == 0 {
		return x
	}
	n, hw, c := s[0], s[1]*s[2], s[3]
	r := tensor.NewRand(DeriveSeed(l.seed, l.name, ctx.Step))
	keep := make([]float32, n*c)
	for i := range keep {
		if r.Float32() >= l.rate {
			keep[i] = 1 / (1 - l.rate)
		}
	}
	mask := tensor.Zeros(s...)
	md := mask.Data()
	for b := range n {
		for p := range hw {
			copy(md[(b*hw+p)*c:(b*hw+p+1)*c], keep[b*c:(b+1)*c])
		}
	}
	return autograd.Mul(x, autograd.Constant(mask))
}

// Reshape is Keras's Reshape: [N, …] → [N, TargetShape…] keeping the
// row-major order; one target dimension may be −1 (inferred).
type Reshape struct {
	name   string
	target []int
}

// NewReshape returns a Reshape layer to [N, target...].
func NewReshape(name string, target ...int) *Reshape {
	return &Reshape{name: name, target: append([]int(nil), target...)}
}

// Name returns the layer's scope.
func (l *Reshape) Name() string { return l.name }

// OutputShape returns [N, target...] with −1 resolved.
func (l *Reshape) OutputShape(in []int) ([]int, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("layers: Reshape %s: input has no batch dimension", l.name)
	}
	size := tensor.Size(in[1:])
	out := append([]int{in[0]}, l.target...)
	known, free := 1, -1
	for i, d := range l.target {
		switch {
		case d == -1 && free < 0:
			free = i
		case d < 1:
			return nil, fmt.Errorf("layers: Reshape %s: target %v needs positive dimensions and at most one −1", l.name, l.target)
		default:
			known *= d
		}
	}
	if free >= 0 {
		if known == 0 || size%known != 0 {
			return nil, fmt.Errorf("layers: Reshape %s: cannot reshape %v (%d values per example) to %v", l.name, in, size, l.target)
		}
		out[1+free] = size / known
		known = size
	}
	if known != size {
		return nil, fmt.Errorf("layers: Reshape %s: cannot reshape %v (%d values per example) to %v (%d)", l.name, in, size, l.target, known)
	}
	return out, nil
}

// Build checks the target against the input shape.
func (l *Reshape) Build(in []int) error { _, err := l.OutputShape(in); return err }

// Call returns x viewed as [N, target...].
func (l *Reshape) Call(x *autograd.Var, _ Context) *autograd.Var { return reshaped(x, l.OutputShape) }

// Variables returns nil.
func (l *Reshape) Variables() []*autograd.Var { return nil }
