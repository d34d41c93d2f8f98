// Package gradcheck compares analytic gradients with central finite
// differences computed in float64.
//
// For a scalar function f of x, the numeric gradient is
//
//	∂f/∂x_i ≈ (f(x + ε·e_i) − f(x − ε·e_i)) / 2ε
//
// and Check accepts the analytic gradient g when, for every i,
// |g_i − n_i| ≤ Atol + Rtol·max(|g_i|, |n_i|). To check an op with a
// tensor output y, reduce it to a scalar with a fixed random projection,
// f(x) = Σ_j w_j·y_j(x); the analytic gradient is then the op's backward
// pass applied to w. Project does that.
//
// It does not pick points away from kinks: callers of ReLU, max pooling
// and the like keep their inputs clear of ties and zeros.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Options sets the step and tolerances. The zero value means Eps 1e-6,
// Atol 1e-6, Rtol 1e-5, suited to float64 functions.
type Options struct {
	Eps  float64
	Atol float64
	Rtol float64
}

func (o Options) withDefaults() Options {
	if o.Eps == 0 {
		o.Eps = 1e-6
	}
	if o.Atol == 0 {
		o.Atol = 1e-6
	}
	if o.Rtol == 0 {
		o.Rtol = 1e-5
	}
	return o
}

// Numeric returns the central-difference gradient of f at x. It restores
// x before returning.
func Numeric(f func(x []float64) float64, x []float64, eps float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + eps
		fp := f(x)
		x[i] = old - eps
		fm := f(x)
		x[i] = old
		g[i] = (fp - fm) / (2 * eps)
	}
	return g
}

// Check compares the analytic gradient grad of f at x with Numeric and
// returns an error naming the worst element when they disagree.
func Check(f func(x []float64) float64, x, grad []float64, o Options) error {
	o = o.withDefaults()
	if len(grad) != len(x) {
		return fmt.Errorf("gradcheck: gradient has %d values for %d inputs", len(grad), len(x))
	}
	num := Numeric(f, x, o.Eps)
	worst, worstExcess := -1, 0.0
	for i := range x {
		diff := math.Abs(grad[i] - num[i])
		allowed := o.Atol + o.Rtol*math.Max(math.Abs(grad[i]), math.Abs(num[i]))
		if math.IsNaN(diff) || diff > allowed {
			if excess := diff / allowed; worst < 0 || excess > worstExcess || math.IsNaN(diff) {
				worst, worstExcess = i, excess
			}
		}
	}
	if worst >= 0 {
		return fmt.Errorf("gradcheck: element %d: analytic %.8g, numeric %.8g (|diff| %.3g, allowed %.3g)",
			worst, grad[worst], num[worst], math.Abs(grad[worst]-num[worst]),
			o.Atol+o.Rtol*math.Max(math.Abs(grad[worst]), math.Abs(num[worst])))
	}
	return nil
}

// Project returns weights w of length n drawn from N(0, 1) with the given
// seed, and the scalar function Σ w_j·y_j for an op y = op(x). Checking
// an op's backward pass then means checking backward(w) against it.
func Project(n int, seed uint64, op func(x []float64) []float64) (w []float64, f func(x []float64) float64) {
	r := rand.New(rand.NewPCG(seed, seed+1))
	w = make([]float64, n)
	for i := range w {
		w[i] = r.NormFloat64()
	}
	return w, func(x []float64) float64 {
		y := op(x)
		var s float64
		for j, v := range y {
			s += w[j] * v
		}
		return s
	}
}
