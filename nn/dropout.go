package nn

import "github.com/convnet-go/convnet/tensor"

// Dropout zeroes values with probability rate and scales the rest.
func Dropout(x *tensor.Tensor, rate float32, seed uint64, training bool) (y, mask *tensor.Tensor, err error) {
	return nil, nil, errTODO
}

// DropoutGrad returns grad·mask.
func DropoutGrad(grad, mask *tensor.Tensor) (*tensor.Tensor, error) { return nil, errTODO }
