package autograd

import (
	"fmt"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Batch normalization on Vars, channels last: x [N, …, C], scale γ and
// offset β [C]. Every backward calls nn's gradient op and nothing else.

// FusedBatchNorm is nn.FusedBatchNorm on Vars (training mode): it
// normalises x with the batch's mean μ and biased variance σ² and returns
// y = (x − μ)·γ/√(σ² + ε) + β together with μ and σ² as plain [C]
// tensors (the caller folds them into moving statistics). A nil scale
// means γ = 1, a nil offset β = 0 (Keras scale=False, center=False).
// ∂/∂(x, γ, β) = nn.FusedBatchNormGrad.
func FusedBatchNorm(x, scale, offset *Var, epsilon float32) (y *Var, mean, variance *tensor.Tensor) {
	const op = "FusedBatchNorm"
	s, o, ins, err := bnParams(op, x, scale, offset)
	if err != nil {
		return failed(op, err), nil, nil
	}
	yv, mean, variance, err := nn.FusedBatchNorm(x.value, s, o, epsilon)
	if err != nil {
		return opErr(op, err), nil, nil
	}
	return node(op, yv, func(g *tensor.Tensor) error {
		dx, ds, do, err := nn.FusedBatchNormGrad(g, x.value, s, mean, variance, epsilon)
		if err != nil {
			return backErr(op, err)
		}
		bnAccumulate(x, scale, offset, dx, ds, do)
		return nil
	}, ins...), mean, variance
}

// FusedBatchNormRelu is nn.FusedBatchNormRelu on Vars: Relu(FusedBatchNorm(x))
// in one op, with μ and σ² as FusedBatchNorm returns them.
// ∂/∂(x, γ, β) = nn.FusedBatchNormReluGrad, which takes the ReLU's mask
// from x and the statistics rather than from the output.
func FusedBatchNormRelu(x, scale, offset *Var, epsilon float32) (y *Var, mean, variance *tensor.Tensor) {
	const op = "FusedBatchNormRelu"
	s, o, ins, err := bnParams(op, x, scale, offset)
	if err != nil {
		return failed(op, err), nil, nil
	}
	yv, mean, variance, err := nn.FusedBatchNormRelu(x.value, s, o, epsilon)
	if err != nil {
		return opErr(op, err), nil, nil
	}
	return node(op, yv, func(g *tensor.Tensor) error {
		dx, ds, do, err := nn.FusedBatchNormReluGrad(g, x.value, s, o, mean, variance, epsilon)
		if err != nil {
			return backErr(op, err)
		}
		bnAccumulate(x, scale, offset, dx, ds, do)
		return nil
	}, ins...), mean, variance
}

// FusedBatchNormReluConv2D is nn.FusedBatchNormReluConv2D on Vars:
// Conv2D(FusedBatchNormRelu(x, scale, offset), w) in one op for
// channels-last x, with μ and σ² as FusedBatchNorm returns them; the
// batch norm's output is never stored. A nil scale means γ = 1, a nil
// offset β = 0. ∂/∂(x, γ, β, w) = nn.FusedBatchNormReluConv2DGrad: the
// gradients of the three ops in turn, bit for bit.
func FusedBatchNormReluConv2D(x, scale, offset, w *Var, epsilon float32, o nn.ConvOptions) (y *Var, mean, variance *tensor.Tensor) {
	const op = "FusedBatchNormReluConv2D"
	s, off, ins, err := bnParams(op, x, scale, offset)
	if err == nil {
		err = inputErr(op, w)
	}
	if err != nil {
		return failed(op, err), nil, nil
	}
	o = cloneConv(o)
	yv, mean, variance, err := nn.FusedBatchNormReluConv2D(x.value, s, off, w.value, epsilon, o)
	if err != nil {
		return opErr(op, err), nil, nil
	}
	return node(op, yv, func(g *tensor.Tensor) error {
		dx, ds, do, dw, err := nn.FusedBatchNormReluConv2DGrad(g, x.value, s, off, w.value, mean, variance, epsilon, o)
		if err != nil {
			return backErr(op, err)
		}
		bnAccumulate(x, scale, offset, dx, ds, do)
		if w.needed {
			accumulate(w, dw, false)
		}
		return nil
	}, append(ins, w)...), mean, variance
}

// FusedBatchNormAddRelu is nn.FusedBatchNormAddRelu on Vars: a residual
// join in training, Relu(FusedBatchNorm(x) + skip) in one op, with μ and
// σ² as FusedBatchNorm returns them. ∂/∂skip = g·[y > 0] (nn.ReluGrad),
// and that through nn.FusedBatchNormGrad gives ∂/∂(x, γ, β): the
// gradients of the three ops run in turn, bit for bit.
func FusedBatchNormAddRelu(x, skip, scale, offset *Var, epsilon float32) (y *Var, mean, variance *tensor.Tensor) {
	const op = "FusedBatchNormAddRelu"
	s, o, ins, err := bnParams(op, x, scale, offset)
	if err == nil && skip == nil {
		err = fmt.Errorf("autograd: %s: skip is nil", op)
	} else if err == nil {
		err = inputErr(op, skip)
	}
	if err != nil {
		return failed(op, err), nil, nil
	}
	yv, mean, variance, err := nn.FusedBatchNormAddRelu(x.value, skip.value, s, o, epsilon)
	if err != nil {
		return opErr(op, err), nil, nil
	}
	return node(op, yv, func(g *tensor.Tensor) error {
		d, err := nn.ReluGrad(g, yv)
		if err != nil {
			return backErr(op, err)
		}
		if x.needed || (scale != nil && scale.needed) || (offset != nil && offset.needed) {
			dx, ds, do, err := nn.FusedBatchNormGrad(d, x.value, s, mean, variance, epsilon)
			if err != nil {
				return backErr(op, err)
			}
			bnAccumulate(x, scale, offset, dx, ds, do)
		}
		// d goes to skip last, and as skip's own: a gradient that later
		// replaces or absorbs it recycles it (held shared, it would be
		// nobody's once replaced, and never handed back).
		if skip.needed {
			accumulate(skip, d, false)
		} else {
			recycle([]*tensor.Tensor{d})
		}
		return nil
	}, append(ins, skip)...), mean, variance
}

// BatchNormalization is nn.BatchNormalization on Vars (inference mode):
// y = (x − mean)·γ/√(variance + ε) + β with fixed [C] statistics. A nil
// scale means γ = 1, a nil offset β = 0.
// ∂/∂(x, γ, β) = nn.BatchNormalizationGrad.
func BatchNormalization(x *Var, mean, variance *tensor.Tensor, offset, scale *Var, epsilon float32) *Var {
	const op = "BatchNormalization"
	s, o, ins, err := bnParams(op, x, scale, offset)
	if err != nil {
		return failed(op, err)
	}
	yv, err := nn.BatchNormalization(x.value, mean, variance, o, s, epsilon)
	if err != nil {
		return opErr(op, err)
	}
	return node(op, yv, func(g *tensor.Tensor) error {
		dx, ds, do, err := nn.BatchNormalizationGrad(g, x.value, mean, variance, s, epsilon)
		if err != nil {
			return backErr(op, err)
		}
		bnAccumulate(x, scale, offset, dx, ds, do)
		return nil
	}, ins...)
}

// bnParams checks the inputs and returns γ and β as tensors (ones and
// zeros of x's channel count for nil Vars) and the op's parents.
func bnParams(op string, x, scale, offset *Var) (s, o *tensor.Tensor, parents []*Var, err error) {
	parents = []*Var{x}
	for _, v := range []*Var{scale, offset} {
		if v != nil {
			parents = append(parents, v)
		}
	}
	if err := inputErr(op, parents...); err != nil {
		return nil, nil, nil, err
	}
	c := 0
	if x.value.Rank() > 0 {
		c = x.value.Dim(x.value.Rank() - 1)
	}
	s, o = tensor.Ones(c), tensor.Zeros(c)
	if scale != nil {
		s = scale.value
	}
	if offset != nil {
		o = offset.value
	}
	return s, o, parents, nil
}

// bnAccumulate adds the three gradients into the Vars that need them.
func bnAccumulate(x, scale, offset *Var, dx, ds, do *tensor.Tensor) {
	if x.needed {
		accumulate(x, dx, false)
	}
	if scale != nil && scale.needed {
		accumulate(scale, ds, false)
	}
	if offset != nil && offset.needed {
		accumulate(offset, do, false)
	}
}
