package nn

import "github.com/convnet-go/convnet/tensor"

// Conv2DTranspose is tf.nn.conv2d_transpose: filter [KH,KW,outC,inC].
func Conv2DTranspose(input, filter *tensor.Tensor, outputShape []int, o ConvOptions) (*tensor.Tensor, error) {
	return nil, errNotYet
}
