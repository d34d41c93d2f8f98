package layers

import (
	"fmt"

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
	name string
	cfg  Conv2DConfig
	built
}

// NewConv2D returns a Conv2D layer with scope name. Its configuration is
// checked when it is built.
func NewConv2D(name string, cfg Conv2DConfig) *Conv2D {
	return &Conv2D{name: name, cfg: cfg}
}

// Name returns the layer's scope.
func (l *Conv2D) Name() string { return l.name }

// Config returns the layer's configuration.
func (l *Conv2D) Config() Conv2DConfig { return l.cfg }

// Kernel returns the [KH, KW, C, K] kernel variable (nil before Build).
func (l *Conv2D) Kernel() *autograd.Var { return l.varAt(0) }

// Bias returns the [K] bias variable (nil before Build or with NoBias).
func (l *Conv2D) Bias() *autograd.Var { return l.varAt(1) }

func (b *built) varAt(i int) *autograd.Var {
	if i < len(b.vars) {
		return b.vars[i]
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
	if done, err := l.checkRebuild(l.name, in); done {
		return err
	}
	if _, err := l.OutputShape(in); err != nil {
		l.err = err
		return err
	}
	k, _, _, _, _ := l.geometry(in)
	kinit, binit := l.cfg.KernelInitializer, l.cfg.BiasInitializer
	if kinit == nil {
		kinit = initializers.GlorotUniform{}
	}
	if binit == nil {
		binit = initializers.Zeros{}
	}
	l.vars = []*autograd.Var{newVariable(l.name, "kernel", []int{k[0], k[1], in[3], l.cfg.Filters}, kinit, l.cfg.Seed)}
	if !l.cfg.NoBias {
		l.vars = append(l.vars, newVariable(l.name, "bias", []int{l.cfg.Filters}, binit, l.cfg.Seed))
	}
	l.inShape = append([]int(nil), in[1:]...)
	return nil
}

// Call returns act(conv2d(x, kernel) + bias) for x [N, H, W, C].
func (l *Conv2D) Call(x *autograd.Var, _ Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if err := l.Build(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	_, s, d, pad, _ := l.geometry(shapeOf(x))
	o := nn.ConvOptions{Strides: s[:], Padding: pad, Dilations: d[:]}
	if !l.cfg.NoBias && isRelu(l.cfg.Activation) {
		// The bias and the ReLU ride on the convolution's output pass.
		return autograd.Conv2DBiasRelu(x, l.vars[0], l.vars[1], o)
	}
	y := autograd.Conv2D(x, l.vars[0], o)
	if l.cfg.NoBias {
		return apply(l.cfg.Activation, y)
	}
	return biasThen(l.cfg.Activation, y, l.vars[1])
}

// Losses returns the kernel's and bias's regularization penalties.
func (l *Conv2D) Losses() []*autograd.Var {
	return regularize(l.vars, l.cfg.KernelRegularizer, l.cfg.BiasRegularizer)
}

// Variables returns [kernel, bias] (just [kernel] with NoBias).
func (l *Conv2D) Variables() []*autograd.Var { return l.vars }
