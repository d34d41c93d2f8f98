package nn

import "github.com/convnet-go/convnet/tensor"

// DepthwiseConv2D is tf.nn.depthwise_conv2d: filter [KH,KW,C,M], output channel c·M+m.
func DepthwiseConv2D(input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// DepthwiseConv2DBackpropInput is the gradient of DepthwiseConv2D with respect to its input.
func DepthwiseConv2DBackpropInput(inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// DepthwiseConv2DBackpropFilter is the gradient of DepthwiseConv2D with respect to its filter.
func DepthwiseConv2DBackpropFilter(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}
