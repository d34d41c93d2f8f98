package layers

import (
	"fmt"
	"math"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// Predict runs m on x [N, input shape...] for inference (dropout off,
// batch normalization on its moving statistics), as Keras's
// model.predict(x, batch_size) does: in batches of batchSize rows, each
// batch's output copied into the result [N, output shape...] and its
// graph released (autograd.Release) before the next batch runs. The
// result is a plain tensor, outside any graph.
//
// Rows are independent at inference (Keras's predict assumes as much: a
// layer that mixed them would see one batch at a time), so the values
// are those of one call over all of x, up to rounding (a product of
// fewer rows may take another kernel).
//
// batchSize 0 picks one (PredictBatch). A small model's activations
// then stay in cache from layer to layer: the benchmark ResNet's
// batch-128 inference took 13 % less time in batches of 16 than in one
// call (BenchmarkPredict in internal/benchmark), where each of its
// [128, 28, 28, 16] activations (6.4 MB) left the caches before the next
// layer read it.
func Predict(m Network, x *tensor.Tensor, batchSize int) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("layers: Predict: input is nil")
	}
	if batchSize < 0 {
		return nil, fmt.Errorf("layers: Predict: batch size %d, want 0 (pick one) or more", batchSize)
	}
	s := x.Shape()
	if len(s) == 0 {
		return nil, fmt.Errorf("layers: Predict: input is a scalar, want [N, input shape...]")
	}
	n := s[0]
	if err := m.Build(s); err != nil {
		return nil, fmt.Errorf("layers: Predict: %w", err)
	}
	outShape, err := m.OutputShape(s)
	if err != nil {
		return nil, fmt.Errorf("layers: Predict: %w", err)
	}
	if batchSize == 0 {
		batchSize = PredictBatch(m)
	}
	out := tensor.Zeros(outShape...)
	in, per := tensor.Size(s[1:]), tensor.Size(outShape[1:])
	for lo := 0; lo < n; lo += batchSize {
		hi := min(n, lo+batchSize)
		xb := x
		if lo > 0 || hi < n {
			xb, err = tensor.New(append([]int{hi - lo}, s[1:]...), x.Data()[lo*in:hi*in])
			if err != nil {
				return nil, err
			}
		}
		y := m.Call(autograd.Constant(xb), Context{})
		if err := y.Err(); err != nil {
			return nil, err
		}
		if got := y.Value().Shape(); !tensor.SameShape(got[1:], outShape[1:]) || got[0] != hi-lo {
			autograd.Release(y)
			return nil, fmt.Errorf("layers: Predict: model %s gave %v for %d rows, want [%d %v]", m.Name(), got, hi-lo, hi-lo, outShape[1:])
		}
		copy(out.Data()[lo*per:hi*per], y.Value().Data())
		autograd.Release(y)
	}
	return out, nil
}

// predictBatchRows and predictWeightsMax are PredictBatch's rule: a
// model whose weights take at most predictWeightsMax bytes runs in
// batches of predictBatchRows rows. BenchmarkPredict, batch-128
// inference in batches of 8, 16, 32, 64 and 128 rows, medians of three
// runs on a shared Zen 5 (1 MiB L2 per core, both cores): the benchmark
// ResNet (24 K weights) 8.31, 7.11, 7.45, 7.34 and 8.18 ms. A model with
// large weights reads them again for each batch and multiplies fewer
// rows at a time: the lecture's convnet (13 MB of weights) took 13.27,
// 8.56, 7.47, 8.65 and 7.08 ms, and so runs in one batch.
const (
	predictBatchRows  = 16
	predictWeightsMax = 4 << 20
)

// PredictBatch is the batch size Predict uses for m when given 0:
// predictBatchRows for a model whose weights fit in predictWeightsMax
// bytes, else as many rows as a call gets (one batch).
func PredictBatch(m Network) int {
	bytes := 0
	for _, w := range m.AllWeights() {
		bytes += 4 * tensor.Size(w.Value().Shape())
	}
	if bytes <= predictWeightsMax {
		return predictBatchRows
	}
	return math.MaxInt
}
