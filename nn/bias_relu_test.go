package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// bitsEqual fails unless got and want hold the same float32 bits.
func bitsEqual(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// The fused ops give the bits of BiasAdd then Relu, and of ReluGrad then
// BiasAddGrad, in both layouts, on shapes that split across goroutines
// and on values with NaNs, zeros and exact cancellations.
func TestBiasAddReluMatchesUnfused(t *testing.T) {
	for _, tc := range []struct {
		shape  []int
		format string
	}{
		{[]int{3, 5}, ""},
		{[]int{2, 3, 4, 7}, "NHWC"},
		{[]int{2, 7, 3, 4}, "NCHW"},
		{[]int{64, 28, 28, 32}, ""},
		{[]int{9, 33, 17, 5}, "NCHW"},
		{[]int{128, 1024}, ""},
	} {
		t.Run(fmt.Sprintf("%v-%s", tc.shape, tc.format), func(t *testing.T) {
			_, c, _, err := biasLayout("test", tc.shape, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			xd := opsRandom(tensor.Size(tc.shape), 11)
			bd := opsRandom(c, 12)
			xd[0] = float32(math.NaN())
			if len(xd) > 2 {
				xd[1] = -bd[1%c] // x + b = 0 exactly when channels are last
				xd[2] = 0
			}
			x := tensor.Must(tensor.New(tc.shape, xd))
			b := tensor.Must(tensor.New([]int{c}, bd))
			pre, err := BiasAdd(x, b, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			want := Relu(pre)
			y, err := BiasAddRelu(x, b, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			bitsEqual(t, "BiasAddRelu", y.Data(), want.Data())

			g := tensor.Must(tensor.New(tc.shape, opsRandom(len(xd), 13)))
			wantDx, err := ReluGrad(g, pre)
			if err != nil {
				t.Fatal(err)
			}
			wantDb, err := BiasAddGrad(wantDx, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			dx, db, err := BiasAddReluGrad(g, y, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			bitsEqual(t, "BiasAddReluGrad dvalue", dx.Data(), wantDx.Data())
			bitsEqual(t, "BiasAddReluGrad dbias", db.Data(), wantDb.Data())
		})
	}
}

func TestBiasAddReluErrors(t *testing.T) {
	x := tensor.Zeros(2, 3)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"nil value", second(BiasAddRelu(nil, tensor.Zeros(3), ""))},
		{"bias shape", second(BiasAddRelu(x, tensor.Zeros(2), ""))},
		{"rank 1", second(BiasAddRelu(tensor.Zeros(3), tensor.Zeros(3), ""))},
		{"format", second(BiasAddRelu(x, tensor.Zeros(3), "HWNC"))},
		{"grad shape", third(BiasAddReluGrad(x, tensor.Zeros(3, 2), ""))},
		{"nil grad", third(BiasAddReluGrad(nil, x, ""))},
		{"grad format", third(BiasAddReluGrad(x, x, "HWNC"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func second(_ *tensor.Tensor, err error) error { return err }

func third(_, _ *tensor.Tensor, err error) error { return err }

func BenchmarkBiasAddReluLecture(b *testing.B) {
	shape := []int{128, 28, 28, 32}
	x := tensor.Must(tensor.New(shape, opsRandom(tensor.Size(shape), 1)))
	bias := tensor.Must(tensor.New([]int{32}, opsRandom(32, 2)))
	g := tensor.Must(tensor.New(shape, opsRandom(tensor.Size(shape), 3)))
	b.Run("impl=fused", func(b *testing.B) {
		for b.Loop() {
			y, _ := BiasAddRelu(x, bias, "")
			BiasAddReluGrad(g, y, "")
		}
	})
	b.Run("impl=unfused", func(b *testing.B) {
		for b.Loop() {
			pre, _ := BiasAdd(x, bias, "")
			Relu(pre)
			dx, _ := ReluGrad(g, pre)
			BiasAddGrad(dx, "")
		}
	})
}

// BenchmarkBiasAddRows times BiasAdd's channels-last loop on one
// goroutine over the ResNet's [128, 28, 28, 16] activations and the
// lecture's [128, 14, 14, 64]: the vector kernel (kernels.BiasAdd)
// against the plain loop it replaced (biasAddKernel).
func BenchmarkBiasAddRows(b *testing.B) {
	for _, shape := range [][]int{{128, 28, 28, 16}, {128, 14, 14, 64}} {
		c := shape[3]
		x := opsRandom(tensor.Size(shape), 1)
		bias := opsRandom(c, 2)
		y := make([]float32, len(x))
		for _, impl := range []string{"kernels", "loop"} {
			b.Run(fmt.Sprintf("c=%d/impl=%s", c, impl), func(b *testing.B) {
				for b.Loop() {
					if impl == "kernels" {
						kernels.BiasAdd(y, x, bias)
					} else {
						biasAddKernel(y, x, bias, c, 1)
					}
				}
				b.SetBytes(int64(8 * len(x)))
			})
		}
	}
}
