package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// MaxPoolBiasReluGrad has the bits of MaxPoolGradWithArgmax followed by
// BiasAddReluGrad on every pooling case: the one-pass form on disjoint
// channels-last windows (with padding before, gaps between windows,
// clipped last windows, and sizes that split across workers and across
// bias-sum chunks mid-row), the two ops on the others. y is a ReLU's
// output (many zeros, so ties), and grad holds −0, NaN and infinities.
func TestMaxPoolBiasReluGradMatchesTwoOps(t *testing.T) {
	cases := append(poolCases[:len(poolCases):len(poolCases)], poolParallelCases...)
	cases = append(cases, []struct {
		shape []int
		o     PoolOptions
	}{
		{[]int{16, 28, 28, 32}, PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"}},
		{[]int{8, 14, 14, 64}, PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}},
		{[]int{3, 9, 10, 17}, PoolOptions{KSize: []int{3}, Strides: []int{3}, Padding: "SAME"}},
		{[]int{2, 11, 12, 5}, PoolOptions{KSize: []int{2}, Strides: []int{3}, Padding: "VALID"}},
		{[]int{5, 7, 9, 3}, PoolOptions{KSize: []int{2, 3}, Strides: []int{2, 3}, Padding: "SAME"}},
		{[]int{17, 5, 3}, PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}},
		{[]int{3, 4, 6, 5, 9}, PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"}},
		{[]int{2, 6, 7, 4}, PoolOptions{KSize: []int{3}, Strides: []int{3}, Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{0, 0}, {2, 1}, {1, 1}, {0, 0}}}},
	}...)
	special := []float32{float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), 0}
	for i, tc := range cases {
		t.Run(poolCaseName(tc.shape, tc.o), func(t *testing.T) {
			yd := opsRandom(tensor.Size(tc.shape), uint64(i)+11)
			for j, v := range yd {
				yd[j] = max(v, 0)
			}
			y := tensor.Must(tensor.New(tc.shape, yd))
			pooled, arg, err := MaxPoolWithArgmax(y, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			gd := opsRandom(pooled.Len(), uint64(i)+300)
			for j := 0; j < len(gd); j += 5 {
				gd[j] = special[(j/5)%len(special)]
			}
			grad := tensor.Must(tensor.New(pooled.Shape(), gd))
			dy, err := MaxPoolGradWithArgmax(tc.shape, grad, arg)
			if err != nil {
				t.Fatal(err)
			}
			wantV, wantB, err := BiasAddReluGrad(dy, y, tc.o.DataFormat)
			if err != nil {
				t.Fatal(err)
			}
			dv, db, err := MaxPoolBiasReluGrad(y, pooled, grad, arg, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, "dvalue", dv, wantV)
			sameBits(t, "dbias", db, wantB)
		})
	}
}

// sameBits fails unless got and want have the same shape and bits.
func sameBits(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if !tensor.SameShape(got.Shape(), want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	for j, v := range got.Data() {
		if w := want.Data()[j]; math.Float32bits(v) != math.Float32bits(w) {
			t.Fatalf("%s[%d] = %v, want %v", what, j, v, w)
		}
	}
}

// MaxPoolBiasReluGrad's errors name what was received.
func TestMaxPoolBiasReluGradErrors(t *testing.T) {
	o := PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"}
	y := tensor.Zeros(1, 4, 4, 2)
	pooled, arg, err := MaxPoolWithArgmax(y, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		y, pooled, grad *tensor.Tensor
		arg             []int32
		o               PoolOptions
		want            string
	}{
		{"nil y", nil, pooled, pooled, arg, o, "y tensor is nil"},
		{"nil grad", y, pooled, nil, arg, o, "grad tensor is nil"},
		{"grad shape", y, pooled, tensor.Zeros(1, 2, 2, 3), arg, o, "want the pooled shape [1 2 2 2]"},
		{"offsets", y, pooled, pooled, arg[:3], o, "argmax has 3 offsets, want one per grad element (8)"},
		{"options", y, pooled, pooled, arg, PoolOptions{KSize: []int{2}, Padding: "FULL"}, "FULL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := MaxPoolBiasReluGrad(tc.y, tc.pooled, tc.grad, tc.arg, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
