package nn

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// A batch norm and ReLU in training whose output only a convolution
// reads (conv → BN → ReLU → conv, as in every residual block) need not
// store that output: the convolution can make its input's values as it
// reads them, z = max(x·a + b, 0) per channel, with a and b the batch's
// statistics folded as FusedBatchNormRelu folds them. The Winograd path
// copies every image slice into a padded window before it transforms
// its tiles (winoTiles.inputs), so it applies the batch norm and ReLU
// in that copy; the backward's filter gradient reads x the same way,
// and batch norm's own gradient takes the ReLU's mask from x already.
// So z is neither written out nor kept for the backward pass. Other
// plans make z in a scratch buffer first. On Zen 4 the small ResNet's
// training (`convnet bench --model resnet`, three runs each, alternated)
// peaked at 174–180 MiB resident instead of 201; its step took the same
// time within the host's swing (z had been read back from the L3).

// prologue is what a convolution applies to its input as it reads it:
// nothing (the zero value), or z = max(x·a + b, 0) per input channel,
// with kernels.AffineRelu's bits.
type prologue struct{ a, b []float32 }

// none reports whether p applies nothing.
func (p prologue) none() bool { return p.a == nil }

// copy sets dst to src[:len(dst)] through p; len(dst) is a multiple of
// the channels.
func (p prologue) copy(dst, src []float32) {
	if p.none() {
		copy(dst, src)
		return
	}
	kernels.AffineRelu(dst, src[:len(dst)], p.a, p.b)
}

// made returns x through p in a scratch buffer (x itself when p applies
// nothing, and then a nil buffer): for the plans that read their input
// in place. The caller hands the buffer back with putScratch.
func (p prologue) made(x []float32) ([]float32, *[]float32) {
	if p.none() {
		return x, nil
	}
	c := len(p.a)
	zb := getScratch(len(x))
	z := (*zb)[:len(x)]
	parallel.For(len(x)/c, max(1, elemMinPer/c), func(lo, hi int) {
		kernels.AffineRelu(z[lo*c:hi*c], x[lo*c:hi*c], p.a, p.b)
	})
	return z, zb
}

// convForwardPre is convForward on x through pro.
func convForwardPre(g *kernels.ConvGeom, f int, x, w, y []float32, pro prologue) {
	pl := planConv(passForward, g, f)
	if pl.algo == algoWinograd {
		winogradConv(pl, g, f, x, w, y, epilogue{}, pro)
		return
	}
	z, zb := pro.made(x)
	convForwardPlan(pl, g, f, z, w, y, epilogue{})
	putScratch(zb)
}

// convBackpropFilterPre is convBackpropFilter on x through pro.
func convBackpropFilterPre(g *kernels.ConvGeom, f int, x, dy, dw []float32, pro prologue) {
	if pl := planConv(passFilterGrad, g, f); pl.algo == algoWinograd {
		winogradFilterGrad(pl, g, f, x, dy, dw, pro)
		return
	}
	z, zb := pro.made(x)
	convBackpropFilter(g, f, z, dy, dw)
	putScratch(zb)
}

// bnConvSpec validates the operands of FusedBatchNormReluConv2D and its
// gradient (channels last only) and returns the convolution's spec.
func bnConvSpec(op string, x, filter *tensor.Tensor, o ConvOptions) (*convSpec, error) {
	if err := checkTensors(op, []string{"x", "filter"}, x, filter); err != nil {
		return nil, err
	}
	last, err := channelsLast(x.Rank(), o.DataFormat)
	if err != nil {
		return nil, opError(op, err)
	}
	if !last {
		return nil, fmt.Errorf("%s: data format %q: batch norm here is channels-last only", op, o.DataFormat)
	}
	return newConvSpec(op, 2, x.Shape(), filter.Shape(), o, false)
}

// FusedBatchNormReluConv2D returns Conv2D(FusedBatchNormRelu(x, scale,
// offset, epsilon), filter, o) for channels-last x [N, H, W, C], with
// the batch's mean and biased variance as FusedBatchNormRelu returns
// them, all with the bits of those two ops in turn. The batch norm's
// output is not stored: the convolution makes its input's values from x
// as it reads them (see above).
func FusedBatchNormReluConv2D(x, scale, offset, filter *tensor.Tensor, epsilon float32, o ConvOptions) (y, mean, variance *tensor.Tensor, err error) {
	const op = "FusedBatchNormReluConv2D"
	s, err := bnConvSpec("nn."+op, x, filter, o)
	if err != nil {
		return nil, nil, nil, err
	}
	rows, c, err := bnTrainCheck(op, x, map[string]*tensor.Tensor{"scale": scale, "offset": offset}, epsilon)
	if err != nil {
		return nil, nil, nil, err
	}
	mean, variance = tensor.Zeros(c), tensor.Zeros(c)
	a, b := bnTrainStats(mean.Data(), variance.Data(), x.Data(), scale.Data(), offset.Data(), rows, c, float64(epsilon))
	y = s.result(s.out, func(y []float32) { convForwardPre(&s.g, s.f, x.Data(), filter.Data(), y, prologue{a, b}) })
	return y, mean, variance, nil
}

// FusedBatchNormReluConv2DGrad returns the gradients of
// FusedBatchNormReluConv2D with respect to x, scale, offset and filter,
// given grad (the gradient of its output) and the mean and variance it
// returned: those of Conv2DBackpropInput, Conv2DBackpropFilter (on the
// batch norm's output, made again from x) and FusedBatchNormReluGrad in
// turn, with their bits.
func FusedBatchNormReluConv2DGrad(grad, x, scale, offset, filter, mean, variance *tensor.Tensor, epsilon float32, o ConvOptions) (dx, dscale, doffset, dfilter *tensor.Tensor, err error) {
	const op = "FusedBatchNormReluConv2DGrad"
	s, err := bnConvSpec("nn."+op, x, filter, o)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := checkTensors("nn."+op, []string{"grad"}, grad); err != nil {
		return nil, nil, nil, nil, err
	}
	if err := s.checkGrad(grad); err != nil {
		return nil, nil, nil, nil, err
	}
	if _, _, err := bnTrainCheck(op, x, map[string]*tensor.Tensor{"scale": scale, "offset": offset, "mean": mean, "variance": variance}, epsilon); err != nil {
		return nil, nil, nil, nil, err
	}
	a, b := bnAffine(mean.Data(), variance.Data(), scale.Data(), offset.Data(), float64(epsilon))
	dfilter = newResult(s.filter...) // every kernel writes all of dw
	convBackpropFilterPre(&s.g, s.f, x.Data(), grad.Data(), dfilter.Data(), prologue{a, b})
	dzb := getScratch(x.Len())
	defer putScratch(dzb)
	dz := tensor.Must(tensor.New(x.Shape(), (*dzb)[:x.Len()]))
	convBackpropInput(&s.g, s.f, filter.Data(), grad.Data(), dz.Data(), nil)
	dx, dscale, doffset, err = FusedBatchNormReluGrad(dz, x, scale, offset, mean, variance, epsilon)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return dx, dscale, doffset, dfilter, nil
}
