package gradcheck

import (
	"math"
	"testing"
)

func TestCheckAcceptsRightGradient(t *testing.T) {
	// f(x) = Σ sin(x_i)·x_{i+1}
	f := func(x []float64) float64 {
		var s float64
		for i := 0; i+1 < len(x); i++ {
			s += math.Sin(x[i]) * x[i+1]
		}
		return s
	}
	x := []float64{0.3, -1.2, 2.5, 0.7}
	g := make([]float64, len(x))
	for i := 0; i+1 < len(x); i++ {
		g[i] += math.Cos(x[i]) * x[i+1]
		g[i+1] += math.Sin(x[i])
	}
	if err := Check(f, x, g, Options{}); err != nil {
		t.Fatal(err)
	}
	g[2] += 1e-3
	if err := Check(f, x, g, Options{}); err == nil {
		t.Fatal("Check accepted a gradient off by 1e-3 in element 2")
	}
}

func TestProjectLinearOp(t *testing.T) {
	// y = 2x: backward(w) = 2w.
	w, f := Project(3, 7, func(x []float64) []float64 {
		return []float64{2 * x[0], 2 * x[1], 2 * x[2]}
	})
	g := []float64{2 * w[0], 2 * w[1], 2 * w[2]}
	if err := Check(f, []float64{1, 2, 3}, g, Options{}); err != nil {
		t.Fatal(err)
	}
}
