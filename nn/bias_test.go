package nn

import (
	"runtime"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/tensor"
)

func TestBiasAddByHand(t *testing.T) {
	for _, tc := range []struct {
		name     string
		value    *tensor.Tensor
		bias     []float32
		format   string
		want     []float32
		wantGrad []float32 // BiasAddGrad(value)
	}{
		{"dense [2 3]", opsSeq(1, 2, 3), []float32{10, 20, 30}, "", []float32{11, 22, 33, 14, 25, 36}, []float32{5, 7, 9}},
		{"NHWC [1 2 2 2]", opsSeq(1, 1, 2, 2, 2), []float32{100, 200}, "NHWC", []float32{101, 202, 103, 204, 105, 206, 107, 208}, []float32{16, 20}},
		{"NCHW [1 2 2 2]", opsSeq(1, 1, 2, 2, 2), []float32{100, 200}, "NCHW", []float32{101, 102, 103, 104, 205, 206, 207, 208}, []float32{10, 26}},
		{"NC... rank 3", opsSeq(1, 2, 2, 1), []float32{1, -1}, "NC...", []float32{2, 1, 4, 3}, []float32{4, 6}},
		{"NCDHW rank 5", opsSeq(1, 1, 2, 1, 1, 2), []float32{1, -1}, "NCDHW", []float32{2, 3, 2, 3}, []float32{3, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := BiasAdd(tc.value, opsT([]int{len(tc.bias)}, tc.bias...), tc.format)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), tc.value.Shape()) {
				t.Fatalf("shape %v, want %v", y.Shape(), tc.value.Shape())
			}
			opsClose(t, "BiasAdd", y.Data(), tc.want, 0)
			g, err := BiasAddGrad(tc.value, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			opsClose(t, "BiasAddGrad", g.Data(), tc.wantGrad, 0)
		})
	}
}

func TestBiasAddErrors(t *testing.T) {
	v := tensor.Zeros(2, 3, 4)
	for _, tc := range []struct {
		name  string
		err   func() error
		quote string
	}{
		{"bias size", func() error { _, err := BiasAdd(v, tensor.Zeros(3), ""); return err }, "[3]"},
		{"bias size NCHW", func() error { _, err := BiasAdd(v, tensor.Zeros(4), "NCHW"); return err }, "[4]"},
		{"bias rank", func() error { _, err := BiasAdd(v, tensor.Zeros(1, 4), ""); return err }, "[1 4]"},
		{"value rank 1", func() error { _, err := BiasAdd(tensor.Zeros(4), tensor.Zeros(4), ""); return err }, "[4]"},
		{"format", func() error { _, err := BiasAdd(v, tensor.Zeros(4), "HWCN"); return err }, "HWCN"},
		{"grad rank 1", func() error { _, err := BiasAddGrad(tensor.Zeros(4), ""); return err }, "[4]"},
		{"grad format", func() error { _, err := BiasAddGrad(v, "CHWN"); return err }, "CHWN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || !strings.Contains(err.Error(), tc.quote) {
				t.Errorf("error %v, want one quoting %q", err, tc.quote)
			}
		})
	}
}

// The bias gradient of the float64 kernels against central differences,
// channels last and first, with more rows than BiasAddGrad's chunks.
func TestBiasAddGradcheck(t *testing.T) {
	for _, tc := range []struct {
		name            string
		outer, c, inner int
	}{{"channels last", 37, 3, 1}, {"channels first", 5, 3, 7}, {"one channel", 19, 1, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.outer * tc.c * tc.inner
			x := opsAwayFromZero(n, 1)
			fwd := func(b []float64) []float64 {
				y := make([]float64, n)
				biasAddKernel(y, x, b, tc.c, tc.inner)
				return y
			}
			w, f := gradcheck.Project(n, 2, fwd)
			db := make([]float64, tc.c)
			biasAddGradKernel(db, w, tc.outer, tc.c, tc.inner)
			if err := gradcheck.Check(f, opsAwayFromZero(tc.c, 3), db, gradcheck.Options{}); err != nil {
				t.Error(err)
			}
		})
	}
}

// BiasAddGrad sums over a fixed split of the rows: the result is the same
// bit for bit whatever the number of threads.
func TestBiasAddGradDeterministic(t *testing.T) {
	g := tensor.Must(tensor.New([]int{64, 40, 33}, opsRandom(64*40*33, 4)))
	want, err := BiasAddGrad(g, "")
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	got, err := BiasAddGrad(g, "")
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "one thread", got.Data(), want.Data(), 0)
}
