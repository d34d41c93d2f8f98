package layers

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/nn"
)

// The convolution layers besides Conv2D (conv.go): Conv1D, Conv3D,
// DepthwiseConv2D, SeparableConv2D and Conv2DTranspose, Keras's layers of
// those names on channels-last data. Shape legend: N batch; D, H, W
// spatial sizes; C input channels; K filters; M depth multiplier; KD,
// KH, KW the window. All validation happens once, in geometry.

// ConvConfig holds the arguments of Keras's convolution layers. The zero
// value of each optional field is Keras's default. Conv2DConfig is the
// same type.
type ConvConfig struct {
	// Filters is K, the number of output channels (required, > 0; not
	// used by DepthwiseConv2D, whose output has C·M channels).
	Filters int
	// KernelSize is the window, one value per spatial dimension or one
	// value for all (required).
	KernelSize []int
	// Strides is one value or one per spatial dimension; nil means 1.
	Strides []int
	// Padding is "SAME" or "VALID" (either case); "" means VALID.
	Padding string
	// DilationRate is one value or one per spatial dimension; nil means
	// 1. Strides and dilations above 1 cannot be combined (as in TF).
	DilationRate []int
	// DepthMultiplier is M for DepthwiseConv2D and SeparableConv2D; 0
	// means 1.
	DepthMultiplier int
	// Activation is applied to conv + bias; nil is linear.
	Activation Activation
	// KernelInitializer fills the kernel; nil means GlorotUniform. For
	// DepthwiseConv2D and SeparableConv2D, DepthwiseInitializer and
	// PointwiseInitializer fill the two kernels (nil: GlorotUniform).
	KernelInitializer, DepthwiseInitializer, PointwiseInitializer initializers.Initializer
	// BiasInitializer fills the [K] bias; nil means Zeros.
	BiasInitializer initializers.Initializer
	// KernelRegularizer and BiasRegularizer add penalties to Losses.
	KernelRegularizer, BiasRegularizer Regularizer
	// NoBias drops the bias (Keras use_bias=False).
	NoBias bool
	// Seed seeds the initializers (mixed with the variable names).
	Seed uint64
}

// convKind identifies one of the layers of this file.
type convKind int

const (
	kindConv1D convKind = iota
	kindConv3D
	kindDepthwise
	kindSeparable
	kindTranspose
)

var convKindNames = [...]string{"Conv1D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"}

// convLayer is the shared implementation; the exported types wrap it.
type convLayer struct {
	Base
	kind convKind
	cfg  ConvConfig
	// The weights: kernel (or the depthwise kernel), the pointwise kernel
	// of SeparableConv2D, and the bias.
	kernel, pointwise, bias *autograd.Var
}

// spatial returns the number of spatial dimensions.
func (l *convLayer) spatial() int {
	switch l.kind {
	case kindConv1D:
		return 1
	case kindConv3D:
		return 3
	}
	return 2
}

// convGeom is a validated configuration for one input shape.
type convGeom struct {
	k, s, d []int
	pad     string
	m       int // depth multiplier
}

// tuple expands a parameter given as nil (def), one value or n values.
func tuple(name string, v []int, n, def int) ([]int, error) {
	out := make([]int, n)
	switch len(v) {
	case 0:
		for i := range out {
			out[i] = def
		}
		return out, nil
	case 1:
		for i := range out {
			out[i] = v[0]
		}
	case n:
		copy(out, v)
	default:
		return nil, fmt.Errorf("%s must be one or %d positive values, got %v", name, n, v)
	}
	for _, x := range out {
		if x < 1 {
			return nil, fmt.Errorf("%s must be one or %d positive values, got %v", name, n, v)
		}
	}
	return out, nil
}

// geometry checks the configuration against an input shape.
func (l *convLayer) geometry(in []int) (g convGeom, err error) {
	kind := convKindNames[l.kind]
	wrap := func(e error) error { return fmt.Errorf("layers: %s %s: %w", kind, l.name, e) }
	n := l.spatial()
	if l.kind != kindDepthwise && l.cfg.Filters < 1 {
		return g, wrap(fmt.Errorf("filters must be positive, got %d", l.cfg.Filters))
	}
	if len(l.cfg.KernelSize) == 0 {
		return g, wrap(fmt.Errorf("kernel size is required"))
	}
	if g.k, err = tuple("kernel size", l.cfg.KernelSize, n, 1); err != nil {
		return g, wrap(err)
	}
	if g.s, err = tuple("strides", l.cfg.Strides, n, 1); err != nil {
		return g, wrap(err)
	}
	if g.d, err = tuple("dilation rate", l.cfg.DilationRate, n, 1); err != nil {
		return g, wrap(err)
	}
	if above1(g.s) && above1(g.d) {
		return g, wrap(fmt.Errorf("strides %v and dilation rate %v cannot both exceed 1", g.s, g.d))
	}
	if l.kind == kindTranspose && above1(g.d) {
		return g, wrap(fmt.Errorf("dilation rate %v is not supported (only 1)", g.d))
	}
	g.m = l.cfg.DepthMultiplier
	if g.m == 0 {
		g.m = 1
	}
	if g.m < 1 {
		return g, wrap(fmt.Errorf("depth multiplier must be positive, got %d", l.cfg.DepthMultiplier))
	}
	if g.pad, err = padding(l.cfg.Padding); err != nil {
		return g, wrap(err)
	}
	if len(in) != n+2 || in[n+1] < 1 {
		return g, wrap(fmt.Errorf("input must be [N, %s, C] (rank %d) with C > 0, got shape %v", []string{"", "W", "H, W", "D, H, W"}[n], n+2, in))
	}
	return g, nil
}

