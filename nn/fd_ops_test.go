package nn

import (
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/tensor"
)

// fdCheck compares the gradients back returns with central differences of
// Σ w·fwd(xs) taken on the float32 op, w a fixed random projection. The
// float32 forward limits the precision: with steps of 1e-2 the rounding
// of the projected sum (≈1e-6) contributes ≈1e-4 and the truncation
// error ε²·f‴/6 ≈ 1e-5, far below a wrong factor or a missing term.
// Callers keep inputs more than ε from kinks.
func fdCheck(t *testing.T, xs []*tensor.Tensor, fwd func(xs []*tensor.Tensor) (*tensor.Tensor, error),
	back func(xs []*tensor.Tensor, w *tensor.Tensor) ([]*tensor.Tensor, error)) {
	t.Helper()
	var flat []float64
	for _, x := range xs {
		for _, v := range x.Data() {
			flat = append(flat, float64(v))
		}
	}
	unflat := func(f []float64) []*tensor.Tensor {
		out := make([]*tensor.Tensor, len(xs))
		o := 0
		for i, x := range xs {
			d := make([]float32, x.Len())
			for j := range d {
				d[j] = float32(f[o+j])
			}
			o += len(d)
			out[i] = tensor.Must(tensor.New(x.Shape(), d))
		}
		return out
	}
	y0, err := fwd(unflat(flat))
	if err != nil {
		t.Fatal(err)
	}
	w, f := gradcheck.Project(y0.Len(), 7, func(x []float64) []float64 {
		y, err := fwd(unflat(x))
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float64, y.Len())
		for i, v := range y.Data() {
			out[i] = float64(v)
		}
		return out
	})
	wt := tensor.Zeros(y0.Shape()...)
	for i, v := range w {
		wt.Data()[i] = float32(v)
	}
	gs, err := back(unflat(flat), wt)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != len(xs) {
		t.Fatalf("backward gave %d gradients for %d inputs", len(gs), len(xs))
	}
	var analytic []float64
	for i, g := range gs {
		if !tensor.SameShape(g.Shape(), xs[i].Shape()) {
			t.Fatalf("gradient %d has shape %v, want %v", i, g.Shape(), xs[i].Shape())
		}
		for _, v := range g.Data() {
			analytic = append(analytic, float64(v))
		}
	}
	if err := gradcheck.Check(f, flat, analytic, gradcheck.Options{Eps: 1e-2, Atol: 2e-3, Rtol: 1e-2}); err != nil {
		t.Error(err)
	}
}

// randT returns a tensor of the shape with values in [lo, hi), seeded.
func randT(seed uint64, lo, hi float64, shape ...int) *tensor.Tensor {
	x := tensor.Zeros(shape...)
	x.RandUniform(tensor.NewRand(seed), lo, hi)
	return x
}

// awayFrom returns x with every value moved at least gap from each of
// the points (kinks of the op under test).
func awayFrom(x *tensor.Tensor, gap float32, points ...float32) *tensor.Tensor {
	for i, v := range x.Data() {
		for _, p := range points {
			if v-p < gap && p-v < gap {
				if v >= p {
					v = p + gap
				} else {
					v = p - gap
				}
			}
		}
		x.Data()[i] = v
	}
	return x
}
