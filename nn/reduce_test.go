package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestReduceByHand(t *testing.T) {
	x := opsT([]int{2, 3}, 1, 5, 3, 4, 2, 6)
	for _, tc := range []struct {
		name string
		f    func(*tensor.Tensor, []int, bool) (*tensor.Tensor, error)
		axes []int
		keep bool
		want *tensor.Tensor
	}{
		{"sum all", ReduceSum, nil, false, opsT(nil, 21)},
		{"sum all keep", ReduceSum, nil, true, opsT([]int{1, 1}, 21)},
		{"sum rows", ReduceSum, []int{1}, false, opsT([]int{2}, 9, 12)},
		{"sum -1 keep", ReduceSum, []int{-1}, true, opsT([]int{2, 1}, 9, 12)},
		{"sum cols", ReduceSum, []int{0}, false, opsT([]int{3}, 5, 7, 9)},
		{"sum none", ReduceSum, []int{}, false, x},
		{"sum both listed", ReduceSum, []int{1, -2}, false, opsT(nil, 21)},
		{"mean rows", ReduceMean, []int{1}, false, opsT([]int{2}, 3, 4)},
		{"mean cols keep", ReduceMean, []int{0}, true, opsT([]int{1, 3}, 2.5, 3.5, 4.5)},
		{"max rows", ReduceMax, []int{1}, false, opsT([]int{2}, 5, 6)},
		{"max cols", ReduceMax, []int{-2}, false, opsT([]int{3}, 4, 5, 6)},
		{"max all", ReduceMax, nil, false, opsT(nil, 6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f(x, tc.axes, tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(got.Shape(), tc.want.Shape()) {
				t.Fatalf("shape %v, want %v", got.Shape(), tc.want.Shape())
			}
			opsClose(t, tc.name, got.Data(), tc.want.Data(), 0)
		})
	}
	t.Run("empty", func(t *testing.T) {
		e := tensor.Zeros(0, 2)
		s, _ := ReduceSum(e, []int{0}, false)
		m, _ := ReduceMean(e, []int{0}, false)
		mx, _ := ReduceMax(e, []int{0}, false)
		opsClose(t, "sum", s.Data(), []float32{0, 0}, 0)
		if !math.IsNaN(float64(m.Data()[0])) || !math.IsInf(float64(mx.Data()[0]), -1) {
			t.Errorf("mean %v (want NaN), max %v (want -Inf)", m.Data(), mx.Data())
		}
	})
	t.Run("NaN propagates through max", func(t *testing.T) {
		y, _ := ReduceMax(opsT([]int{2, 2}, 1, float32(math.NaN()), 3, 2), []int{1}, false)
		if !math.IsNaN(float64(y.Data()[0])) || y.Data()[1] != 3 {
			t.Errorf("got %v, want [NaN 3]", y.Data())
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, axes := range [][]int{{2}, {-3}, {1, 1}, {0, -2}} {
			if _, err := ReduceSum(x, axes, false); err == nil || !strings.Contains(err.Error(), "axis") {
				t.Errorf("axes %v: err = %v", axes, err)
			}
		}
		if _, err := ReduceSumGrad(tensor.Zeros(3), []int{2, 3}, []int{1}, false); err == nil || !strings.Contains(err.Error(), "[2]") {
			t.Errorf("ReduceSumGrad with a wrong grad shape: err = %v", err)
		}
	})
}

// TestReduceFastPathsMatchRef checks reduceInto against reduceRef for
// every subset of axes of odd shapes (all, row, column and mixed
// patterns, with dims of size 1 that the merge drops).
func TestReduceFastPathsMatchRef(t *testing.T) {
	for _, s := range [][]int{{7}, {5, 9}, {3, 1, 7}, {2, 3, 5, 7}, {1, 300, 257}, {257, 1, 3}} {
		x := randT(5, -3, 3, s...)
		for mask := 0; mask < 1<<len(s); mask++ {
			red := make([]bool, len(s))
			for i := range red {
				red[i] = mask&(1<<i) != 0
			}
			for _, k := range []redKind{redSum, redMax} {
				n := tensor.Size(keptShape(s, red))
				got, want := make([]float32, n), make([]float32, n)
				reduceInto(got, x.Data(), s, red, k)
				reduceRef(want, x.Data(), s, red, k)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%v reduce %v kind %d: element %d = %v, reference %v", s, red, k, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestReduceMaxGradTiesSplit(t *testing.T) {
	x := opsT([]int{2, 3}, 2, 1, 2, 0, 3, -1)
	y, _ := ReduceMax(x, []int{1}, false)
	g, err := ReduceMaxGrad(opsT([]int{2}, 1, 5), x, y, []int{1}, false)
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "ReduceMaxGrad", g.Data(), []float32{0.5, 0, 0.5, 0, 5, 0}, 0)
}

func TestReduceGradsFD(t *testing.T) {
	// Distinct values a grid apart, so no step of 1e-2 changes a maximum.
	x := tensor.Zeros(2, 3, 4)
	perm := tensor.NewRand(9).Perm(x.Len())
	for i := range x.Data() {
		x.Data()[i] = float32(perm[i])*0.1 - 1
	}
	for _, axes := range [][]int{nil, {0}, {-1}, {0, 2}, {1}} {
		for _, keep := range []bool{false, true} {
			for _, op := range []string{"Sum", "Mean", "Max"} {
				t.Run(fmt.Sprintf("%s %v keep=%v", op, axes, keep), func(t *testing.T) {
					fdCheck(t, []*tensor.Tensor{x}, func(xs []*tensor.Tensor) (*tensor.Tensor, error) {
						switch op {
						case "Sum":
							return ReduceSum(xs[0], axes, keep)
						case "Mean":
							return ReduceMean(xs[0], axes, keep)
						}
						return ReduceMax(xs[0], axes, keep)
					}, func(xs []*tensor.Tensor, w *tensor.Tensor) ([]*tensor.Tensor, error) {
						var g *tensor.Tensor
						var err error
						switch op {
						case "Sum":
							g, err = ReduceSumGrad(w, xs[0].Shape(), axes, keep)
						case "Mean":
							g, err = ReduceMeanGrad(w, xs[0].Shape(), axes, keep)
						default:
							y, _ := ReduceMax(xs[0], axes, keep)
							g, err = ReduceMaxGrad(w, xs[0], y, axes, keep)
						}
						return []*tensor.Tensor{g}, err
					})
				})
			}
		}
	}
}
