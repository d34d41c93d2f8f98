package nn

import (
	"errors"

	"github.com/convnet-go/convnet/tensor"
)

var errTODO = errors.New("nn: not implemented yet")

// MaxPool returns the maximum over each window (tf.nn.max_pool).
func MaxPool(input *tensor.Tensor, o PoolOptions) (*tensor.Tensor, error) { return nil, errTODO }

// AvgPool returns the mean over each window (tf.nn.avg_pool).
func AvgPool(input *tensor.Tensor, o PoolOptions) (*tensor.Tensor, error) { return nil, errTODO }

// MaxPoolGrad is the gradient of MaxPool with respect to its input.
func MaxPoolGrad(input, grad *tensor.Tensor, o PoolOptions) (*tensor.Tensor, error) {
	return nil, errTODO
}

// AvgPoolGrad is the gradient of AvgPool with respect to its input.
func AvgPoolGrad(inputShape []int, grad *tensor.Tensor, o PoolOptions) (*tensor.Tensor, error) {
	return nil, errTODO
}
