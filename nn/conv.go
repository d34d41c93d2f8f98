package nn

import (
	"errors"

	"github.com/convnet-go/convnet/tensor"
)

var errNotYet = errors.New("nn: not implemented yet")

// Conv1D is tf.nn.conv1d: input [N,W,C] (or [N,C,W] with DataFormat "NCW"),
// filter [KW,C,K], output [N,OW,K].
func Conv1D(input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// Conv2D is tf.nn.conv2d: input [N,H,W,C], filter [KH,KW,C,K], output [N,OH,OW,K].
func Conv2D(input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// Conv3D is tf.nn.conv3d: input [N,D,H,W,C], filter [KD,KH,KW,C,K].
func Conv3D(input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// Conv1DBackpropInput is the gradient of Conv1D with respect to its input.
func Conv1DBackpropInput(inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// Conv2DBackpropInput is the gradient of Conv2D with respect to its input.
func Conv2DBackpropInput(inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// Conv3DBackpropInput is the gradient of Conv3D with respect to its input.
func Conv3DBackpropInput(inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// Conv1DBackpropFilter is the gradient of Conv1D with respect to its filter.
func Conv1DBackpropFilter(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// Conv2DBackpropFilter is the gradient of Conv2D with respect to its filter.
func Conv2DBackpropFilter(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}

// Conv3DBackpropFilter is the gradient of Conv3D with respect to its filter.
func Conv3DBackpropFilter(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}
