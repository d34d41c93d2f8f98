package nn

import "github.com/convnet-go/convnet/tensor"

// MatMul returns op(a)·op(b) for rank-2 tensors.
func MatMul(a, b *tensor.Tensor, transposeA, transposeB bool) (*tensor.Tensor, error) {
	return nil, errTODO
}
