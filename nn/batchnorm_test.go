package nn

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/tensor"
)

// TestBatchNormByHand: one channel of x = [1, 2, 3, 4] (rows), γ = 2,
// β = 1, ε = 0: μ = 2.5, σ² = 1.25 (biased), x̂ = (x − 2.5)/√1.25.
// With g = [1, 0, 0, 0]: dβ = 1, dγ = x̂₀ = −1.5/√1.25, and
// dx = γr/4·(4g − 1 − x̂·dγ).
func TestBatchNormByHand(t *testing.T) {
	x := opsT([]int{4, 1}, 1, 2, 3, 4)
	scale, offset := opsT([]int{1}, 2), opsT([]int{1}, 1)
	y, mean, variance, err := FusedBatchNorm(x, scale, offset, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := 1 / math.Sqrt(1.25)
	xh := []float64{-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r}
	var want []float32
	for _, v := range xh {
		want = append(want, float32(2*v+1))
	}
	opsClose(t, "y", y.Data(), want, 1e-6)
	opsClose(t, "mean", mean.Data(), []float32{2.5}, 0)
	opsClose(t, "variance", variance.Data(), []float32{1.25}, 0)

	g := opsT([]int{4, 1}, 1, 0, 0, 0)
	dx, dscale, doffset, err := FusedBatchNormGrad(g, x, scale, mean, variance, 0)
	if err != nil {
		t.Fatal(err)
	}
	dg := xh[0]
	var wantDx []float32
	for i, v := range xh {
		gi := 0.0
		if i == 0 {
			gi = 1
		}
		wantDx = append(wantDx, float32(2*r/4*(4*gi-1-v*dg)))
	}
	opsClose(t, "dx", dx.Data(), wantDx, 1e-6)
	opsClose(t, "dscale", dscale.Data(), []float32{float32(dg)}, 1e-6)
	opsClose(t, "doffset", doffset.Data(), []float32{1}, 0)

	// Inference with mean 1, variance 3, ε = 1: y = (x − 1)/2·γ + β.
	yi, err := BatchNormalization(x, opsT([]int{1}, 1), opsT([]int{1}, 3), offset, scale, 1)
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "inference y", yi.Data(), []float32{1, 2, 3, 4}, 1e-6)
	dxi, dsi, doi, err := BatchNormalizationGrad(g, x, opsT([]int{1}, 1), opsT([]int{1}, 3), scale, 1)
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "inference dx", dxi.Data(), []float32{1, 0, 0, 0}, 1e-6)
	opsClose(t, "inference dscale", dsi.Data(), []float32{0}, 0)
	opsClose(t, "inference doffset", doi.Data(), []float32{1}, 0)
}

// bnInputs returns x, g [rows, c] and γ, β [c] drawn from a seed.
func bnInputs(rows, c int, seed uint64) (x, g, scale, offset []float64) {
	r := tensor.NewRand(seed)
	draw := func(n int, lo, hi float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = lo + (hi-lo)*r.Float64()
		}
		return v
	}
	return draw(rows*c, -2, 3), draw(rows*c, -1, 1), draw(c, 0.5, 1.5), draw(c, -1, 1)
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// TestBatchNormMatchesReference holds the fast float32 ops to the plain
// float64 loops on odd shapes, including ones big enough to run the
// reductions in parallel.
func TestBatchNormMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape []int
	}{
		{"rows 1", []int{1, 3}},
		{"NC", []int{5, 7}},
		{"NHWC odd", []int{3, 5, 7, 9}},
		{"NWC one channel", []int{2, 33, 1}},
		{"large NHWC", []int{4, 17, 19, 35}},
		{"AVX-512 width", []int{3, 9, 11, 16}},
		{"AVX2 width", []int{2, 7, 5, 24}},
		{"large 64 channels", []int{8, 13, 11, 64}},
		{"shifted data", []int{5, 7, 3, 32}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.shape[len(tc.shape)-1]
			rows := tensor.Size(tc.shape) / c
			x, g, scale, offset := bnInputs(rows, c, 7)
			if tc.name == "shifted data" {
				// A mean far from zero: the one-pass variance must not cancel.
				for i := range x {
					x[i] += 1000
				}
			}
			const eps = 1e-3
			wy, wmu, wvr, wdx, wds, wdo := batchNormRef(x, g, scale, offset, rows, c, eps)
			xt := opsT(tc.shape, to32(x)...)
			gt := opsT(tc.shape, to32(g)...)
			st, ot := opsT([]int{c}, to32(scale)...), opsT([]int{c}, to32(offset)...)
			y, mean, variance, err := FusedBatchNorm(xt, st, ot, eps)
			if err != nil {
				t.Fatal(err)
			}
			dx, ds, do, err := FusedBatchNormGrad(gt, xt, st, mean, variance, eps)
			if err != nil {
				t.Fatal(err)
			}
			for _, cmp := range []struct {
				name string
				got  []float32
				want []float64
			}{
				{"y", y.Data(), wy}, {"mean", mean.Data(), wmu}, {"variance", variance.Data(), wvr},
				{"dx", dx.Data(), wdx}, {"dscale", ds.Data(), wds}, {"doffset", do.Data(), wdo},
			} {
				opsClose(t, cmp.name, cmp.got, to32(cmp.want), 2e-5*math.Sqrt(float64(rows)))
			}
		})
	}
}

