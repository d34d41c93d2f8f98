package layers

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/nn"
)

// PoolConfig holds tf.layers.max_pooling2d / average_pooling2d's
// arguments.
type PoolConfig struct {
	// PoolSize is [PH, PW], or one value for both (required).
	PoolSize []int
	// Strides is one value or [SH, SW]; nil means PoolSize (as in Keras).
	Strides []int
	// Padding is "SAME" or "VALID"; "" means VALID.
	Padding string
}

// pool is the shared part of the two pooling layers.
type pool struct {
	name string
	kind string
	cfg  PoolConfig
	rank int // spatial dimensions: 1, 2 (also 0) or 3
}

func (p *pool) spatial() int {
	if p.rank == 0 {
		return 2
	}
	return p.rank
}

func (p *pool) options(in []int) (nn.PoolOptions, []int, []int, error) {
	wrap := func(e error) error { return fmt.Errorf("layers: %s %s: %w", p.kind, p.name, e) }
	n := p.spatial()
	if len(p.cfg.PoolSize) == 0 {
		return nn.PoolOptions{}, nil, nil, wrap(fmt.Errorf("pool size is required"))
	}
	k, err := tuple("pool size", p.cfg.PoolSize, n, 1)
	if err != nil {
		return nn.PoolOptions{}, k, k, wrap(err)
	}
	s := k
	if p.cfg.Strides != nil {
		if s, err = tuple("strides", p.cfg.Strides, n, 1); err != nil {
			return nn.PoolOptions{}, k, s, wrap(err)
		}
	}
	pad, err := padding(p.cfg.Padding)
	if err != nil {
		return nn.PoolOptions{}, k, s, wrap(err)
	}
	if len(in) != n+2 {
		return nn.PoolOptions{}, k, s, wrap(fmt.Errorf("input must be %s (rank %d), got shape %v", []string{"", "NWC", "NHWC", "NDHWC"}[n], n+2, in))
	}
	return nn.PoolOptions{KSize: k, Strides: s, Padding: pad}, k, s, nil
}

func (p *pool) outputShape(in []int) ([]int, error) {
	o, k, s, err := p.options(in)
	if err != nil {
		return nil, err
	}
	n := p.spatial()
	out := append([]int(nil), in...)
	for i := range n {
		if out[1+i], err = nn.OutputSize(in[1+i], k[i], s[i], 1, o.Padding); err != nil {
			return nil, fmt.Errorf("layers: %s %s on input %v: %w", p.kind, p.name, in, err)
		}
	}
	return out, nil
}

// Config returns the layer's configuration.
func (p *pool) Config() PoolConfig { return p.cfg }

// MaxPooling2D takes the maximum over each PH×PW window of NHWC input
// (padded cells are ignored under SAME). Output [N, OH, OW, C] with the
// sizes of nn.OutputSize. It has no variables.
type MaxPooling2D struct{ pool }

// NewMaxPooling2D returns a MaxPooling2D layer with scope name.
func NewMaxPooling2D(name string, cfg PoolConfig) *MaxPooling2D {
	return &MaxPooling2D{pool{name: name, kind: "MaxPooling2D", cfg: cfg}}
}

// Call returns max_pool(x). While training it records the argmax
// (autograd.MaxPoolWithArgmax) so that the backward pass does not scan x
// again; otherwise it skips that bookkeeping (autograd.MaxPool). Both
// give the same value and gradient.
func (l *MaxPooling2D) Call(x *autograd.Var, ctx Context) *autograd.Var { return l.maxPoolCall(x, ctx) }

// AveragePooling2D averages each PH×PW window of NHWC input (under SAME,
// over the real cells only, as TensorFlow does). It has no variables.
type AveragePooling2D struct{ pool }

// NewAveragePooling2D returns an AveragePooling2D layer with scope name.
func NewAveragePooling2D(name string, cfg PoolConfig) *AveragePooling2D {
	return &AveragePooling2D{pool{name: name, kind: "AveragePooling2D", cfg: cfg}}
}

// Call returns avg_pool(x).
func (l *AveragePooling2D) Call(x *autograd.Var, _ Context) *autograd.Var { return l.avgPoolCall(x) }