func above1(v []int) bool {
	for _, x := range v {
		if x > 1 {
			return true
		}
	}
	return false
}

// outputShape returns the output shape for an input shape.
func (l *convLayer) outputShape(in []int) ([]int, error) {
	g, err := l.geometry(in)
	if err != nil {
		return nil, err
	}
	n := l.spatial()
	out := append([]int(nil), in...)
	for i := range n {
		if l.kind == kindTranspose {
			// Keras's deconv_output_length without output_padding.
			if g.pad == "SAME" {
				out[1+i] = in[1+i] * g.s[i]
			} else {
				out[1+i] = in[1+i]*g.s[i] + max(g.k[i]-g.s[i], 0)
			}
			continue
		}
		if out[1+i], err = nn.OutputSize(in[1+i], g.k[i], g.s[i], g.d[i], g.pad); err != nil {
			return nil, fmt.Errorf("layers: %s %s on input %v: %w", convKindNames[l.kind], l.name, in, err)
		}
	}
	out[n+1] = l.cfg.Filters
	if l.kind == kindDepthwise {
		out[n+1] = in[n+1] * g.m
	}
	return out, nil
}

func orInit(i, def initializers.Initializer) initializers.Initializer {
	if i == nil {
		return def
	}
	return i
}

// build creates the weights.
func (l *convLayer) build(in []int) error {
	return l.BuildOnce(in, func(in []int) error {
		g, err := l.geometry(in)
		if err != nil {
			return err
		}
		if _, err := l.outputShape(in); err != nil {
			return err
		}
		c := in[len(in)-1]
		glorot := initializers.GlorotUniform{}
		switch l.kind {
		case kindDepthwise:
			l.kernel = l.AddWeight("depthwise_kernel", []int{g.k[0], g.k[1], c, g.m}, orInit(l.cfg.DepthwiseInitializer, glorot), true)
		case kindSeparable:
			l.kernel = l.AddWeight("depthwise_kernel", []int{g.k[0], g.k[1], c, g.m}, orInit(l.cfg.DepthwiseInitializer, glorot), true)
			l.pointwise = l.AddWeight("pointwise_kernel", []int{1, 1, c * g.m, l.cfg.Filters}, orInit(l.cfg.PointwiseInitializer, glorot), true)
		case kindTranspose:
			l.kernel = l.AddWeight("kernel", []int{g.k[0], g.k[1], l.cfg.Filters, c}, orInit(l.cfg.KernelInitializer, glorot), true)
		default:
			l.kernel = l.AddWeight("kernel", append(append([]int(nil), g.k...), c, l.cfg.Filters), orInit(l.cfg.KernelInitializer, glorot), true)
		}
		if !l.cfg.NoBias {
			k := l.cfg.Filters
			if l.kind == kindDepthwise {
				k = c * g.m
			}
			l.bias = l.AddWeight("bias", []int{k}, orInit(l.cfg.BiasInitializer, initializers.Zeros{}), true)
		}
		return nil
	})
}

// call applies the layer.
func (l *convLayer) call(x *autograd.Var) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	in := shapeOf(x)
	if err := l.build(in); err != nil {
		return autograd.Failed(err)
	}
	g, _ := l.geometry(in)
	o := nn.ConvOptions{Strides: g.s, Padding: g.pad, Dilations: g.d}
	var y *autograd.Var
	switch l.kind {
	case kindConv1D:
		y = autograd.Conv1D(x, l.kernel, o)
	case kindConv3D:
		y = autograd.Conv3D(x, l.kernel, o)
	case kindDepthwise:
		y = autograd.DepthwiseConv2D(x, l.kernel, o)
	case kindSeparable:
		y = autograd.SeparableConv2D(x, l.kernel, l.pointwise, o)
	case kindTranspose:
		out, _ := l.outputShape(in)
		y = autograd.Conv2DTranspose(x, l.kernel, out, nn.ConvOptions{Strides: g.s, Padding: g.pad})
	}
	if l.bias == nil {
		return apply(l.cfg.Activation, y)
	}
	return biasThen(l.cfg.Activation, y, l.bias)
}

