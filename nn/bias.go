package nn

// BiasAdd and its gradient. Shape legend: value is [N, …, C] (channels
// last) or [N, C, …] (channels first); bias is [C]. The kernels see the
// value as [outer, C, inner]: channels last is [N·…, C, 1], channels
// first is [N, C, ∏…].

import (
	"fmt"
	"strings"
	"sync"

	"github.com/convnet-go/convnet/internal/kernels"
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
		if inner == 1 {
			kernels.BiasAdd(dst, x, b) // channels last: whole rows of C
			return
		}
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
	minPer := max(1, elemMinPer/per)
	if parallel.Split(outer, minPer) == 1 {
		kernel(yd, xd, b, inner) // no closure to allocate
		return y, nil
	}
	parallel.For(outer, minPer, func(lo, hi int) {
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

// sumChunks is the fixed number of row blocks whose float64 partial sums
// BiasAddGrad, BiasAddReluGrad and the batch-norm reductions add in
// order: their results do not depend on the number of workers.
const sumChunks = 16

// chunkSums runs fn over a fixed split of rows into sumChunks blocks (in
// parallel when work, the elements read, is at least elemMinPer); block
// k gets acc, its own width-long slice of partial sums, zero on entry.
// It returns the blocks' sums (width values) added in block order.
func chunkSums(rows, width, work int, fn func(lo, hi int, acc []float64)) []float64 {
	chunks := min(sumChunks, rows)
	pb := getPartials(chunks * width)
	defer partials.Put(pb)
	partial := *pb
	minPer := chunks
	if work >= elemMinPer {
		minPer = 1
	}
	parallel.For(chunks, minPer, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			fn(k*rows/chunks, (k+1)*rows/chunks, partial[k*width:(k+1)*width])
		}
	})
	out := make([]float64, width)
	for k := range chunks {
		for i, v := range partial[k*width : (k+1)*width] {
			out[i] += v
		}
	}
	return out
}

// partials holds chunkSums' partial sums between calls (*[]float64): a
// training step makes a dozen such reductions, and fresh slices each
// time would land on fresh pages.
var partials sync.Pool

// getPartials returns n float64 zeros from partials, or new ones.
func getPartials(n int) *[]float64 {
	if p, ok := partials.Get().(*[]float64); ok && cap(*p) >= n {
		*p = (*p)[:n]
		clear(*p)
		return p
	}
	s := make([]float64, n)
	return &s
}

// biasAddGradKernel sums g, viewed as [outer, c, inner], into db[c].
func biasAddGradKernel[T float](db, g []T, outer, c, inner int) {
	sums := chunkSums(outer, c, outer*c*inner, func(lo, hi int, acc []float64) {
		for o := lo; o < hi; o++ {
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
	})
	for ch, s := range sums {
		db[ch] = T(s)
	}
}
