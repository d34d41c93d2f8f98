package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestMoreActivationsByHand(t *testing.T) {
	x := opsT([]int{6}, -3, -1, 0, 1, 2.5, 7)
	e := func(v float64) float32 { return float32(v) }
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	const a, s = seluAlpha, seluScale
	phi := func(v float64) float64 { return 0.5 * (1 + math.Erf(v/math.Sqrt2)) }
	for _, tc := range []struct {
		name string
		got  *tensor.Tensor
		want []float32
	}{
		{"Relu6", Relu6(x), []float32{0, 0, 0, 1, 2.5, 6}},
		{"Elu", Elu(x), []float32{e(math.Exp(-3) - 1), e(math.Exp(-1) - 1), 0, 1, 2.5, 7}},
		{"Selu", Selu(x), []float32{e(s * a * (math.Exp(-3) - 1)), e(s * a * (math.Exp(-1) - 1)), 0, e(s), e(s * 2.5), e(s * 7)}},
		{"HardSigmoid", HardSigmoid(x), []float32{0, 0.3, 0.5, 0.7, 1, 1}},
		{"Softplus", Softplus(x), []float32{e(math.Log(1 + math.Exp(-3))), e(math.Log(1 + math.Exp(-1))), e(math.Log(2)), e(math.Log(1 + math.E)), e(math.Log(1 + math.Exp(2.5))), e(math.Log(1 + math.Exp(7)))}},
		{"Softplus far out", Softplus(opsT([]int{2}, -20, 20)), []float32{e(math.Exp(-20)), 20}},
		{"Softsign", Softsign(x), []float32{-0.75, -0.5, 0, 0.5, e(2.5 / 3.5), 0.875}},
		{"Swish", Swish(x), []float32{e(-3 * sig(-3)), e(-sig(-1)), 0, e(sig(1)), e(2.5 * sig(2.5)), e(7 * sig(7))}},
		{"Gelu", Gelu(x, false), []float32{e(-3 * phi(-3)), e(-phi(-1)), 0, e(phi(1)), e(2.5 * phi(2.5)), e(7 * phi(7))}},
		{"Gelu tanh at 1", Gelu(opsT([]int{1}, 1), true), []float32{e(0.5 * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(1+0.044715))))}},
	} {
		t.Run(tc.name, func(t *testing.T) { opsClose(t, tc.name, tc.got.Data(), tc.want, 1e-6) })
	}
	g := tensor.Full(1, 6)
	for _, tc := range []struct {
		name string
		f    func() (*tensor.Tensor, error)
		want []float32
	}{
		{"Relu6Grad (none at 0 and 6)", func() (*tensor.Tensor, error) { return Relu6Grad(g, opsT([]int{6}, -1, 0, 3, 6, 5.9, 7)) }, []float32{0, 0, 1, 0, 1, 0}},
		{"EluGrad", func() (*tensor.Tensor, error) { return EluGrad(g, Elu(x)) }, []float32{e(math.Exp(-3)), e(math.Exp(-1)), 1, 1, 1, 1}},
		{"SeluGrad", func() (*tensor.Tensor, error) { return SeluGrad(g, Selu(x)) }, []float32{e(s * a * math.Exp(-3)), e(s * a * math.Exp(-1)), e(s), e(s), e(s), e(s)}},
		{"HardSigmoidGrad (bounds pass)", func() (*tensor.Tensor, error) {
			return HardSigmoidGrad(tensor.Full(1, 4), opsT([]int{4}, -3, -2.5, 2.5, 3))
		}, []float32{0, 0.2, 0.2, 0}},
		{"SoftsignGrad", func() (*tensor.Tensor, error) { return SoftsignGrad(g, x) }, []float32{1.0 / 16, 0.25, 1, 0.25, e(1 / 12.25), 1.0 / 64}},
		{"SoftplusGrad", func() (*tensor.Tensor, error) { return SoftplusGrad(opsT([]int{1}, 1), opsT([]int{1}, 0)) }, []float32{0.5}},
		{"SwishGrad at 0", func() (*tensor.Tensor, error) { return SwishGrad(opsT([]int{1}, 1), opsT([]int{1}, 0)) }, []float32{0.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f()
			if err != nil {
				t.Fatal(err)
			}
			opsClose(t, tc.name, got.Data(), tc.want, 1e-6)
		})
	}
}