// losses returns the regularization penalties of the weights.
func (l *convLayer) losses() []*autograd.Var {
	var out []*autograd.Var
	for _, w := range []*autograd.Var{l.kernel, l.pointwise} {
		if w != nil && l.cfg.KernelRegularizer != nil {
			out = append(out, l.cfg.KernelRegularizer.Loss(w))
		}
	}
	if l.bias != nil && l.cfg.BiasRegularizer != nil {
		out = append(out, l.cfg.BiasRegularizer.Loss(l.bias))
	}
	return out
}

// Conv1D is Keras's Conv1D: x [N, W, C], kernel [KW, C, K], bias [K] →
// act(conv1d(x, kernel) + bias) [N, OW, K], OW as in nn.OutputSize.
type Conv1D struct{ convLayer }

// NewConv1D returns a Conv1D layer with scope name.
func NewConv1D(name string, cfg ConvConfig) *Conv1D {
	return &Conv1D{convLayer{Base: NewBase(name, cfg.Seed), kind: kindConv1D, cfg: cfg}}
}

// Conv3D is Keras's Conv3D: x [N, D, H, W, C], kernel [KD, KH, KW, C, K],
// bias [K] → act(conv3d(x, kernel) + bias) [N, OD, OH, OW, K].
type Conv3D struct{ convLayer }

// NewConv3D returns a Conv3D layer with scope name.
func NewConv3D(name string, cfg ConvConfig) *Conv3D {
	return &Conv3D{convLayer{Base: NewBase(name, cfg.Seed), kind: kindConv3D, cfg: cfg}}
}

// DepthwiseConv2D is Keras's DepthwiseConv2D: x [N, H, W, C],
// depthwise_kernel [KH, KW, C, M], bias [C·M] → [N, OH, OW, C·M], output
// channel c·M + m = Σ_{a,b} x[…, c]·kernel[a, b, c, m]. Filters is not used.
type DepthwiseConv2D struct{ convLayer }

// NewDepthwiseConv2D returns a DepthwiseConv2D layer with scope name.
func NewDepthwiseConv2D(name string, cfg ConvConfig) *DepthwiseConv2D {
	return &DepthwiseConv2D{convLayer{Base: NewBase(name, cfg.Seed), kind: kindDepthwise, cfg: cfg}}
}

// SeparableConv2D is Keras's SeparableConv2D: a depthwise convolution
// (depthwise_kernel [KH, KW, C, M], with the strides, padding and
// dilation) followed by a 1×1 convolution (pointwise_kernel
// [1, 1, C·M, K]) and bias [K] → [N, OH, OW, K].
type SeparableConv2D struct{ convLayer }

// NewSeparableConv2D returns a SeparableConv2D layer with scope name.
func NewSeparableConv2D(name string, cfg ConvConfig) *SeparableConv2D {
	return &SeparableConv2D{convLayer{Base: NewBase(name, cfg.Seed), kind: kindSeparable, cfg: cfg}}
}

// Conv2DTranspose is Keras's Conv2DTranspose (the gradient of Conv2D with
// respect to its input): x [N, H, W, C], kernel [KH, KW, K, C] (output
// channels before input channels, as in TF), bias [K] → [N, OH, OW, K]
// with OH = H·SH under SAME and H·SH + max(KH − SH, 0) under VALID.
// Dilation above 1 is rejected.
type Conv2DTranspose struct{ convLayer }

// NewConv2DTranspose returns a Conv2DTranspose layer with scope name.
func NewConv2DTranspose(name string, cfg ConvConfig) *Conv2DTranspose {
	return &Conv2DTranspose{convLayer{Base: NewBase(name, cfg.Seed), kind: kindTranspose, cfg: cfg}}
}

// Config returns the layer's configuration.
func (l *convLayer) Config() ConvConfig { return l.cfg }

// OutputShape returns the output shape for an input shape (batch first).
func (l *convLayer) OutputShape(in []int) ([]int, error) { return l.outputShape(in) }

// Build creates the layer's weights for inputs of the given shape.
func (l *convLayer) Build(in []int) error { return l.build(in) }

// Call applies the layer to x.
func (l *convLayer) Call(x *autograd.Var, _ Context) *autograd.Var { return l.call(x) }

// Losses returns the weights' regularization penalties (none without
// regularizers).
func (l *convLayer) Losses() []*autograd.Var { return l.losses() }
