package layers

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/nn"
)

// Pooling over one and three spatial dimensions, and global pooling. The
// windows follow MaxPooling2D and AveragePooling2D: PoolSize per spatial
// dimension (or one value for all), Strides defaulting to PoolSize,
// TensorFlow's SAME/VALID sizes.

// maxPoolCall and avgPoolCall are the Call bodies shared by every rank.
func (p *pool) maxPoolCall(x *autograd.Var, ctx Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	o, _, _, err := p.options(shapeOf(x))
	if err != nil {
		return autograd.Failed(err)
	}
	if ctx.Training {
		return autograd.MaxPoolWithArgmax(x, o)
	}
	return autograd.MaxPool(x, o)
}

func (p *pool) avgPoolCall(x *autograd.Var) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	o, _, _, err := p.options(shapeOf(x))
	if err != nil {
		return autograd.Failed(err)
	}
	return autograd.AvgPool(x, o)
}

// Name returns the layer's scope.
func (p *pool) Name() string { return p.name }

// OutputShape returns the pooled shape, channels unchanged.
func (p *pool) OutputShape(in []int) ([]int, error) { return p.outputShape(in) }

// Build checks the configuration against the input shape.
func (p *pool) Build(in []int) error { return p.outputSizes(in, nil) }

// Variables returns nil: pooling has no variables.
func (p *pool) Variables() []*autograd.Var { return nil }

// MaxPooling1D is Keras's MaxPooling1D on [N, W, C] → [N, OW, C].
type MaxPooling1D struct{ pool }

// NewMaxPooling1D returns a MaxPooling1D layer with scope name.
func NewMaxPooling1D(name string, cfg PoolConfig) *MaxPooling1D {
	return &MaxPooling1D{pool{name: name, kind: "MaxPooling1D", cfg: cfg, rank: 1}}
}

// Call returns the window maxima (the argmax recorded while training).
func (l *MaxPooling1D) Call(x *autograd.Var, ctx Context) *autograd.Var { return l.maxPoolCall(x, ctx) }

// MaxPooling3D is Keras's MaxPooling3D on [N, D, H, W, C] → [N, OD, OH, OW, C].
type MaxPooling3D struct{ pool }

// NewMaxPooling3D returns a MaxPooling3D layer with scope name.
func NewMaxPooling3D(name string, cfg PoolConfig) *MaxPooling3D {
	return &MaxPooling3D{pool{name: name, kind: "MaxPooling3D", cfg: cfg, rank: 3}}
}

// Call returns the window maxima.
func (l *MaxPooling3D) Call(x *autograd.Var, ctx Context) *autograd.Var { return l.maxPoolCall(x, ctx) }

// AveragePooling1D is Keras's AveragePooling1D on [N, W, C] → [N, OW, C]
// (under SAME, averages over the real cells only).
type AveragePooling1D struct{ pool }

// NewAveragePooling1D returns an AveragePooling1D layer with scope name.
func NewAveragePooling1D(name string, cfg PoolConfig) *AveragePooling1D {
	return &AveragePooling1D{pool{name: name, kind: "AveragePooling1D", cfg: cfg, rank: 1}}
}

// Call returns the window averages.
func (l *AveragePooling1D) Call(x *autograd.Var, _ Context) *autograd.Var { return l.avgPoolCall(x) }

// AveragePooling3D is Keras's AveragePooling3D on [N, D, H, W, C].
type AveragePooling3D struct{ pool }

// NewAveragePooling3D returns an AveragePooling3D layer with scope name.
func NewAveragePooling3D(name string, cfg PoolConfig) *AveragePooling3D {
	return &AveragePooling3D{pool{name: name, kind: "AveragePooling3D", cfg: cfg, rank: 3}}
}

// Call returns the window averages.
func (l *AveragePooling3D) Call(x *autograd.Var, _ Context) *autograd.Var { return l.avgPoolCall(x) }

// global is the shared part of the global pooling layers: one window
// covering all of H×W, then the two size-1 axes dropped.
type global struct {
	name string
	kind string
	max  bool
}

// Name returns the layer's scope.
func (g *global) Name() string { return g.name }

// OutputShape returns [N, C] for [N, H, W, C].
func (g *global) OutputShape(in []int) ([]int, error) {
	if len(in) != 4 || in[1] < 1 || in[2] < 1 {
		return nil, fmt.Errorf("layers: %s %s: input must be NHWC (rank 4) with H, W > 0, got shape %v", g.kind, g.name, in)
	}
	return []int{in[0], in[3]}, nil
}

// Build checks the input shape.
func (g *global) Build(in []int) error { _, err := g.OutputShape(in); return err }

// Variables returns nil.
func (g *global) Variables() []*autograd.Var { return nil }

// Call pools every H×W plane to one value per channel.
func (g *global) Call(x *autograd.Var, _ Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	in := shapeOf(x)
	out, err := g.OutputShape(in)
	if err != nil {
		return autograd.Failed(err)
	}
	o := nn.PoolOptions{KSize: []int{in[1], in[2]}, Strides: []int{1, 1}, Padding: "VALID"}
	if g.max {
		return autograd.Reshape(autograd.MaxPool(x, o), out...)
	}
	return autograd.Reshape(autograd.AvgPool(x, o), out...)
}

// GlobalAveragePooling2D is Keras's GlobalAveragePooling2D: [N, H, W, C]
// → [N, C], y[n, c] = Σ_{h,w} x[n, h, w, c]/(H·W).
type GlobalAveragePooling2D struct{ global }

// NewGlobalAveragePooling2D returns a GlobalAveragePooling2D layer.
func NewGlobalAveragePooling2D(name string) *GlobalAveragePooling2D {
	return &GlobalAveragePooling2D{global{name: name, kind: "GlobalAveragePooling2D"}}
}

// GlobalMaxPooling2D is Keras's GlobalMaxPooling2D: [N, H, W, C] → [N, C],
// y[n, c] = max_{h,w} x[n, h, w, c].
type GlobalMaxPooling2D struct{ global }

// NewGlobalMaxPooling2D returns a GlobalMaxPooling2D layer.
func NewGlobalMaxPooling2D(name string) *GlobalMaxPooling2D {
	return &GlobalMaxPooling2D{global{name: name, kind: "GlobalMaxPooling2D", max: true}}
}
