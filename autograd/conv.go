package autograd

import (
	"errors"
	"fmt"
	"slices"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Shapes (channels-last; channels-first via o.DataFormat): N batch,
// D/H/W spatial, C input channels, K output channels, M depth multiplier.
// Every backward here calls nn's gradient ops and nothing else.

type (
	convForward       func(input, filter *tensor.Tensor, o nn.ConvOptions) (*tensor.Tensor, error)
	convBackpropIn    func(inputShape []int, filter, grad *tensor.Tensor, o nn.ConvOptions) (*tensor.Tensor, error)
	convBackpropInAdd func(inputShape []int, filter, grad, add *tensor.Tensor, o nn.ConvOptions) (*tensor.Tensor, error)
	convBackpropFilt  func(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o nn.ConvOptions) (*tensor.Tensor, error)
)

// Conv1D is nn.Conv1D on Vars: x [N,W,C], w [KW,C,K] → [N,OW,K].
// ∂/∂x = nn.Conv1DBackpropInput, ∂/∂w = nn.Conv1DBackpropFilter.
func Conv1D(x, w *Var, o nn.ConvOptions) *Var {
	return conv("Conv1D", x, w, o, nn.Conv1D, nn.Conv1DBackpropInput, nil, nn.Conv1DBackpropFilter)
}

// Conv2D is nn.Conv2D on Vars: x [N,H,W,C], w [KH,KW,C,K] → [N,OH,OW,K].
// ∂/∂x = nn.Conv2DBackpropInput (nn.Conv2DBackpropInputAdd when x already
// has a gradient to add it to), ∂/∂w = nn.Conv2DBackpropFilter.
func Conv2D(x, w *Var, o nn.ConvOptions) *Var {
	forward := nn.Conv2D
	if w != nil {
		if p := w.packedOf(); p != nil {
			forward = func(input, _ *tensor.Tensor, o nn.ConvOptions) (*tensor.Tensor, error) {
				return nn.Conv2DPacked(input, p, o)
			}
		}
	}
	return conv("Conv2D", x, w, o, forward, nn.Conv2DBackpropInput, nn.Conv2DBackpropInputAdd, nn.Conv2DBackpropFilter)
}

// Conv2DBiasRelu is nn.Conv2DBiasRelu on Vars: relu(Conv2D(x, w) + bias),
// bias [K], in one op. Its gradient is that of the three ops in turn:
// nn.BiasAddReluGrad gives ∂/∂bias and the gradient of the convolution's
// output, which then gives ∂/∂x and ∂/∂w as Conv2D's do.
func Conv2DBiasRelu(x, w, bias *Var, o nn.ConvOptions) *Var {
	return conv2DBias("Conv2DBiasRelu", x, w, bias, nil, o, true)
}

// Conv2DBias is nn.Conv2DBias on Vars: Conv2D(x, w) + bias, bias [K], in
// one op, with the gradient of the two ops in turn: ∂/∂bias is
// nn.BiasAddGrad of the incoming gradient, which gives ∂/∂x and ∂/∂w as
// Conv2D's do.
func Conv2DBias(x, w, bias *Var, o nn.ConvOptions) *Var {
	return conv2DBias("Conv2DBias", x, w, bias, nil, o, false)
}

// Conv2DBiasAddRelu is nn.Conv2DBiasAddRelu on Vars: relu((Conv2D(x, w)
// + bias) + skip), a residual join, in one op, channels last. Its
// gradient is that of the ops in turn: g where the output is positive
// (nn.BiasAddReluGrad, which also sums ∂/∂bias) goes to skip as it is and
// to the convolution, as Conv2DBiasRelu's.
func Conv2DBiasAddRelu(x, w, bias, skip *Var, o nn.ConvOptions) *Var {
	if skip == nil {
		return failed("Conv2DBiasAddRelu", errors.New("autograd: Conv2DBiasAddRelu: skip is nil"))
	}
	return conv2DBias("Conv2DBiasAddRelu", x, w, bias, skip, o, true)
}

// conv2DBias is Conv2DBias, Conv2DBiasRelu when relu is set, or
// Conv2DBiasAddRelu with a skip (relu set), as op.
func conv2DBias(op string, x, w, bias, skip *Var, o nn.ConvOptions, relu bool) *Var {
	n := &convBiasReluVar{in: [4]*Var{x, w, bias, skip}, o: recordedConv(o), relu: relu}
	in := n.in[:3]
	if skip != nil {
		in = n.in[:4]
	}
	if err := inputErr(op, in...); err != nil {
		return failed(op, err)
	}
	var sv *tensor.Tensor
	if skip != nil {
		sv = skip.value
	}
	var y *tensor.Tensor
	var err error
	switch p := w.packedOf(); {
	case p != nil && skip != nil:
		y, err = nn.Conv2DBiasAddReluPacked(x.value, p, bias.value, sv, o)
	case p != nil && relu:
		y, err = nn.Conv2DBiasReluPacked(x.value, p, bias.value, o)
	case p != nil:
		y, err = nn.Conv2DBiasPacked(x.value, p, bias.value, o)
	case skip != nil:
		y, err = nn.Conv2DBiasAddRelu(x.value, w.value, bias.value, sv, o)
	case relu:
		y, err = nn.Conv2DBiasRelu(x.value, w.value, bias.value, o)
	default:
		y, err = nn.Conv2DBias(x.value, w.value, bias.value, o)
	}
	if err != nil {
		return opErr(op, err)
	}
	initNode(&n.Var, op, y, n, in)
	return &n.Var
}

// convBiasReluVar is the node of Conv2DBiasRelu (relu set), Conv2DBias
// and Conv2DBiasAddRelu (a skip): the Var, its inputs x, w, bias (and
// skip) and its options in one allocation (no closure).
type convBiasReluVar struct {
	Var
	in   [4]*Var         // x, w, bias, skip (nil without one)
	o    *nn.ConvOptions // read only (recordedConv)
	relu bool
}

// poolFusable reports whether a max pool that alone reads this op's
// output may take the ReLU's and the bias's gradients into its own pass
// (nn.MaxPoolBiasReluGrad): a ReLU and no skip.
func (n *convBiasReluVar) poolFusable() bool { return n.relu && n.in[3] == nil }

// backprop is the op's backward: dpre and ∂/∂bias from
// nn.BiasAddReluGrad(g, y), or g itself and nn.BiasAddGrad(g) without
// the ReLU, then fromPre; with a skip, dpre then goes to skip (whose own
// it becomes).
func (n *convBiasReluVar) backprop(g *tensor.Tensor) error {
	if !n.relu {
		db, err := nn.BiasAddGrad(g, n.o.DataFormat)
		if err != nil {
			return backErr(n.name, err)
		}
		return n.fromPre(g, db, false)
	}
	dpre, db, err := nn.BiasAddReluGrad(g, n.value, n.o.DataFormat)
	if err != nil {
		return backErr(n.name, err)
	}
	skip := n.in[3]
	if skip == nil || !skip.needed {
		return n.fromPre(dpre, db, true)
	}
	if err := n.fromPre(dpre, db, false); err != nil {
		return err
	}
	accumulate(skip, dpre, false)
	return nil
}

// fromPre finishes the backward from dpre, the gradient of the
// convolution's output before bias and ReLU, and db = ∂/∂bias: it adds
// db into bias and ∂/∂x, ∂/∂w (from dpre, as Conv2D's backward) into x
// and w. When own is set, dpre is the caller's own and goes back to the
// pool afterwards.
func (n *convBiasReluVar) fromPre(dpre, db *tensor.Tensor, own bool) error {
	op := n.name
	x, w, bias, o := n.in[0], n.in[1], n.in[2], *n.o
	if bias.needed {
		accumulate(bias, db, false)
	}
	if x.needed {
		if err := inputGrad(x, w, dpre, o, nn.Conv2DBackpropInput, nn.Conv2DBackpropInputAdd); err != nil {
			return backErr(op, err)
		}
	}
	if w.needed {
		dw, err := nn.Conv2DBackpropFilter(x.value, w.value.Shape(), dpre, o)
		if err != nil {
			return backErr(op, err)
		}
		accumulate(w, dw, false)
	}
	if own {
		// dpre is this op's own: nothing else holds it.
		recycle([]*tensor.Tensor{dpre})
	}
	return nil
}

// Conv3D is nn.Conv3D on Vars: x [N,D,H,W,C], w [KD,KH,KW,C,K] →
// [N,OD,OH,OW,K]. ∂/∂x = nn.Conv3DBackpropInput, ∂/∂w = nn.Conv3DBackpropFilter.
func Conv3D(x, w *Var, o nn.ConvOptions) *Var {
	return conv("Conv3D", x, w, o, nn.Conv3D, nn.Conv3DBackpropInput, nil, nn.Conv3DBackpropFilter)
}

// DepthwiseConv2D is nn.DepthwiseConv2D on Vars: x [N,H,W,C], w
// [KH,KW,C,M] → [N,OH,OW,C·M] with output channel c·M+m.
// ∂/∂x = nn.DepthwiseConv2DBackpropInput, ∂/∂w = nn.DepthwiseConv2DBackpropFilter.
func DepthwiseConv2D(x, w *Var, o nn.ConvOptions) *Var {
	return conv("DepthwiseConv2D", x, w, o, nn.DepthwiseConv2D, nn.DepthwiseConv2DBackpropInput, nil, nn.DepthwiseConv2DBackpropFilter)
}

// SeparableConv2D is tf.nn.separable_conv2d on Vars, built from two
// differentiable ops: DepthwiseConv2D(x, dw, o) followed by a 1x1 Conv2D
// with pw (stride 1, VALID, o's data format). x [N,H,W,C], dw
// [KH,KW,C,M], pw [1,1,C·M,K] → [N,OH,OW,K].
func SeparableConv2D(x, dw, pw *Var, o nn.ConvOptions) *Var {
	const op = "SeparableConv2D"
	if err := inputErr(op, x, dw, pw); err != nil {
		return failed(op, err)
	}
	if s := pw.value.Shape(); len(s) != 4 || s[0] != 1 || s[1] != 1 {
		return failed(op, fmt.Errorf("autograd: %s: pointwise filter must be [1,1,C·M,K], got %v", op, s))
	}
	mid := DepthwiseConv2D(x, dw, o)
	return Conv2D(mid, pw, nn.ConvOptions{Padding: "VALID", DataFormat: o.DataFormat})
}

// Conv2DTranspose is nn.Conv2DTranspose on Vars (tf.nn.conv2d_transpose):
// x [N,H,W,inC], w [KH,KW,outC,inC] → outputShape [N,OH,OW,outC].
// ∂/∂x = nn.Conv2D(g, w, o), ∂/∂w = nn.Conv2DBackpropFilter(g, w's shape, x, o).
func Conv2DTranspose(x, w *Var, outputShape []int, o nn.ConvOptions) *Var {
	const op = "Conv2DTranspose"
	if err := inputErr(op, x, w); err != nil {
		return failed(op, err)
	}
	o = cloneConv(o)
	y, err := nn.Conv2DTranspose(x.value, w.value, outputShape, o)
	if err != nil {
		return opErr(op, err)
	}
	return node(op, y, func(g *tensor.Tensor) error {
		if x.needed {
			dx, err := nn.Conv2D(g, w.value, o)
			if err != nil {
				return backErr(op, err)
			}
			fromOp(x, dx, g)
		}
		if w.needed {
			dw, err := nn.Conv2DBackpropFilter(g, w.value.Shape(), x.value, o)
			if err != nil {
				return backErr(op, err)
			}
			fromOp(w, dw, g)
		}
		return nil
	}, x, w)
}

// conv wraps a convolution with its two gradient ops; bInAdd, when not
// nil, is bIn summing into a gradient x already has (accumulateWith).
func conv(op string, x, w *Var, o nn.ConvOptions, fwd convForward, bIn convBackpropIn, bInAdd convBackpropInAdd, bFilt convBackpropFilt) *Var {
	if err := inputErr(op, x, w); err != nil {
		return failed(op, err)
	}
	o = cloneConv(o)
	y, err := fwd(x.value, w.value, o)
	if err != nil {
		return opErr(op, err)
	}
	return node(op, y, func(g *tensor.Tensor) error {
		if x.needed {
			if err := inputGrad(x, w, g, o, bIn, bInAdd); err != nil {
				return backErr(op, err)
			}
		}
		if w.needed {
			dw, err := bFilt(x.value, w.value.Shape(), g, o)
			if err != nil {
				return backErr(op, err)
			}
			fromOp(w, dw, g)
		}
		return nil
	}, x, w)
}

// inputGrad adds a convolution's ∂/∂x, from the gradient g of its output
// and its filter w, into x: bIn's result through fromOp, or, when x
// already has a gradient and bInAdd is not nil, bInAdd's, summed into
// that gradient as it is written (accumulateWith).
func inputGrad(x, w *Var, g *tensor.Tensor, o nn.ConvOptions, bIn convBackpropIn, bInAdd convBackpropInAdd) error {
	if bInAdd != nil && x.grad != nil {
		return accumulateWith(x, func(acc *tensor.Tensor) (*tensor.Tensor, error) {
			return bInAdd(x.value.Shape(), w.value, g, acc, o)
		})
	}
	dx, err := bIn(x.value.Shape(), w.value, g, o)
	if err != nil {
		return err
	}
	fromOp(x, dx, g)
	return nil
}

// cloneConv copies o's slices so a caller reusing them cannot change the
// recorded op before its backward runs.
func cloneConv(o nn.ConvOptions) nn.ConvOptions {
	o.Strides = cloneInts(o.Strides)
	o.Dilations = cloneInts(o.Dilations)
	o.ExplicitPaddings = append([][2]int(nil), o.ExplicitPaddings...)
	return o
}

// clonePool copies o's slices, as cloneConv does.
func clonePool(o nn.PoolOptions) nn.PoolOptions {
	o.KSize = cloneInts(o.KSize)
	o.Strides = cloneInts(o.Strides)
	o.ExplicitPaddings = append([][2]int(nil), o.ExplicitPaddings...)
	return o
}

// commonInts are the strides, dilations and window sizes most calls
// pass, shared read-only (nothing in autograd or nn writes options), so
// that recording them costs no allocation.
var commonInts = [][]int{
	{1}, {2}, {3},
	{1, 1}, {2, 2}, {3, 3},
	{1, 1, 1}, {2, 2, 2},
	{1, 1, 1, 1}, {1, 2, 2, 1}, {1, 3, 3, 1},
}

// recordedConv returns options equal to o for a node to keep, read
// only: a shared value from commonConv when o is one of the usual
// combinations (no allocation, and a pointer in the node instead of the
// 104-byte struct), else a copy (cloneConv) of its own.
func recordedConv(o nn.ConvOptions) *nn.ConvOptions {
	if len(o.ExplicitPaddings) == 0 {
		for _, c := range commonConv {
			if c.Padding == o.Padding && c.DataFormat == o.DataFormat &&
				slices.Equal(c.Strides, o.Strides) && slices.Equal(c.Dilations, o.Dilations) {
				return c
			}
		}
	}
	c := cloneConv(o)
	return &c
}

// recordedPool is recordedConv for pooling options (commonPool).
func recordedPool(o nn.PoolOptions) *nn.PoolOptions {
	if len(o.ExplicitPaddings) == 0 {
		for _, c := range commonPool {
			if c.Padding == o.Padding && c.DataFormat == o.DataFormat &&
				slices.Equal(c.KSize, o.KSize) && slices.Equal(c.Strides, o.Strides) {
				return c
			}
		}
	}
	c := clonePool(o)
	return &c
}

// commonConv and commonPool are the options layers pass most (2-D,
// channels-last, SAME or VALID), shared read-only by the nodes that
// record them. slices.Equal takes nil and empty alike, and so does nn.
var (
	commonConv = func() (cs []*nn.ConvOptions) {
		for _, pad := range []string{"SAME", "VALID"} {
			for _, s := range [][]int{nil, {1, 1}, {2, 2}, {1, 1, 1, 1}, {1, 2, 2, 1}} {
				for _, d := range [][]int{nil, {1, 1}, {1, 1, 1, 1}} {
					cs = append(cs, &nn.ConvOptions{Strides: s, Dilations: d, Padding: pad})
				}
			}
		}
		return cs
	}()
	commonPool = func() (cs []*nn.PoolOptions) {
		for _, pad := range []string{"VALID", "SAME"} {
			for _, k := range [][]int{{2, 2}, {3, 3}, {1, 2, 2, 1}, {1, 3, 3, 1}} {
				for _, s := range [][]int{{2, 2}, nil, {1, 1}, {1, 2, 2, 1}, {1, 1, 1, 1}} {
					cs = append(cs, &nn.PoolOptions{KSize: k, Strides: s, Padding: pad})
				}
			}
		}
		return cs
	}()
)

// cloneInts returns a copy of v that the caller cannot change: nil for
// an empty v, a shared commonInts entry when one equals v.
func cloneInts(v []int) []int {
	if len(v) == 0 {
		return nil
	}
	for _, c := range commonInts {
		if slices.Equal(c, v) {
			return c
		}
	}
	return slices.Clone(v)
}