func TestMoreActivationGradsFD(t *testing.T) {
	x := awayFrom(randT(31, -4, 8, 4, 6), 0.05, 0, 6, -2.5, 2.5)
	for _, tc := range []struct {
		name string
		fwd  func(*tensor.Tensor) *tensor.Tensor
		back func(x, g *tensor.Tensor) (*tensor.Tensor, error)
	}{
		{"Relu6", Relu6, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return Relu6Grad(g, x) }},
		{"Elu", Elu, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return EluGrad(g, Elu(x)) }},
		{"Selu", Selu, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return SeluGrad(g, Selu(x)) }},
		{"HardSigmoid", HardSigmoid, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return HardSigmoidGrad(g, x) }},
		{"Softplus", Softplus, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return SoftplusGrad(g, x) }},
		{"Softsign", Softsign, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return SoftsignGrad(g, x) }},
		{"Swish", Swish, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return SwishGrad(g, x) }},
		{"Gelu", func(x *tensor.Tensor) *tensor.Tensor { return Gelu(x, false) }, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return GeluGrad(g, x, false) }},
		{"Gelu tanh", func(x *tensor.Tensor) *tensor.Tensor { return Gelu(x, true) }, func(x, g *tensor.Tensor) (*tensor.Tensor, error) { return GeluGrad(g, x, true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fdCheck(t, []*tensor.Tensor{x}, func(xs []*tensor.Tensor) (*tensor.Tensor, error) { return tc.fwd(xs[0]), nil },
				func(xs []*tensor.Tensor, w *tensor.Tensor) ([]*tensor.Tensor, error) {
					g, err := tc.back(xs[0], w)
					return []*tensor.Tensor{g}, err
				})
		})
	}
}

// TestSoftmaxAxisMatchesLastAxis checks the strided softmax against the
// last-axis kernels applied after moving the axis to the end.
func TestSoftmaxAxisMatchesLastAxis(t *testing.T) {
	x := randT(41, -5, 5, 3, 4, 5, 2)
	g := randT(42, -1, 1, 3, 4, 5, 2)
	for axis := -4; axis < 4; axis++ {
		a := (axis + 4) % 4
		perm := []int{}
		for d := 0; d < 4; d++ {
			if d != a {
				perm = append(perm, d)
			}
		}
		perm = append(perm, a)
		inv, _ := InvertPermutation(perm)
		moved := func(f func(*tensor.Tensor, *tensor.Tensor) (*tensor.Tensor, error), u, v *tensor.Tensor) *tensor.Tensor {
			ut, _ := Transpose(u, perm)
			var vt *tensor.Tensor
			if v != nil {
				vt, _ = Transpose(v, perm)
			}
			r, err := f(ut, vt)
			if err != nil {
				t.Fatal(err)
			}
			back, _ := Transpose(r, inv)
			return back
		}
		for _, logForm := range []bool{false, true} {
			t.Run(fmt.Sprintf("axis %d log %v", axis, logForm), func(t *testing.T) {
				fwd, fwdRef := SoftmaxAxis, Softmax
				bwd, bwdRef := SoftmaxAxisGrad, SoftmaxGrad
				if logForm {
					fwd, fwdRef, bwd, bwdRef = LogSoftmaxAxis, LogSoftmax, LogSoftmaxAxisGrad, LogSoftmaxGrad
				}
				y, err := fwd(x, axis)
				if err != nil {
					t.Fatal(err)
				}
				want := moved(func(u, _ *tensor.Tensor) (*tensor.Tensor, error) { return fwdRef(u) }, x, nil)
				opsClose(t, "forward", y.Data(), want.Data(), 1e-6)
				dx, err := bwd(y, g, axis)
				if err != nil {
					t.Fatal(err)
				}
				wantDx := moved(bwdRef, y, g)
				opsClose(t, "grad", dx.Data(), wantDx.Data(), 1e-6)
			})
		}
	}
	if _, err := SoftmaxAxis(x, 4); err == nil || !strings.Contains(err.Error(), "axis 4 out of range") {
		t.Errorf("axis 4: err = %v", err)
	}
	if _, err := SoftmaxAxis(opsT(nil, 1), 0); err == nil || !strings.Contains(err.Error(), "rank") {
		t.Errorf("scalar: err = %v", err)
	}
	if _, err := SoftmaxAxisGrad(x, g, 1); err != nil {
		t.Error(err)
	}
	if _, err := SoftmaxAxisGrad(x, tensor.Zeros(2), 1); err == nil {
		t.Error("SoftmaxAxisGrad with mismatched shapes: no error")
	}
}
