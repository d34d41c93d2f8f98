package layers

import (
	"fmt"
	"sync"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/nn"
)

// Conv2DConfig holds tf.layers.conv2d's arguments: it is ConvConfig,
// whose zero value of each optional field is Keras's default.
type Conv2DConfig = ConvConfig

// Conv2D is a 2-D convolution layer:
//
//	y[n,i,j,k] = act(Σ_{a,b,c} x[n, i·SH + a·DH − PT, j·SW + b·DW − PL, c] · kernel[a,b,c,k] + bias[k])
//
// on NHWC input, with TensorFlow's SAME/VALID padding (PT, PL the top and
// left padding). Output [N, OH, OW, K] with OH = ceil(H/SH) under SAME and
// ceil((H − (KH−1)·DH)/SH) under VALID.
type Conv2D struct {
	Base
	cfg Conv2DConfig

	// strides and dilations of cfg as nn takes them, made once by the
	// first Call (a call then allocates nothing for them).
	opts struct {
		once              sync.Once
		strides, dilation []int
	}
}

// NewConv2D returns a Conv2D layer with scope name. Its configuration is
// checked when it is built.
func NewConv2D(name string, cfg Conv2DConfig) *Conv2D {
	return &Conv2D{Base: NewBase(name, cfg.Seed), cfg: cfg}
}

// Config returns the layer's configuration.
func (l *Conv2D) Config() Conv2DConfig { return l.cfg }

// Kernel returns the [KH, KW, C, K] kernel variable (nil before Build).
func (l *Conv2D) Kernel() *autograd.Var { return varAt(l.trainable, 0) }

// Bias returns the [K] bias variable (nil before Build or with NoBias).
func (l *Conv2D) Bias() *autograd.Var { return varAt(l.trainable, 1) }

// varAt returns vs[i], or nil when vs is shorter.
func varAt(vs []*autograd.Var, i int) *autograd.Var {
	if i < len(vs) {
		return vs[i]
	}
	return nil
}

// geometry validates the configuration against an input shape.
func (l *Conv2D) geometry(in []int) (k, s, d [2]int, pad string, err error) {
	wrap := func(e error) error { return fmt.Errorf("layers: Conv2D %s: %w", l.name, e) }
	if l.cfg.Filters < 1 {
		return k, s, d, "", wrap(fmt.Errorf("filters must be positive, got %d", l.cfg.Filters))
	}
	if len(l.cfg.KernelSize) == 0 {
		return k, s, d, "", wrap(fmt.Errorf("kernel size is required"))
	}
	if k, err = pair("kernel size", l.cfg.KernelSize, 1); err != nil {
		return k, s, d, "", wrap(err)
	}
	if s, err = pair("strides", l.cfg.Strides, 1); err != nil {
		return k, s, d, "", wrap(err)
	}
	if d, err = pair("dilation rate", l.cfg.DilationRate, 1); err != nil {
		return k, s, d, "", wrap(err)
	}
	if (s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1) {
		return k, s, d, "", wrap(fmt.Errorf("strides %v and dilation rate %v cannot both exceed 1", s, d))
	}
	if pad, err = padding(l.cfg.Padding); err != nil {
		return k, s, d, "", wrap(err)
	}
	if len(in) != 4 {
		return k, s, d, "", wrap(fmt.Errorf("input must be NHWC (rank 4), got shape %v", in))
	}
	return k, s, d, pad, nil
}

// OutputShape returns [N, OH, OW, K] for an [N, H, W, C] input.
func (l *Conv2D) OutputShape(in []int) ([]int, error) {
	k, s, d, pad, err := l.geometry(in)
	if err != nil {
		return nil, err
	}
	out := []int{in[0], 0, 0, l.cfg.Filters}
	for i := range 2 {
		if out[1+i], err = nn.OutputSize(in[1+i], k[i], s[i], d[i], pad); err != nil {
			return nil, fmt.Errorf("layers: Conv2D %s on input %v: %w", l.name, in, err)
		}
	}
	return out, nil
}

// Build creates conv/kernel [KH, KW, C, K] and conv/bias [K].
func (l *Conv2D) Build(in []int) error {
	return l.BuildOnce(in, func(in []int) error {
		if _, err := l.OutputShape(in); err != nil {
			return err
		}
		k, _, _, _, _ := l.geometry(in)
		l.AddWeight("kernel", []int{k[0], k[1], in[3], l.cfg.Filters}, orInit(l.cfg.KernelInitializer, initializers.GlorotUniform{}), true)
		if !l.cfg.NoBias {
			l.AddWeight("bias", []int{l.cfg.Filters}, orInit(l.cfg.BiasInitializer, initializers.Zeros{}), true)
		}
		return nil
	})
}

// Call returns act(conv2d(x, kernel) + bias) for x [N, H, W, C].
func (l *Conv2D) Call(x *autograd.Var, _ Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if err := l.Build(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	o := l.options(shapeOf(x))
	switch {
	case l.cfg.NoBias:
		return apply(l.cfg.Activation, autograd.Conv2D(x, l.Kernel(), o))
	case isRelu(l.cfg.Activation):
		// The bias and the ReLU ride on the convolution's output pass.
		return autograd.Conv2DBiasRelu(x, l.Kernel(), l.Bias(), o)
	}
	// The bias rides on the output pass; another activation follows.
	return apply(l.cfg.Activation, autograd.Conv2DBias(x, l.Kernel(), l.Bias(), o))
}

// options returns the convolution's options for an input of shape in
// (the layer built).
func (l *Conv2D) options(in []int) nn.ConvOptions {
	_, s, d, pad, _ := l.geometry(in)
	l.opts.once.Do(func() { l.opts.strides, l.opts.dilation = []int{s[0], s[1]}, []int{d[0], d[1]} })
	return nn.ConvOptions{Strides: l.opts.strides, Padding: pad, Dilations: l.opts.dilation}
}

// callBNRelu is Call on ReLU(bn(x)) while training, the three in one op
// (autograd.FusedBatchNormReluConv2D, which never stores the batch
// norm's output): for a batch norm whose ReLU only this convolution
// reads (fusesBNReluConv).
func (l *Conv2D) callBNRelu(bn *BatchNormalization, x *autograd.Var) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if err := bn.Build(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	if err := l.Build(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	y := bn.trained(autograd.FusedBatchNormReluConv2D(x, bn.gamma, bn.beta, l.Kernel(), bn.epsilon(), l.options(shapeOf(x))))
	return apply(l.cfg.Activation, y)
}

// Losses returns the kernel's and bias's regularization penalties.
func (l *Conv2D) Losses() []*autograd.Var {
	return regularize(l.trainable, l.cfg.KernelRegularizer, l.cfg.BiasRegularizer)
}
