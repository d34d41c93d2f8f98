package nn

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestUnaryMathByHand(t *testing.T) {
	x := opsT([]int{2, 2}, 4, 0.25, 1, 9)
	s := opsT([]int{3}, -2, 0, 3)
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		got  *tensor.Tensor
		want []float32
	}{
		{"Neg", Neg(s), []float32{2, 0, -3}},
		{"Abs", Abs(s), []float32{2, 0, 3}},
		{"Exp", Exp(opsT([]int{2}, 0, 1)), []float32{1, float32(math.E)}},
		{"Log", Log(opsT([]int{3}, 1, float32(math.E), 0)), []float32{0, 1, -inf}},
		{"Sqrt", Sqrt(x), []float32{2, 0.5, 1, 3}},
		{"Rsqrt", Rsqrt(x), []float32{0.5, 2, 1, 1.0 / 3}},
		{"Square", Square(s), []float32{4, 0, 9}},
		{"Pow 3", Pow(s, 3), []float32{-8, 0, 27}},
		{"Pow 0.5", Pow(x, 0.5), []float32{2, 0.5, 1, 3}},
		{"Pow -1", Pow(x, -1), []float32{0.25, 4, 1, 1.0 / 9}},
	} {
		t.Run(tc.name, func(t *testing.T) { opsClose(t, tc.name, tc.got.Data(), tc.want, 1e-7) })
	}
	if v := Sqrt(opsT([]int{1}, -1)).Data()[0]; !math.IsNaN(float64(v)) {
		t.Errorf("Sqrt(-1) = %v, want NaN", v)
	}
	t.Run("grads", func(t *testing.T) {
		g := opsT([]int{3}, 1, 2, 3)
		ag, _ := AbsGrad(g, s)
		opsClose(t, "AbsGrad (0 at x = 0)", ag.Data(), []float32{-1, 0, 3}, 0)
		sg, _ := SquareGrad(g, s)
		opsClose(t, "SquareGrad", sg.Data(), []float32{-4, 0, 18}, 0)
		pg, _ := PowGrad(g, s, 3)
		opsClose(t, "PowGrad 3", pg.Data(), []float32{12, 0, 81}, 1e-7)
		qg, _ := SqrtGrad(opsT([]int{3}, 2, 0.5, 1), g)
		opsClose(t, "SqrtGrad", qg.Data(), []float32{0.25, 2, 1.5}, 1e-7)
		rg, _ := RsqrtGrad(opsT([]int{3}, 2, 0.5, 1), g)
		opsClose(t, "RsqrtGrad", rg.Data(), []float32{-4, -0.125, -1.5}, 1e-7)
		if _, err := LogGrad(g, x); err == nil {
			t.Error("LogGrad with mismatched shapes: no error")
		}
	})
}

func TestUnaryMathGradsFD(t *testing.T) {
	pos := func() *tensor.Tensor { return randT(3, 0.3, 2, 3, 5) }
	any := func() *tensor.Tensor { return awayFrom(randT(4, -2, 2, 3, 5), 0.05, 0) }
	one := func(f func(*tensor.Tensor) *tensor.Tensor) func(xs []*tensor.Tensor) (*tensor.Tensor, error) {
		return func(xs []*tensor.Tensor) (*tensor.Tensor, error) { return f(xs[0]), nil }
	}
	for _, tc := range []struct {
		name string
		x    *tensor.Tensor
		fwd  func(*tensor.Tensor) *tensor.Tensor
		back func(x, g *tensor.Tensor) (*tensor.Tensor, error)
	}{
		{"Neg", any(), Neg, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return Neg(g), nil }},
		{"Abs", any(), Abs, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return AbsGrad(g, x) }},
		{"Exp", any(), Exp, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return ExpGrad(Exp(x), g) }},
		{"Log", pos(), Log, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return LogGrad(g, x) }},
		{"Sqrt", pos(), Sqrt, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return SqrtGrad(Sqrt(x), g) }},
		{"Rsqrt", pos(), Rsqrt, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return RsqrtGrad(Rsqrt(x), g) }},
		{"Square", any(), Square, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return SquareGrad(g, x) }},
		{"Pow 3", any(), func(x *tensor.Tensor) *tensor.Tensor { return Pow(x, 3) }, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return PowGrad(g, x, 3) }},
		{"Pow -1.5", pos(), func(x *tensor.Tensor) *tensor.Tensor { return Pow(x, -1.5) }, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return PowGrad(g, x, -1.5) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fdCheck(t, []*tensor.Tensor{tc.x}, one(tc.fwd), func(xs []*tensor.Tensor, w *tensor.Tensor) ([]*tensor.Tensor, error) {
				g, err := tc.back(xs[0], w)
				return []*tensor.Tensor{g}, err
			})
		})
	}
}
