package nn

import "github.com/convnet-go/convnet/tensor"

// SeparableConv2D is tf.nn.separable_conv2d: depthwise with o, then a 1x1 pointwise conv.
func SeparableConv2D(input, depthwiseFilter, pointwiseFilter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}
