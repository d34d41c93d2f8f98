package nn

// BiasAddRelu and its gradient: relu(value + bias) in one pass over the
// data, and both gradients from one pass over grad (the pair that follows
// every conv and dense layer with a ReLU). Shapes and layouts as in
// bias.go: value [outer, C, inner], bias [C].

import (
	"math"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// BiasAddRelu returns Relu(BiasAdd(value, bias, dataFormat)), computed in
// one pass: y = max(value + bias[c], 0), a NaN staying NaN. Arguments and
// errors are those of BiasAdd; the result has value's shape and the same
// bits as the two ops in turn.
func BiasAddRelu(value, bias *tensor.Tensor, dataFormat string) (*tensor.Tensor, error) {
	return biasApply("BiasAddRelu", value, bias, dataFormat, biasReluKernel)
}

// BiasAddReluGrad returns the gradients of y = BiasAddRelu(value, bias,
// dataFormat) given y and grad = ∂L/∂y (same shape): dvalue = grad where
// y > 0, else 0 (ReluGrad, since y > 0 exactly where value + bias > 0),
// and dbias [C] = Σ dvalue over every dimension but the channels, summed
// as BiasAddGrad sums (float64 over a fixed split of the rows), so both
// results have the bits of ReluGrad followed by BiasAddGrad.
func BiasAddReluGrad(grad, y *tensor.Tensor, dataFormat string) (dvalue, dbias *tensor.Tensor, err error) {
	const op = "BiasAddReluGrad"
	if err := opsSameShape(op, "grad", grad, "y", y); err != nil {
		return nil, nil, err
	}
	outer, c, inner, err := biasLayout(op, grad.Shape(), dataFormat)
	if err != nil {
		return nil, nil, err
	}
	dvalue = newResult(grad.Shape()...)
	dbias = tensor.Zeros(c)
	biasReluGradKernel(dvalue.Data(), dbias.Data(), grad.Data(), y.Data(), outer, c, inner)
	return dvalue, dbias, nil
}

// biasReluKernel sets dst = max(x + b[ch], 0) over whole [C, inner]
// blocks of x, branch-free like kernels.Relu.
func biasReluKernel(dst, x, b []float32, inner int) {
	c := len(b)
	per := c * inner
	if inner == 1 {
		kernels.BiasRelu(dst, x, b) // AVX2 when c is a multiple of 8
		return
	}
	for o := 0; o+per <= len(x); o += per {
		for ch, bv := range b {
			s := o + ch*inner
			reluBiasRow(dst[s:s+inner], x[s:s+inner], bv)
		}
	}
}

func reluBiasRow(dst, x []float32, bv float32) {
	x = x[:len(dst)]
	for i, v := range x {
		v += bv
		m := ^uint32(0)
		if v < 0 {
			m = 0
		}
		dst[i] = math.Float32frombits(math.Float32bits(v) & m)
	}
}

// biasReluGradKernel writes dx = g masked by y > 0 and db[c] = Σ dx over
// [outer, ·, inner], with biasAddGradKernel's chunks (chunkSums), so that
// db has the same bits.
func biasReluGradKernel(dx, db, g, y []float32, outer, c, inner int) {
	per := c * inner
	sums := chunkSums(outer, c, outer*per, func(lo, hi int, acc []float64) {
		if inner == 1 {
			kernels.ReluGradSum(dx[lo*c:hi*c], g[lo*c:hi*c], y[lo*c:hi*c], acc)
			return
		}
		for o := lo; o < hi; o++ {
			base := o * per
			for ch := range acc {
				s := base + ch*inner
				dr := dx[s : s+inner]
				kernels.ReluGrad(dr, g[s:s+inner], y[s:s+inner])
				sum := 0.0
				for _, v := range dr {
					sum += float64(v)
				}
				acc[ch] += sum
			}
		}
	})
	for ch, s := range sums {
		db[ch] = float32(s)
	}
}
