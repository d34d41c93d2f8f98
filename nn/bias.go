package nn

// BiasAdd and its gradient. Shape legend: value is [N, …, C] (channels
// last) or [N, C, …] (channels first); bias is [C]. The kernels see the
// value as [outer, C, inner]: channels last is [N·…, C, 1], channels
// first is [N, C, ∏…].

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// biasLayout returns outer, C, inner for a tensor of the given shape and
// data format.
func biasLayout(op string, shape []int, dataFormat string) (outer, c, inner int, err error) {
	r := len(shape)
	if r < 2 {
		return 0, 0, 0, fmt.Errorf("nn: %s wants a tensor of rank ≥ 2, got shape %v", op, shape)
	}
	axis := r - 1
	switch f := strings.ToUpper(dataFormat); f {
	case "", "NHWC", "N...C", "NWC", "NDHWC", "NC":
	case "NCHW", "NC...", "NCW", "NCDHW":
		axis = 1
	default:
		return 0, 0, 0, fmt.Errorf("nn: %s: data format %q: want channels last (\"\", \"NHWC\", \"N...C\") or first (\"NCHW\", \"NC...\")", op, dataFormat)
	}
	outer, inner = 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	return outer, shape[axis], inner, nil
}

// BiasAdd returns value + bias broadcast along the channel dimension:
// y[…, c, …] = value[…, c, …] + bias[c]. value has rank ≥ 2; its channels
// are the last dimension for dataFormat "", "NHWC" or "N...C" (and the
// rank-specific "NWC", "NDHWC"), dimension 1 for "NCHW" or "NC..." (and
// "NCW", "NCDHW"). bias is [C]. The result has value's shape.
func BiasAdd(value, bias *tensor.Tensor, dataFormat string) (*tensor.Tensor, error) {
	return biasApply("BiasAdd", value, bias, dataFormat, func(dst, x, b []float32, inner int) {
		biasAddKernel(dst, x, b, len(b), inner)
	})
}

// biasApply validates BiasAdd's arguments for op and runs kernel over
// whole [C, inner] blocks of value in parallel, writing a new result.
func biasApply(op string, value, bias *tensor.Tensor, dataFormat string, kernel func(dst, x, b []float32, inner int)) (*tensor.Tensor, error) {
	if value == nil || bias == nil {
		return nil, fmt.Errorf("nn: %s: value or bias is nil", op)
	}
	outer, c, inner, err := biasLayout(op, value.Shape(), dataFormat)
	if err != nil {
		return nil, err
	}
	if bias.Rank() != 1 || bias.Dim(0) != c {
		return nil, fmt.Errorf("nn: %s: bias has shape %v, want [%d] for value of shape %v and data format %q", op, bias.Shape(), c, value.Shape(), dataFormat)
	}
	y := newResult(value.Shape()...)
	yd, xd, b := y.Data(), value.Data(), bias.Data()[:c]
	per := c * inner
	if per == 0 {
		return y, nil
	}
	parallel.For(outer, max(1, elemMinPer/per), func(lo, hi int) {
		kernel(yd[lo*per:hi*per], xd[lo*per:hi*per], b, inner)
	})
	return y, nil
}

// BiasAddGrad returns the gradient of BiasAdd with respect to bias: the
// sum of grad over every dimension but the channels, db[c] = Σ grad[…, c, …],
// a [C] tensor. dataFormat is as in BiasAdd. The sums run in float64 over
// a fixed split of the rows, so the result does not depend on the
// number of threads.
func BiasAddGrad(grad *tensor.Tensor, dataFormat string) (*tensor.Tensor, error) {
	if grad == nil {
		return nil, fmt.Errorf("nn: BiasAddGrad: grad is nil")
	}
	outer, c, inner, err := biasLayout("BiasAddGrad", grad.Shape(), dataFormat)
	if err != nil {
		return nil, err
	}
	db := tensor.Zeros(c)
	biasAddGradKernel(db.Data(), grad.Data(), outer, c, inner)
	return db, nil
}

// biasAddKernel adds b[ch] to whole [C, inner] blocks of x.
func biasAddKernel[T float](dst, x, b []T, c, inner int) {
	per := c * inner
	for o := 0; o+per <= len(x); o += per {
		if inner == 1 {
			xr, yr := x[o:o+c], dst[o:o+c]
			for ch, v := range xr {
				yr[ch] = v + b[ch]
			}
			continue
		}
		for ch, bv := range b[:c] {
			s := o + ch*inner
			xr, yr := x[s:s+inner], dst[s:s+inner]
			for i, v := range xr {
				yr[i] = v + bv
			}
		}
	}
}

// biasGradChunks is the fixed number of row blocks BiasAddGrad sums
// separately (and in parallel) before adding the partial sums in order.
const biasGradChunks = 16

// biasAddGradKernel sums g, viewed as [outer, c, inner], into db[c].
func biasAddGradKernel[T float](db, g []T, outer, c, inner int) {
	chunks := min(biasGradChunks, outer)
	if chunks == 0 || c == 0 {
		return
	}
	partial := make([]float64, chunks*c)
	minPer := 1
	if outer*c*inner < elemMinPer {
		minPer = chunks
	}
	parallel.For(chunks, minPer, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			acc := partial[k*c : (k+1)*c]
			for o := k * outer / chunks; o < (k+1)*outer/chunks; o++ {
				base := o * c * inner
				if inner == 1 {
					for ch, v := range g[base : base+c] {
						acc[ch] += float64(v)
					}
					continue
				}
				for ch := range acc {
					s := 0.0
					for _, v := range g[base+ch*inner : base+(ch+1)*inner] {
						s += float64(v)
					}
					acc[ch] += s
				}
			}
		}
	})
	for ch := range db[:c] {
		var s float64
		for k := 0; k < chunks; k++ {
			s += partial[k*c+ch]
		}
		db[ch] = T(s)
	}
}
