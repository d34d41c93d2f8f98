package autograd

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Pooling, dense algebra, activations, losses and dropout on Vars. Each
// backward calls the nn gradient op named in the doc comment.

// MaxPool is nn.MaxPool on Vars (rank 3, 4 or 5 input).
// ∂/∂x = nn.MaxPoolGrad(x, g, o).
func MaxPool(x *Var, o nn.PoolOptions) *Var {
	const op = "MaxPool"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	y, err := nn.MaxPool(x.value, o)
	if err != nil {
		return opErr(op, err)
	}
	n := &maxPoolVar{x: [1]*Var{x}, o: recordedPool(o)}
	initNode(&n.Var, op, y, n, n.x[:])
	return &n.Var
}

// maxPoolVar is MaxPool's node: the Var, its input and its options in
// one allocation (no closure).
type maxPoolVar struct {
	Var
	x [1]*Var
	o *nn.PoolOptions // read only (recordedPool)
}

// backprop is MaxPool's backward: ∂/∂x = nn.MaxPoolGrad(x, g, o).
func (n *maxPoolVar) backprop(g *tensor.Tensor) error {
	x := n.x[0]
	if !x.needed {
		return nil
	}
	dx, err := nn.MaxPoolGrad(x.value, g, *n.o)
	if err != nil {
		return backErr("MaxPool", err)
	}
	fromOp(x, dx, g)
	return nil
}

// MaxPoolWithArgmax is MaxPool with the same value and gradient, whose
// forward pass also records where each maximum came from
// (nn.MaxPoolWithArgmax), so that its backward is a scatter,
// nn.MaxPoolGradWithArgmax, instead of a second scan of x: slower to
// evaluate by the offsets it stores (one int32 per output element),
// faster to differentiate. Layers use it while training.
func MaxPoolWithArgmax(x *Var, o nn.PoolOptions) *Var {
	const op = "MaxPool"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	// The offsets live in recycled float32 storage (the same size),
	// handed back with the node's value.
	var store *tensor.Tensor
	y, arg, err := nn.MaxPoolWithArgmaxAlloc(x.value, o, func(n int) []int32 {
		d := pool.Get(n)
		store = tensor.Must(tensor.New([]int{n}, d))
		return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(d))), n)
	})
	if err != nil {
		return opErr(op, err)
	}
	n := &argmaxPoolVar{x: [1]*Var{x}, arg: arg, o: recordedPool(o)}
	initNode(&n.Var, op, y, n, n.x[:])
	n.setAux(store)
	return &n.Var
}

// argmaxPoolVar is MaxPoolWithArgmax's node: the Var, its input, the
// offsets of the maxima (in the node's aux storage) and its options.
type argmaxPoolVar struct {
	Var
	x   [1]*Var
	arg []int32
	o   *nn.PoolOptions // read only (recordedPool)
	// fuse is set by Gradient when x is a Conv2DBiasRelu's output that
	// only this pool reads and that is not itself requested: the
	// backward then goes through the ReLU and the bias in the same pass
	// (nn.MaxPoolBiasReluGrad) and hands the convolution its
	// pre-activation gradient, and x gets no gradient of its own.
	fuse bool
}

// backprop is MaxPool's backward: ∂/∂x = nn.MaxPoolGradWithArgmax(x's
// shape, g, arg), or with fuse the convolution's backward from
// nn.MaxPoolBiasReluGrad's gradients.
func (n *argmaxPoolVar) backprop(g *tensor.Tensor) error {
	x := n.x[0]
	if !x.needed {
		return nil
	}
	if conv, ok := x.backward.(*convBiasReluVar); ok && n.fuse {
		dpre, db, err := nn.MaxPoolBiasReluGrad(x.value, n.value, g, n.arg, *n.o)
		if err != nil {
			return backErr(n.name, err)
		}
		return conv.fromPre(dpre, db, true)
	}
	dx, err := nn.MaxPoolGradWithArgmax(x.value.Shape(), g, n.arg)
	if err != nil {
		return backErr(n.name, err)
	}
	fromOp(x, dx, g)
	return nil
}

// AvgPool is nn.AvgPool on Vars (rank 3, 4 or 5 input).
// ∂/∂x = nn.AvgPoolGrad(x's shape, g, o).
func AvgPool(x *Var, o nn.PoolOptions) *Var {
	const op = "AvgPool"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	o = clonePool(o)
	y, err := nn.AvgPool(x.value, o)
	if err != nil {
		return opErr(op, err)
	}
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return nn.AvgPoolGrad(x.value.Shape(), g, o)
	})
}

