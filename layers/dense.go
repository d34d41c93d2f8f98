package layers

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
)

// DenseConfig holds tf.layers.dense's arguments.
type DenseConfig struct {
	// Units is D_out, the number of outputs (required, > 0).
	Units int
	// Activation is applied to x·kernel + bias; nil is linear.
	Activation Activation
	// KernelInitializer fills the [D_in, D_out] kernel; nil means
	// initializers.GlorotUniform.
	KernelInitializer initializers.Initializer
	// BiasInitializer fills the [D_out] bias; nil means initializers.Zeros.
	BiasInitializer initializers.Initializer
	// KernelRegularizer and BiasRegularizer add penalties to Losses.
	KernelRegularizer, BiasRegularizer Regularizer
	// NoBias drops the bias (Keras use_bias=False).
	NoBias bool
	// Seed seeds the initializers (mixed with the variable names).
	Seed uint64
}

// Dense is a fully connected layer: y = act(x·kernel + bias) for x
// [N, D_in], kernel [D_in, D_out], bias [D_out], y [N, D_out]. As in
// Keras, a higher-rank x [N, …, D_in] is transformed along its last axis
// into [N, …, D_out] (the same kernel at every position).
type Dense struct {
	Base
	cfg DenseConfig
}

// NewDense returns a Dense layer with scope name.
func NewDense(name string, cfg DenseConfig) *Dense {
	return &Dense{Base: NewBase(name, cfg.Seed), cfg: cfg}
}

// Config returns the layer's configuration.
func (l *Dense) Config() DenseConfig { return l.cfg }

// Kernel returns the [D_in, D_out] kernel variable (nil before Build).
func (l *Dense) Kernel() *autograd.Var { return varAt(l.trainable, 0) }

// Bias returns the [D_out] bias variable (nil before Build or with NoBias).
func (l *Dense) Bias() *autograd.Var { return varAt(l.trainable, 1) }

// OutputShape returns [N, …, D_out] for an [N, …, D_in] input.
func (l *Dense) OutputShape(in []int) ([]int, error) {
	if l.cfg.Units < 1 {
		return nil, fmt.Errorf("layers: Dense %s: units must be positive, got %d", l.name, l.cfg.Units)
	}
	if len(in) < 2 || in[len(in)-1] < 1 {
		return nil, fmt.Errorf("layers: Dense %s: input must be [N, …, D] with D > 0, got shape %v", l.name, in)
	}
	out := append([]int(nil), in...)
	out[len(out)-1] = l.cfg.Units
	return out, nil
}

// Build creates dense/kernel [D_in, D_out] and dense/bias [D_out].
func (l *Dense) Build(in []int) error {
	return l.BuildOnce(in, func(in []int) error {
		if _, err := l.OutputShape(in); err != nil {
			return err
		}
		l.AddWeight("kernel", []int{in[len(in)-1], l.cfg.Units}, orInit(l.cfg.KernelInitializer, initializers.GlorotUniform{}), true)
		if !l.cfg.NoBias {
			l.AddWeight("bias", []int{l.cfg.Units}, orInit(l.cfg.BiasInitializer, initializers.Zeros{}), true)
		}
		return nil
	})
}

// Call returns act(x·kernel + bias).
func (l *Dense) Call(x *autograd.Var, _ Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if err := l.Build(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	in := shapeOf(x)
	rows := x
	if len(in) > 2 {
		// [N, …, D_in] as [N·…, D_in] rows, reshaped back at the end.
		rows = autograd.Reshape(x, -1, in[len(in)-1])
	}
	y := autograd.MatMul(rows, l.Kernel(), false, false)
	if l.cfg.NoBias {
		y = apply(l.cfg.Activation, y)
	} else {
		y = biasThen(l.cfg.Activation, y, l.Bias())
	}
	if len(in) > 2 {
		out, _ := l.OutputShape(in)
		y = autograd.Reshape(y, out...)
	}
	return y
}

// Losses returns the kernel's and bias's regularization penalties.
func (l *Dense) Losses() []*autograd.Var {
	return regularize(l.trainable, l.cfg.KernelRegularizer, l.cfg.BiasRegularizer)
}
