package nn

import "github.com/convnet-go/convnet/tensor"

// BiasAdd adds bias along the channel dimension of value.
func BiasAdd(value, bias *tensor.Tensor, dataFormat string) (*tensor.Tensor, error) {
	return nil, errTODO
}

// BiasAddGrad sums grad over every dimension but the channels.
func BiasAddGrad(grad *tensor.Tensor, dataFormat string) (*tensor.Tensor, error) {
	return nil, errTODO
}
