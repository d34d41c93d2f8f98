package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Dropout is tf.nn.dropout with an explicit seed: in training it keeps
// each value of x with probability 1−rate and scales it by 1/(1−rate),
// so the expected value is unchanged, and zeroes the rest. It returns y
// (x's shape) and mask (x's shape) with mask[i] = 0 or 1/(1−rate) and
// y = x·mask. Value i is kept when the i-th draw u of a PCG generator
// seeded with seed (tensor.NewRand) satisfies u ≥ rate, u uniform in
// [0, 1), so the same seed gives the same mask. When !training or
// rate == 0 it is the identity: y is a copy of x and mask is nil.
// rate must be in [0, 1).
func Dropout(x *tensor.Tensor, rate float32, seed uint64, training bool) (y, mask *tensor.Tensor, err error) {
	if x == nil {
		return nil, nil, fmt.Errorf("nn: Dropout: x is nil")
	}
	if !(rate >= 0 && rate < 1) {
		return nil, nil, fmt.Errorf("nn: Dropout: rate %v is outside [0, 1)", rate)
	}
	if !training || rate == 0 {
		return x.Clone(), nil, nil
	}
	mask, y = newResult(x.Shape()...), newResult(x.Shape()...)
	scale := 1 / (1 - rate)
	// The draws of tensor.NewRand(seed).Float32() (the test holds the two
	// equal), from the concrete PCG so that each one is inlined rather
	// than two interface calls deep.
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	xd := x.Data()
	md, yd := mask.Data()[:len(xd)], y.Data()[:len(xd)]
	// Branch-free (a kept or dropped element is a coin toss the branch
	// predictor loses a quarter to half of the time): keep is all ones
	// or all zeros, and a dropped element's mask and value are +0.
	sb := math.Float32bits(scale)
	for i, v := range xd {
		var keep uint32
		if float32(uint32(src.Uint64()>>32)<<8>>8)/(1<<24) >= rate {
			keep = ^uint32(0)
		}
		md[i] = math.Float32frombits(sb & keep)
		yd[i] = math.Float32frombits(math.Float32bits(v*scale) & keep)
	}
	return y, mask, nil
}

// DropoutGrad returns the gradient of Dropout with respect to x given
// grad, the gradient with respect to y, and the mask Dropout returned:
// grad·mask elementwise. A nil mask (Dropout was the identity) returns
// a copy of grad.
func DropoutGrad(grad, mask *tensor.Tensor) (*tensor.Tensor, error) {
	if grad == nil {
		return nil, fmt.Errorf("nn: DropoutGrad: grad is nil")
	}
	if mask == nil {
		return grad.Clone(), nil
	}
	return opsBinary("DropoutGrad", "grad", grad, "mask", mask, func(dst, g, m []float32) {
		for i, v := range g[:len(dst)] {
			dst[i] = v * m[i]
		}
	})
}