// MatMul is nn.MatMul on Vars: op(a)·op(b) for rank-2 a and b, op being
// the transpose when ta (tb) is set. The gradients are products with g,
// as in TF's MatMul gradient:
//
//	ta tb   ∂/∂a        ∂/∂b
//	F  F    g·bᵀ        aᵀ·g
//	F  T    g·b         gᵀ·a
//	T  F    b·gᵀ        a·g
//	T  T    bᵀ·gᵀ       gᵀ·aᵀ
func MatMul(a, b *Var, ta, tb bool) *Var {
	const op = "MatMul"
	if err := inputErr(op, a, b); err != nil {
		return failed(op, err)
	}
	var y *tensor.Tensor
	var err error
	if p := b.packedOf(); p != nil && !ta && !tb {
		y, err = nn.MatMulPacked(a.value, p)
	} else {
		y, err = nn.MatMul(a.value, b.value, ta, tb)
	}
	if err != nil {
		return opErr(op, err)
	}
	n := &matMulVar{in: [2]*Var{a, b}, ta: ta, tb: tb}
	initNode(&n.Var, op, y, n, n.in[:])
	return &n.Var
}

// matMulVar is MatMul's node: the Var, its inputs and the transposes in
// one allocation (no closure).
type matMulVar struct {
	Var
	in     [2]*Var // a, b
	ta, tb bool
}

// backprop is MatMul's backward (the table above).
func (n *matMulVar) backprop(g *tensor.Tensor) error {
	const op = "MatMul"
	a, b, ta, tb := n.in[0], n.in[1], n.ta, n.tb
	A, B := a.value, b.value
	if a.needed {
		var da *tensor.Tensor
		var err error
		switch {
		case !ta && !tb:
			da, err = nn.MatMul(g, B, false, true)
		case !ta && tb:
			da, err = nn.MatMul(g, B, false, false)
		case ta && !tb:
			da, err = nn.MatMul(B, g, false, true)
		default:
			da, err = nn.MatMul(B, g, true, true)
		}
		if err != nil {
			return backErr(op, err)
		}
		fromOp(a, da, g)
	}
	if b.needed {
		var db *tensor.Tensor
		var err error
		switch {
		case !ta && !tb:
			db, err = nn.MatMul(A, g, true, false)
		case !ta && tb:
			db, err = nn.MatMul(g, A, true, false)
		case ta && !tb:
			db, err = nn.MatMul(A, g, false, false)
		default:
			db, err = nn.MatMul(g, A, true, true)
		}
		if err != nil {
			return backErr(op, err)
		}
		fromOp(b, db, g)
	}
	return nil
}

// BiasAdd is nn.BiasAdd on Vars: x [..., C] (or [N,C,...] channels-first)
// plus bias [C]. ∂/∂x = g, ∂/∂bias = nn.BiasAddGrad(g, dataFormat).
func BiasAdd(x, bias *Var, dataFormat string) *Var {
	const op = "BiasAdd"
	if err := inputErr(op, x, bias); err != nil {
		return failed(op, err)
	}
	y, err := nn.BiasAdd(x.value, bias.value, dataFormat)
	if err != nil {
		return opErr(op, err)
	}
	n := &biasVar{in: [2]*Var{x, bias}, dataFormat: dataFormat}
	initNode(&n.Var, op, y, n, n.in[:])
	return &n.Var
}

// biasVar is the node of BiasAdd or BiasAddRelu (by its name): the Var,
// its inputs and the data format in one allocation (no closure).
type biasVar struct {
	Var
	in         [2]*Var // x, bias
	dataFormat string
}

// backprop is BiasAdd's backward (∂/∂x = g, ∂/∂bias =
// nn.BiasAddGrad(g)) or BiasAddRelu's (both from nn.BiasAddReluGrad(g, y)).
func (n *biasVar) backprop(g *tensor.Tensor) error {
	x, bias := n.in[0], n.in[1]
	if n.name == "BiasAddRelu" {
		if !x.needed && !bias.needed {
			return nil
		}
		dx, db, err := nn.BiasAddReluGrad(g, n.value, n.dataFormat)
		if err != nil {
			return backErr(n.name, err)
		}
		if x.needed {
			accumulate(x, dx, false)
		}
		if bias.needed {
			accumulate(bias, db, false)
		}
		return nil
	}
	if x.needed {
		accumulate(x, g, true)
	}
	if bias.needed {
		db, err := nn.BiasAddGrad(g, n.dataFormat)
		if err != nil {
			return backErr(n.name, err)
		}
		fromOp(bias, db, g)
	}
	return nil
}

