package nn

import "github.com/convnet-go/convnet/tensor"

// SoftmaxCrossEntropyWithLogits returns the per-example loss and its backprop.
func SoftmaxCrossEntropyWithLogits(labels, logits *tensor.Tensor) (loss, backprop *tensor.Tensor, err error) {
	return nil, nil, errTODO
}

// SparseSoftmaxCrossEntropyWithLogits is SoftmaxCrossEntropyWithLogits with class indices.
func SparseSoftmaxCrossEntropyWithLogits(labels []int, logits *tensor.Tensor) (loss, backprop *tensor.Tensor, err error) {
	return nil, nil, errTODO
}

// SigmoidCrossEntropyWithLogits returns the elementwise logistic loss.
func SigmoidCrossEntropyWithLogits(labels, logits *tensor.Tensor) (*tensor.Tensor, error) {
	return nil, errTODO
}

// SigmoidCrossEntropyWithLogitsGrad is its gradient with respect to logits.
func SigmoidCrossEntropyWithLogitsGrad(labels, logits, grad *tensor.Tensor) (*tensor.Tensor, error) {
	return nil, errTODO
}
