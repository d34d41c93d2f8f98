package nn

import (
	"fmt"

	"github.com/convnet-go/convnet/tensor"
)

// SeparableConv2D is tf.nn.separable_conv2d: a depthwise convolution with
// depthwiseFilter [KH, KW, C, M] and the options o (strides, padding,
// dilations as rate, data format), then a pointwise 1x1 convolution with
// pointwiseFilter [1, 1, C·M, F], stride 1, VALID:
//
//	y[n, oh, ow, f] = Σ_{c,m} DepthwiseConv2D(x, dw)[n, oh, ow, c·M + m] · pw[0, 0, c·M + m, f]
//
// Input [N, H, W, C] (or NCHW), output [N, OH, OW, F] (or [N, F, OH, OW]).
// Its gradients are those of the two ops in turn.
func SeparableConv2D(input, depthwiseFilter, pointwiseFilter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	const op = "nn.SeparableConv2D"
	if err := checkTensors(op, []string{"input", "depthwiseFilter", "pointwiseFilter"}, input, depthwiseFilter, pointwiseFilter); err != nil {
		return nil, err
	}
	ds, ps := depthwiseFilter.Shape(), pointwiseFilter.Shape()
	if len(ds) != 4 {
		return nil, fmt.Errorf("%s: depthwise filter must have rank 4 [KH, KW, C, M], got shape %v", op, ds)
	}
	if len(ps) != 4 || ps[0] != 1 || ps[1] != 1 || ps[2] != ds[2]*ds[3] {
		return nil, fmt.Errorf("%s: pointwise filter must have shape [1, 1, %d, F] (C·M = %d·%d from depthwise filter %v), got %v", op, ds[2]*ds[3], ds[2], ds[3], ds, ps)
	}
	d, err := forwardOp(op, 2, input, depthwiseFilter, o, true, depthwiseForward)
	if err != nil {
		return nil, err
	}
	return forwardOp(op, 2, d, pointwiseFilter, ConvOptions{Padding: "VALID", DataFormat: o.DataFormat}, false, convForward)
}
