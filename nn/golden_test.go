package nn

// Golden tests: every op against values computed by TensorFlow.js 4.22
// (cpu backend, float32). The generator is testdata/gen/gen.js; regenerate
// the files in testdata/golden with
//
//	cd testdata/gen && npm ci && node gen.js
//
// Where tfjs departs from TF (avg_pool's SAME gradient, unclamped 3-D SAME
// padding, negative VALID sizes, dilated gradients) the generator follows
// TF; see the comment at the top of gen.js. Gradients in the files are of
// sum(output · out_grad) with respect to each input, which is what the
// Backprop/Grad ops compute when handed out_grad.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// Tolerance: |got − want| ≤ goldenAtol + goldenRtol·|want|.
//
// tfjs' cpu backend accumulates in float64 and rounds once to float32, so
// its values are within half an ulp (u = 2⁻²⁴ ≈ 6e-8 relative) of the exact
// result. The Go ops accumulate n products in float32 in blocked order;
// rounding errors then add up like a random walk, about u·√n·(size of the
// partial sums). Inputs and weights are in [-1, 1]: most reductions here
// are under ~300 terms with partial sums of order 1–10 (u·√300·10 ≈ 1e-5),
// the longest is a filter gradient over 4608 positions with partial sums
// of order 20 (u·√4608·20 ≈ 8e-5). 1e-4 absolute plus 1e-4 relative (for
// values of magnitude > 1: that gradient, and logits up to 60 in the loss
// cases) covers this, while a wrong tap, a wrong pad split or a wrong
// divisor changes values by 1e-2 or more. Measured when this test was written,
// over every case and every Sgemm implementation (CONVNET_KERNELS=ref,
// purego, the default AVX2 one): largest |got − want| 2.1e-5, largest
// share of the bound 3.8%, both on that 4608-position filter gradient.
const (
	goldenAtol = 1e-4
	goldenRtol = 1e-4
)

// goldTensor is a tensor as the generator writes it.
type goldTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

// tensor returns a fresh tensor holding a copy of g (ops must not be able
// to alter the golden values of a later check).
func (g *goldTensor) tensor(t *testing.T) *tensor.Tensor {
	t.Helper()
	if g == nil {
		t.Fatal("golden case lacks a tensor")
	}
	x, err := tensor.New(g.Shape, append([]float32(nil), g.Data...))
	if err != nil {
		t.Fatalf("golden tensor: %v", err)
	}
	return x
}

type goldFile[C any] struct {
	Header map[string]any `json:"header"`
	Cases  []C            `json:"cases"`
}

// loadGolden reads testdata/golden/name.
func loadGolden[C any](t *testing.T, name string) []C {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatalf("%v (regenerate: cd testdata/gen && npm ci && node gen.js)", err)
	}
	var f goldFile[C]
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("%s holds no cases", name)
	}
	return f.Cases
}

// expectClose fails t unless got has want's shape and every element is
// within the golden tolerance; it names the worst element.
func expectClose(t *testing.T, what string, got *tensor.Tensor, err error, want *goldTensor) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: unexpected error: %v", what, err)
		return
	}
	if got == nil {
		t.Errorf("%s: nil result", what)
		return
	}
	if !tensor.SameShape(got.Shape(), want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape(), want.Shape)
		return
	}
	gd := got.Data()
	bad, worst, worstExcess := 0, -1, 0.0
	for i, w := range want.Data {
		diff := math.Abs(float64(gd[i]) - float64(w))
		limit := goldenAtol + goldenRtol*math.Abs(float64(w))
		if !(diff <= limit) { // also catches NaN
			bad++
			if excess := diff / limit; worst < 0 || excess > worstExcess || math.IsNaN(diff) {
				worst, worstExcess = i, excess
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements differ; worst at %v: got %g, want %g",
			what, bad, len(want.Data), unravel(worst, want.Shape), gd[worst], want.Data[worst])
	}
}

// unravel turns a flat row-major index into a multi-index.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	return idx
}

// paramForm spells a per-spatial-dimension strides/dilations/ksize value in
// one of the three forms tf.nn accepts, chosen by the case index so that
// every form is exercised: as given, one value (when all are equal), or
// the full rank with 1 at the batch and channel positions.
func paramForm(v []int, caseIndex int, dataFormat string) []int {
	switch caseIndex % 3 {
	case 1:
		full := []int{1}
		if isChannelsFirst(dataFormat) {
			full = append(full, 1)
			return append(full, v...)
		}
		full = append(full, v...)
		return append(full, 1)
	case 2:
		for _, x := range v {
			if x != v[0] {
				return v
			}
		}
		return v[:1]
	}
	return v
}

func isChannelsFirst(dataFormat string) bool {
	return strings.HasPrefix(strings.ToUpper(dataFormat), "NC")
}

// call runs f, turning a panic into a test failure (ops must return
// errors, never panic).
func call(t *testing.T, what string, f func() (*tensor.Tensor, error)) (out *tensor.Tensor, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
			out, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}
