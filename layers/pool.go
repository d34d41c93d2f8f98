package layers

import (
	"fmt"
	"slices"
	"sync"

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

	// win is the window, strides and padding of cfg, expanded once (a
	// call then allocates nothing for them).
	win struct {
		once sync.Once
		k, s []int
		pad  string
		err  error // unwrapped
	}
}

func (p *pool) spatial() int {
	if p.rank == 0 {
		return 2
	}
	return p.rank
}

// window expands cfg's pool size, strides and padding (once).
func (p *pool) window() (k, s []int, pad string, err error) {
	w := &p.win
	w.once.Do(func() {
		n := p.spatial()
		if len(p.cfg.PoolSize) == 0 {
			w.err = fmt.Errorf("pool size is required")
			return
		}
		if w.k, w.err = tuple("pool size", p.cfg.PoolSize, n, 1); w.err != nil {
			return
		}
		w.s = w.k
		if p.cfg.Strides != nil {
			if w.s, w.err = tuple("strides", p.cfg.Strides, n, 1); w.err != nil {
				return
			}
		}
		w.pad, w.err = padding(p.cfg.Padding)
	})
	return w.k, w.s, w.pad, w.err
}

func (p *pool) options(in []int) (nn.PoolOptions, []int, []int, error) {
	wrap := func(e error) error { return fmt.Errorf("layers: %s %s: %w", p.kind, p.name, e) }
	k, s, pad, err := p.window()
	if err != nil {
		return nn.PoolOptions{}, k, s, wrap(err)
	}
	if n := p.spatial(); len(in) != n+2 {
		return nn.PoolOptions{}, k, s, wrap(fmt.Errorf("input must be %s (rank %d), got shape %v", []string{"", "NWC", "NHWC", "NDHWC"}[n], n+2, slices.Clone(in)))
	}
	return nn.PoolOptions{KSize: k, Strides: s, Padding: pad}, k, s, nil
}

// outputSizes writes the spatial output sizes for input shape in into
// out (which may be in itself), or returns the error of a configuration
// or shape that does not fit.
func (p *pool) outputSizes(in, out []int) error {
	o, k, s, err := p.options(in)
	if err != nil {
		return err
	}
	for i := range p.spatial() {
		size, err := nn.OutputSize(in[1+i], k[i], s[i], 1, o.Padding)
		if err != nil {
			return fmt.Errorf("layers: %s %s on input %v: %w", p.kind, p.name, slices.Clone(in), err)
		}
		if out != nil {
			out[1+i] = size
		}
	}
	return nil
}

func (p *pool) outputShape(in []int) ([]int, error) {
	out := slices.Clone(in)
	if err := p.outputSizes(in, out); err != nil {
		return nil, err
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
