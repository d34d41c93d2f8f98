package nn

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestPoolExplicitPaddingByHand: a 3x3 image of negative values, window 3,
// stride 2, padded (1, 1) rows and (2, 0) columns, worked by hand. The
// padded cells are −∞ for max (never chosen, so every result is one of
// the negative inputs) and are left out of avg's divisor:
//
//	x = -1 -2 -3     windows: rows {0,1} {1,2}, columns {0} {0,1,2}
//	    -4 -5 -6
//	    -7 -8 -9
func TestPoolExplicitPaddingByHand(t *testing.T) {
	x, _ := tensor.New([]int{1, 3, 3, 1}, []float32{-1, -2, -3, -4, -5, -6, -7, -8, -9})
	third := float32(1.0 / 3)
	for _, pads := range [][][2]int{
		{{1, 1}, {2, 0}},                 // one pair per spatial dimension
		{{0, 0}, {1, 1}, {2, 0}, {0, 0}}, // the full rank, as tf.nn.max_pool takes it
	} {
		o := PoolOptions{KSize: []int{3}, Strides: []int{2}, Padding: "EXPLICIT", ExplicitPaddings: pads}
		for _, tc := range []struct {
			name string
			run  func() (*tensor.Tensor, error)
			want []float32
		}{
			{"max", func() (*tensor.Tensor, error) { return MaxPool(x, o) }, []float32{-1, -1, -4, -4}},
			{"avg", func() (*tensor.Tensor, error) { return AvgPool(x, o) }, []float32{-2.5, -3.5, -5.5, -6.5}},
			{"max grad", func() (*tensor.Tensor, error) { return MaxPoolGrad(x, tensor.Ones(1, 2, 2, 1), o) },
				[]float32{2, 0, 0, 2, 0, 0, 0, 0, 0}},
			{"avg grad", func() (*tensor.Tensor, error) { return AvgPoolGrad(x.Shape(), tensor.Ones(1, 2, 2, 1), o) },
				[]float32{2 * third, 1.0 / 6, 1.0 / 6, 4 * third, third, third, 2 * third, 1.0 / 6, 1.0 / 6}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				y, err := tc.run()
				if err != nil {
					t.Fatal(err)
				}
				if y.Len() != len(tc.want) {
					t.Fatalf("shape %v, want %d values", y.Shape(), len(tc.want))
				}
				for i, v := range y.Data() {
					if math.Abs(float64(v-tc.want[i])) > 1e-6 {
						t.Fatalf("got %v, want %v", y.Data(), tc.want)
					}
				}
			})
		}
	}
}
