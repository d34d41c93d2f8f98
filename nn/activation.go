package nn

import "github.com/convnet-go/convnet/tensor"

// Relu returns max(x, 0).
func Relu(x *tensor.Tensor) *tensor.Tensor { return x.Clone() }

// ReluGrad returns grad where x > 0, else 0.
func ReluGrad(grad, x *tensor.Tensor) (*tensor.Tensor, error) { return nil, errTODO }

// LeakyRelu returns x where x > 0, else alpha·x.
func LeakyRelu(x *tensor.Tensor, alpha float32) *tensor.Tensor { return x.Clone() }

// LeakyReluGrad returns grad where x > 0, else alpha·grad.
func LeakyReluGrad(grad, x *tensor.Tensor, alpha float32) (*tensor.Tensor, error) {
	return nil, errTODO
}

// Sigmoid returns 1/(1+exp(−x)).
func Sigmoid(x *tensor.Tensor) *tensor.Tensor { return x.Clone() }

// SigmoidGrad returns grad·y·(1−y) with y = Sigmoid(x).
func SigmoidGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) { return nil, errTODO }

// Tanh returns tanh(x).
func Tanh(x *tensor.Tensor) *tensor.Tensor { return x.Clone() }

// TanhGrad returns grad·(1−y²) with y = Tanh(x).
func TanhGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) { return nil, errTODO }

// Softmax returns exp(x)/Σexp(x) over the last axis.
func Softmax(logits *tensor.Tensor) (*tensor.Tensor, error) { return nil, errTODO }

// LogSoftmax returns x − log Σexp(x) over the last axis.
func LogSoftmax(logits *tensor.Tensor) (*tensor.Tensor, error) { return nil, errTODO }

// SoftmaxGrad is the gradient of Softmax given its output y.
func SoftmaxGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) { return nil, errTODO }

// LogSoftmaxGrad is the gradient of LogSoftmax given its output y.
func LogSoftmaxGrad(y, grad *tensor.Tensor) (*tensor.Tensor, error) { return nil, errTODO }