// TestBatchNormGradcheck checks the training and inference backward
// kernels in float64 against central differences of their forwards.
func TestBatchNormGradcheck(t *testing.T) {
	const rows, c, eps = 6, 3, 1e-3
	x0, _, scale0, offset0 := bnInputs(rows, c, 11)
	n := len(x0)
	// Parameters packed as [x | γ | β].
	pack := append(append(append([]float64(nil), x0...), scale0...), offset0...)
	split := func(p []float64) (x, s, o []float64) { return p[:n], p[n : n+c], p[n+c:] }

	for _, relu := range []bool{false, true} {
		t.Run(fmt.Sprintf("training relu=%v", relu), func(t *testing.T) {
			w, f := gradcheck.Project(n, 3, func(p []float64) []float64 {
				x, s, o := split(p)
				y := make([]float64, n)
				bnTrainForward(y, make([]float64, c), make([]float64, c), x, nil, s, o, rows, c, eps, relu)
				return y
			})
			x, s, o := split(pack)
			y, mu, vr := make([]float64, n), make([]float64, c), make([]float64, c)
			bnTrainForward(y, mu, vr, x, nil, s, o, rows, c, eps, relu)
			var fa, fb []float64
			if relu {
				fa, fb = bnAffine(mu, vr, s, o, eps)
				zeros := 0
				for _, v := range y {
					if v == 0 {
						zeros++
					}
				}
				if zeros == 0 || zeros == n {
					t.Fatalf("the ReLU clamps %d of %d values: the check would not test the mask", zeros, n)
				}
			}
			dx, ds, do := make([]float64, n), make([]float64, c), make([]float64, c)
			bnTrainBackward(dx, ds, do, w, x, fa, fb, s, mu, vr, rows, c, eps)
			grad := append(append(append([]float64(nil), dx...), ds...), do...)
			if err := gradcheck.Check(f, pack, grad, gradcheck.Options{}); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("inference", func(t *testing.T) {
		mean, variance := []float64{0.3, -0.2, 1}, []float64{0.5, 2, 0.1}
		fwd := func(p []float64) []float64 {
			x, s, o := split(p)
			a, b := make([]float64, c), make([]float64, c)
			for ch := range c {
				a[ch] = s[ch] / math.Sqrt(variance[ch]+eps)
				b[ch] = o[ch] - mean[ch]*a[ch]
			}
			y := make([]float64, n)
			bnApply(y, x, nil, a, b, c, false)
			return y
		}
		w, f := gradcheck.Project(n, 5, fwd)
		x, s, _ := split(pack)
		// The exported op in float32 against the float64 numeric gradient.
		dx, ds, do, err := BatchNormalizationGrad(opsT([]int{rows, c}, to32(w)...), opsT([]int{rows, c}, to32(x)...),
			opsT([]int{c}, to32(mean)...), opsT([]int{c}, to32(variance)...), opsT([]int{c}, to32(s)...), eps)
		if err != nil {
			t.Fatal(err)
		}
		var grad []float64
		for _, d := range [][]float32{dx.Data(), ds.Data(), do.Data()} {
			for _, v := range d {
				grad = append(grad, float64(v))
			}
		}
		if err := gradcheck.Check(f, pack, grad, gradcheck.Options{Atol: 1e-5, Rtol: 1e-4}); err != nil {
			t.Error(err)
		}
	})
}

func TestBatchNormErrors(t *testing.T) {
	x := tensor.Zeros(2, 3)
	v3, v2 := tensor.Ones(3), tensor.Ones(2)
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"nil x", func() error { _, _, _, err := FusedBatchNorm(nil, v3, v3, 1e-3); return err }, "x is nil"},
		{"scale length", func() error { _, _, _, err := FusedBatchNorm(x, v2, v3, 1e-3); return err }, "scale has shape [2], want [3]"},
		{"negative epsilon", func() error { _, _, _, err := FusedBatchNorm(x, v3, v3, -1); return err }, "epsilon"},
		{"NaN epsilon", func() error {
			_, err := BatchNormalization(x, v3, v3, v3, v3, float32(math.NaN()))
			return err
		}, "epsilon"},
		{"no rows", func() error { _, _, _, err := FusedBatchNorm(tensor.Zeros(0, 3), v3, v3, 1e-3); return err }, "no rows"},
		{"grad shape", func() error {
			_, _, _, err := FusedBatchNormGrad(tensor.Zeros(3, 2), x, v3, v3, v3, 1e-3)
			return err
		}, "grad has shape [3 2]"},
		{"mean missing", func() error { _, err := BatchNormalization(x, nil, v3, v3, v3, 1e-3); return err }, "mean is nil"},
		{"rank 0", func() error { _, err := BatchNormalization(tensor.Zeros(), v3, v3, v3, v3, 1e-3); return err }, "rank ≥ 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

type bnGoldPass struct {
	Y             *goldTensor `json:"y"`
	BatchMean     *goldTensor `json:"batch_mean"`
	BatchVariance *goldTensor `json:"batch_variance"`
	GradX         *goldTensor `json:"grad_x"`
	GradScale     *goldTensor `json:"grad_scale"`
	GradOffset    *goldTensor `json:"grad_offset"`
}

type bnGoldCase struct {
	Epsilon   float32     `json:"epsilon"`
	X         *goldTensor `json:"x"`
	Mean      *goldTensor `json:"mean"`
	Variance  *goldTensor `json:"variance"`
	Scale     *goldTensor `json:"scale"`
	Offset    *goldTensor `json:"offset"`
	OutGrad   *goldTensor `json:"out_grad"`
	Inference bnGoldPass  `json:"inference"`
	Training  bnGoldPass  `json:"training"`
}

// TestBatchNormGolden: both forms against tf.batchNorm (TF.js 4.22), the
// training form with tf.moments' statistics; written by
// testdata/gen/layers.js.
func TestBatchNormGolden(t *testing.T) {
	for i, c := range loadGolden[bnGoldCase](t, "batchnorm.json") {
		t.Run(fmt.Sprint(c.X.Shape), func(t *testing.T) {
			x, g, scale := c.X.tensor(t), c.OutGrad.tensor(t), c.Scale.tensor(t)
			mean, variance, offset := c.Mean.tensor(t), c.Variance.tensor(t), c.Offset.tensor(t)
			y, err := BatchNormalization(x, mean, variance, offset, scale, c.Epsilon)
			if err != nil {
				t.Fatal(err)
			}
			dx, ds, do, err := BatchNormalizationGrad(g, x, mean, variance, scale, c.Epsilon)
			if err != nil {
				t.Fatal(err)
			}
			yt, bm, bv, err := FusedBatchNorm(x, scale, offset, c.Epsilon)
			if err != nil {
				t.Fatal(err)
			}
			dxt, dst, dot, err := FusedBatchNormGrad(g, x, scale, bm, bv, c.Epsilon)
			if err != nil {
				t.Fatal(err)
			}
			for _, cmp := range []struct {
				name string
				got  *tensor.Tensor
				want *goldTensor
			}{
				{"inference y", y, c.Inference.Y}, {"inference dx", dx, c.Inference.GradX},
				{"inference dscale", ds, c.Inference.GradScale}, {"inference doffset", do, c.Inference.GradOffset},
				{"training y", yt, c.Training.Y}, {"batch mean", bm, c.Training.BatchMean},
				{"batch variance", bv, c.Training.BatchVariance}, {"training dx", dxt, c.Training.GradX},
				{"training dscale", dst, c.Training.GradScale}, {"training doffset", dot, c.Training.GradOffset},
			} {
				want := cmp.want.tensor(t)
				if !tensor.SameShape(cmp.got.Shape(), want.Shape()) {
					t.Fatalf("case %d %s: shape %v, want %v", i, cmp.name, cmp.got.Shape(), want.Shape())
				}
				opsClose(t, cmp.name, cmp.got.Data(), want.Data(), goldenAtol)
			}
		})
	}
}

// BenchmarkFusedBatchNorm times the training forward and backward of a
// [32, 28, 28, 32] batch: the fast ops (impl=fast) against the float64
// plain-loop reference (impl=ref). Bytes are the float32 tensors read and
// written (x, y, g, dx: 4 per element, plus the statistics passes).
func BenchmarkFusedBatchNorm(b *testing.B) {
	shape := []int{32, 28, 28, 32}
	c := shape[3]
	rows := tensor.Size(shape) / c
	x, g, scale, offset := bnInputs(rows, c, 1)
	xt, gt := opsT(shape, to32(x)...), opsT(shape, to32(g)...)
	st, ot := opsT([]int{c}, to32(scale)...), opsT([]int{c}, to32(offset)...)
	b.Run("impl=fast", func(b *testing.B) {
		b.SetBytes(int64(4 * 4 * len(x)))
		for b.Loop() {
			y, mean, variance, err := FusedBatchNorm(xt, st, ot, 1e-3)
			if err != nil {
				b.Fatal(err)
			}
			dx, _, _, err := FusedBatchNormGrad(gt, xt, st, mean, variance, 1e-3)
			if err != nil {
				b.Fatal(err)
			}
			recycle(y, dx)
		}
	})
	b.Run("impl=ref", func(b *testing.B) {
		b.SetBytes(int64(4 * 4 * len(x)))
		for b.Loop() {
			batchNormRef(x, g, scale, offset, rows, c, 1e-3)
		}
	})
}

// TestBatchNormThreadCount: the fixed row split makes every output the
// same bits at one thread and at three.
func TestBatchNormThreadCount(t *testing.T) {
	shape := []int{16, 9, 9, 32}
	x, g := randT(1, -1, 3, shape...), randT(2, -1, 1, shape...)
	scale, offset := randT(3, 0.5, 1.5, 32), randT(4, -1, 1, 32)
	run := func(procs int) []*tensor.Tensor {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		y, mean, variance, err := FusedBatchNorm(x, scale, offset, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		dx, ds, do, err := FusedBatchNormGrad(g, x, scale, mean, variance, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		return []*tensor.Tensor{y, mean, variance, dx, ds, do}
	}
	one, three := run(1), run(3)
	for i, name := range []string{"y", "mean", "variance", "dx", "dscale", "doffset"} {
		for j, v := range one[i].Data() {
			if math.Float32bits(v) != math.Float32bits(three[i].Data()[j]) {
				t.Fatalf("%s[%d]: %v at one thread, %v at three", name, j, v, three[i].Data()[j])
			}
		}
	}
}

// TestFusedBatchNormReluMatchesTwoOps: the fused op gives the bits of
// FusedBatchNorm then Relu, and its gradient (its mask taken from x) those
// of ReluGrad against that output then FusedBatchNormGrad, on
// vector-width and odd channel counts. Channel 0 has γ = β = 0, so its
// pre-ReLU values are zeros (+0 and −0 products plus +0): a mask that
// kept them, or differed from the output's, fails.
func TestFusedBatchNormReluMatchesTwoOps(t *testing.T) {
	for _, shape := range [][]int{{4, 9, 7, 16}, {3, 5, 5, 24}, {2, 7, 3, 5}, {40, 3}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			c := shape[len(shape)-1]
			x, g := randT(1, -2, 3, shape...), randT(2, -1, 1, shape...)
			scale, offset := randT(3, 0.5, 1.5, c), randT(4, -1, 1, c)
			scale.Data()[0], offset.Data()[0] = 0, 0
			y, mean, variance, err := FusedBatchNormRelu(x, scale, offset, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			pre, mean2, variance2, err := FusedBatchNorm(x, scale, offset, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			want := Relu(pre)
			dx, ds, do, err := FusedBatchNormReluGrad(g, x, scale, offset, mean, variance, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			gpre, err := ReluGrad(g, y)
			if err != nil {
				t.Fatal(err)
			}
			wdx, wds, wdo, err := FusedBatchNormGrad(gpre, x, scale, mean2, variance2, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			for _, cmp := range []struct {
				name      string
				got, want *tensor.Tensor
			}{{"y", y, want}, {"mean", mean, mean2}, {"variance", variance, variance2}, {"dx", dx, wdx}, {"dscale", ds, wds}, {"doffset", do, wdo}} {
				for i, v := range cmp.got.Data() {
					if w := cmp.want.Data()[i]; math.Float32bits(v) != math.Float32bits(w) {
						t.Fatalf("%s[%d] = %v, two ops give %v", cmp.name, i, v, w)
					}
				}
			}
		})
	}
	if _, _, _, err := FusedBatchNormReluGrad(tensor.Zeros(2, 3), tensor.Zeros(2, 3), tensor.Ones(3), tensor.Zeros(2), tensor.Zeros(3), tensor.Ones(3), 1e-3); err == nil || !strings.Contains(err.Error(), "offset has shape [2]") {
		t.Errorf("an offset of the wrong shape: err = %v", err)
	}
}

// FusedBatchNormAddRelu gives the bits of FusedBatchNorm, then AddRelu
// with the skip, on vector-width and odd channel counts, and rejects a
// skip of another shape.
func TestFusedBatchNormAddReluMatchesThreeOps(t *testing.T) {
	for _, shape := range [][]int{{4, 9, 7, 16}, {3, 5, 5, 24}, {2, 7, 3, 5}, {40, 3}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			c := shape[len(shape)-1]
			x, skip := randT(1, -2, 3, shape...), randT(5, -2, 2, shape...)
			scale, offset := randT(3, 0.5, 1.5, c), randT(4, -1, 1, c)
			y, mean, variance, err := FusedBatchNormAddRelu(x, skip, scale, offset, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			pre, mean2, variance2, err := FusedBatchNorm(x, scale, offset, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			want, err := AddRelu(pre, skip)
			if err != nil {
				t.Fatal(err)
			}
			zeros := 0
			for _, v := range want.Data() {
				if v == 0 {
					zeros++
				}
			}
			if zeros == 0 || zeros == want.Len() {
				t.Fatalf("the ReLU clamps %d of %d values: the check would not test it", zeros, want.Len())
			}
			for _, cmp := range []struct {
				name      string
				got, want *tensor.Tensor
			}{{"y", y, want}, {"mean", mean, mean2}, {"variance", variance, variance2}} {
				for i, v := range cmp.got.Data() {
					if w := cmp.want.Data()[i]; math.Float32bits(v) != math.Float32bits(w) {
						t.Fatalf("%s[%d] = %v, three ops give %v", cmp.name, i, v, w)
					}
				}
			}
		})
	}
	for _, tc := range []struct {
		skip *tensor.Tensor
		want string
	}{{nil, "skip is nil"}, {tensor.Zeros(3, 2), "skip has shape [3 2], want x's shape [2 3]"}} {
		if _, _, _, err := FusedBatchNormAddRelu(tensor.Zeros(2, 3), tc.skip, tensor.Ones(3), tensor.Zeros(3), 1e-3); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("skip %v: err = %v, want %q", tc.skip, err, tc.want)
		}
	}
}