// BiasAddRelu is Relu(BiasAdd(x, bias, dataFormat)) as one node, with
// the same value and gradients in fewer passes over memory: the forward
// is nn.BiasAddRelu, and the backward computes ∂/∂x and ∂/∂bias together
// with nn.BiasAddReluGrad(g, y, dataFormat). Layers use it for a ReLU
// after a bias.
func BiasAddRelu(x, bias *Var, dataFormat string) *Var {
	const op = "BiasAddRelu"
	if err := inputErr(op, x, bias); err != nil {
		return failed(op, err)
	}
	y, err := nn.BiasAddRelu(x.value, bias.value, dataFormat)
	if err != nil {
		return opErr(op, err)
	}
	n := &biasVar{in: [2]*Var{x, bias}, dataFormat: dataFormat}
	initNode(&n.Var, op, y, n, n.in[:])
	return &n.Var
}

// Relu is max(x, 0). ∂/∂x = nn.ReluGrad(g, x).
func Relu(x *Var) *Var {
	return unaryOfInput("Relu", x, nn.Relu, nn.ReluGrad)
}

// LeakyRelu is x where x > 0, else alpha·x. ∂/∂x = nn.LeakyReluGrad(g, x, alpha).
func LeakyRelu(x *Var, alpha float32) *Var {
	return unaryOfInput("LeakyRelu", x,
		func(t *tensor.Tensor) *tensor.Tensor { return nn.LeakyRelu(t, alpha) },
		func(g, t *tensor.Tensor) (*tensor.Tensor, error) { return nn.LeakyReluGrad(g, t, alpha) })
}

// Sigmoid is 1/(1+exp(−x)). ∂/∂x = nn.SigmoidGrad(y, g).
func Sigmoid(x *Var) *Var {
	return unaryOfOutput("Sigmoid", x, func(t *tensor.Tensor) (*tensor.Tensor, error) { return nn.Sigmoid(t), nil }, nn.SigmoidGrad)
}

// Tanh is tanh(x). ∂/∂x = nn.TanhGrad(y, g).
func Tanh(x *Var) *Var {
	return unaryOfOutput("Tanh", x, func(t *tensor.Tensor) (*tensor.Tensor, error) { return nn.Tanh(t), nil }, nn.TanhGrad)
}

// Softmax is exp(x)/Σexp(x) over the last axis. ∂/∂x = nn.SoftmaxGrad(y, g).
func Softmax(x *Var) *Var {
	return unaryOfOutput("Softmax", x, nn.Softmax, nn.SoftmaxGrad)
}

// LogSoftmax is x − log Σexp(x) over the last axis.
// ∂/∂x = nn.LogSoftmaxGrad(y, g).
func LogSoftmax(x *Var) *Var {
	return unaryOfOutput("LogSoftmax", x, nn.LogSoftmax, nn.LogSoftmaxGrad)
}

// unaryOfInput wraps an activation whose gradient op reads the input.
func unaryOfInput(op string, x *Var, fwd func(*tensor.Tensor) *tensor.Tensor, grad func(g, x *tensor.Tensor) (*tensor.Tensor, error)) *Var {
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	y := fwd(x.value)
	if y == nil {
		return failed(op, fmt.Errorf("autograd: %s: nn returned no value for input of shape %v", op, x.value.Shape()))
	}
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return grad(g, x.value)
	})
}

// unaryOfOutput wraps an activation whose gradient op reads the output y.
func unaryOfOutput(op string, x *Var, fwd func(*tensor.Tensor) (*tensor.Tensor, error), grad func(y, g *tensor.Tensor) (*tensor.Tensor, error)) *Var {
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	y, err := fwd(x.value)
	if err != nil {
		return opErr(op, err)
	}
	return unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return grad(y, g)
	})
}

