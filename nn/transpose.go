package nn

import (
	"fmt"

	"github.com/convnet-go/convnet/tensor"
)

// Conv2DTranspose is tf.nn.conv2d_transpose, the gradient of Conv2D run
// forward ("deconvolution"): input [N, H, W, inC] (or NCHW), filter
// [KH, KW, outC, inC], and outputShape [N, OH, OW, outC] (or
// [N, outC, OH, OW]) the shape of the result. The options are those of the
// Conv2D that maps outputShape back to the input's shape; outputShape must
// be one Conv2D(·, filter, o) sends to input's shape (under SAME with stride
// s, OH can be s·H − s + 1 … s·H). The result is
//
//	Conv2DBackpropInput(outputShape, filter, input, o)
//
// and its gradients are d/dinput = Conv2D(grad, filter, o) and
// d/dfilter = Conv2DBackpropFilter(grad, filter.Shape(), input, o).
func Conv2DTranspose(input, filter *tensor.Tensor, outputShape []int, o ConvOptions) (*tensor.Tensor, error) {
	const op = "nn.Conv2DTranspose"
	if err := checkTensors(op, []string{"input", "filter"}, input, filter); err != nil {
		return nil, err
	}
	in, fs := input.Shape(), filter.Shape()
	if len(in) != 4 {
		return nil, fmt.Errorf("%s: input must have rank 4 ([N,H,W,C] or channels-first), got shape %v", op, in)
	}
	if len(fs) != 4 {
		return nil, fmt.Errorf("%s: filter must have rank 4 [KH, KW, outC, inC], got shape %v", op, fs)
	}
	if len(outputShape) != 4 {
		return nil, fmt.Errorf("%s: outputShape must have 4 dimensions, got %v", op, outputShape)
	}
	chLast, err := channelsLast(4, o.DataFormat)
	if err != nil {
		return nil, opError(op, err)
	}
	inC, outC := in[3], outputShape[3]
	if !chLast {
		inC, outC = in[1], outputShape[1]
	}
	if fs[3] != inC {
		return nil, fmt.Errorf("%s: input %v has %d channels but filter %v [KH, KW, outC, inC] expects %d", op, in, inC, fs, fs[3])
	}
	if fs[2] != outC {
		return nil, fmt.Errorf("%s: outputShape %v has %d channels but filter %v [KH, KW, outC, inC] gives %d", op, outputShape, outC, fs, fs[2])
	}
	s, err := newConvSpec(op, 2, outputShape, fs, o, false)
	if err != nil {
		return nil, err
	}
	if !tensor.SameShape(s.out, in) {
		return nil, fmt.Errorf("%s: outputShape %v does not fit input %v: Conv2D of that shape with filter %v gives %v", op, outputShape, in, fs, s.out)
	}
	return backpropInputOp(op, 2, outputShape, filter, input, nil, o, false, convBackpropInput)
}
