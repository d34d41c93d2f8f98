package nn

import (
	byteorder "encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"

	"github.com/convnet-go/convnet/internal/parallel"
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
	xd := x.Data()
	md, yd := mask.Data()[:len(xd)], y.Data()[:len(xd)]
	// The draws of tensor.NewRand(seed).Float32() (the test holds the two
	// equal), from the concrete PCG so that each one is inlined rather
	// than two interface calls deep. Each worker's generator starts at
	// its range's first draw (pcgAt), so the mask does not depend on the
	// split.
	sb := math.Float32bits(scale)
	parallel.For(len(xd), dropoutMinPer, func(lo, hi int) {
		src := pcgAt(seed, seed^0x9e3779b97f4a7c15, uint64(lo))
		md, yd := md[lo:hi], yd[lo:hi]
		// Branch-free (a kept or dropped element is a coin toss the
		// branch predictor loses a quarter to half of the time): keep is
		// all ones or all zeros, and a dropped element's mask and value
		// are +0.
		for i, v := range xd[lo:hi] {
			var keep uint32
			if float32(uint32(src.Uint64()>>32)<<8>>8)/(1<<24) >= rate {
				keep = ^uint32(0)
			}
			md[i] = math.Float32frombits(sb & keep)
			yd[i] = math.Float32frombits(math.Float32bits(v*scale) & keep)
		}
	})
	return y, mask, nil
}

// dropoutMinPer is the number of draws worth a worker in Dropout.
const dropoutMinPer = 1 << 14

// pcgAt returns math/rand/v2's PCG seeded with (seed1, seed2) and moved
// past its first n draws. The generator is a 128-bit linear congruential
// step s ← a·s + c (mod 2¹²⁸), so n steps are one affine map
// s ← Aₙ·s + Cₙ, built by squaring: the step for 2k draws is the step
// for k applied twice, (a, c)∘(a, c) = (a², (a+1)·c). The state is set
// through UnmarshalBinary ("pcg:", then the high and low 64 bits, big
// endian).
func pcgAt(seed1, seed2, n uint64) *rand.PCG {
	// PCG's 128-bit multiplier and increment (the constants of
	// math/rand/v2, as in the reference PCG).
	step := u128{0x2360ed051fc65da4, 0x4385df649fccf645}
	inc := u128{0x5851f42d4c957f2d, 0x14057b7ef767814f}
	accMul, accAdd := u128{0, 1}, u128{}
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			accMul = accMul.mul(step)
			accAdd = accAdd.mul(step).add(inc)
		}
		inc = step.add(u128{0, 1}).mul(inc)
		step = step.mul(step)
	}
	s := accMul.mul(u128{seed1, seed2}).add(accAdd)
	var b [20]byte
	copy(b[:], "pcg:")
	byteorder.BigEndian.PutUint64(b[4:], s.hi)
	byteorder.BigEndian.PutUint64(b[12:], s.lo)
	p := new(rand.PCG)
	if err := p.UnmarshalBinary(b[:]); err != nil {
		panic("nn: PCG state encoding refused: " + err.Error())
	}
	return p
}

// u128 is an unsigned 128-bit integer; mul and add wrap modulo 2¹²⁸.
type u128 struct{ hi, lo uint64 }

func (a u128) mul(b u128) u128 {
	hi, lo := bits.Mul64(a.lo, b.lo)
	return u128{hi + a.hi*b.lo + a.lo*b.hi, lo}
}

func (a u128) add(b u128) u128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(a.hi, b.hi, c)
	return u128{hi, lo}
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