// SoftmaxCrossEntropyWithLogits is the per-example loss
// −Σ_c labels[n,c]·log softmax(logits)[n,c], shape [N], for labels and
// logits [N,C] (like tf.nn.softmax_cross_entropy_with_logits; labels
// get no gradient). ∂/∂logits[n,c] = backprop[n,c]·g[n] with backprop
// from nn.SoftmaxCrossEntropyWithLogits.
func SoftmaxCrossEntropyWithLogits(labels *tensor.Tensor, logits *Var) *Var {
	const op = "SoftmaxCrossEntropyWithLogits"
	if err := inputErr(op, logits); err != nil {
		return failed(op, err)
	}
	if labels == nil {
		return failed(op, errors.New("autograd: "+op+": nil labels"))
	}
	loss, backprop, err := nn.SoftmaxCrossEntropyWithLogits(labels, logits.value)
	if err != nil {
		return opErr(op, err)
	}
	return crossEntropyNode(op, loss, backprop, logits)
}

// SparseSoftmaxCrossEntropyWithLogits is SoftmaxCrossEntropyWithLogits
// with labels given as class indices, one per row of logits [N,C].
func SparseSoftmaxCrossEntropyWithLogits(labels []int, logits *Var) *Var {
	const op = "SparseSoftmaxCrossEntropyWithLogits"
	if err := inputErr(op, logits); err != nil {
		return failed(op, err)
	}
	loss, backprop, err := nn.SparseSoftmaxCrossEntropyWithLogits(labels, logits.value)
	if err != nil {
		return opErr(op, err)
	}
	return crossEntropyNode(op, loss, backprop, logits)
}

// crossEntropyNode records loss [N] whose gradient with respect to
// logits [N,C] is backprop[n,:]·g[n], as TF's gradient of the raw op is.
func crossEntropyNode(op string, loss, backprop *tensor.Tensor, logits *Var) *Var {
	ls := logits.value.Shape()
	if len(ls) != 2 || !tensor.SameShape(backprop.Shape(), ls) || loss.Len() != ls[0] {
		return failed(op, fmt.Errorf("autograd: %s: nn returned loss %v and backprop %v for logits %v; want [N] and [N,C]",
			op, loss.Shape(), backprop.Shape(), ls))
	}
	n, c := ls[0], ls[1]
	return unaryNode(op, logits, loss, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		d := tensor.Zeros(backprop.Shape()...)
		dd, bd, gd := d.Data(), backprop.Data(), g.Data()
		for i := 0; i < n; i++ {
			gi := gd[i]
			row, brow := dd[i*c:(i+1)*c], bd[i*c:(i+1)*c]
			for j := range row {
				row[j] = brow[j] * gi
			}
		}
		return d, nil
	})
}

// SigmoidCrossEntropyWithLogits is the elementwise logistic loss
// max(x,0) − x·z + log(1+exp(−|x|)) for logits x and labels z of the same
// shape (labels get no gradient).
// ∂/∂logits = nn.SigmoidCrossEntropyWithLogitsGrad(labels, logits, g).
func SigmoidCrossEntropyWithLogits(labels *tensor.Tensor, logits *Var) *Var {
	const op = "SigmoidCrossEntropyWithLogits"
	if err := inputErr(op, logits); err != nil {
		return failed(op, err)
	}
	if labels == nil {
		return failed(op, errors.New("autograd: "+op+": nil labels"))
	}
	y, err := nn.SigmoidCrossEntropyWithLogits(labels, logits.value)
	if err != nil {
		return opErr(op, err)
	}
	return unaryNode(op, logits, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		return nn.SigmoidCrossEntropyWithLogitsGrad(labels, logits.value, g)
	})
}

// Dropout is nn.Dropout on Vars: with training set and rate > 0 it keeps
// each value with probability 1−rate, scaled by 1/(1−rate), using the
// given seed; otherwise it is the identity. ∂/∂x = nn.DropoutGrad(g,
// mask), or g for the identity.
func Dropout(x *Var, rate float32, seed uint64, training bool) *Var {
	const op = "Dropout"
	if err := inputErr(op, x); err != nil {
		return failed(op, err)
	}
	y, mask, err := nn.Dropout(x.value, rate, seed, training)
	if err != nil {
		return opErr(op, err)
	}
	v := unaryNode(op, x, y, func(g *tensor.Tensor) (*tensor.Tensor, error) {
		if mask == nil {
			return g, nil
		}
		return nn.DropoutGrad(g, mask)
	})
	if mask != nil {
		v.setAux(mask)
	}
	return v
}
