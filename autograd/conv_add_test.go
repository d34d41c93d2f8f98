package autograd

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestConv2DInputGradientAddsToSkip: when x already has a gradient as a
// Conv2D's (or Conv2DBias's) backward runs (a residual block's input,
// the skip's gradient there first), the convolution's input gradient is
// summed into it as it is written (nn.Conv2DBackpropInputAdd). The
// gradients must have the bits of the ops one by one: dx = skip's +
// Conv2DBackpropInput, dw = Conv2DBackpropFilter. The skip's gradient is
// the incoming gradient itself, shared with the convolution's backward,
// which still reads it for dw after the sum: a sum that gave it back to
// the pool would change dw (under -tags poison, to NaN). Also through
// Conv2DBias's backward, and for x read by two convolutions, the second
// adding into the first's own gradient.
func TestConv2DInputGradientAddsToSkip(t *testing.T) {
	o := nn.ConvOptions{Padding: "SAME"}
	xt, w1t, w2t := tensor.Zeros(2, 12, 12, 16), tensor.Zeros(3, 3, 16, 16), tensor.Zeros(3, 3, 16, 16)
	r := tensor.NewRand(11)
	for _, v := range []*tensor.Tensor{xt, w1t, w2t} {
		v.RandNormal(r, 0, 1)
	}
	wts := tensor.Zeros(xt.Shape()...)
	wts.RandNormal(r, 0, 1)
	wts.Data()[3] = float32(math.Copysign(0, -1))
	loss := func(y *Var) *Var { return ReduceSum(Mul(y, Constant(wts))) }
	same := func(what string, got, want *tensor.Tensor) {
		t.Helper()
		for i, v := range got.Data() {
			if w := want.Data()[i]; math.Float32bits(v) != math.Float32bits(w) {
				t.Fatalf("%s[%d] = %v, the ops one by one give %v", what, i, v, w)
			}
		}
	}
	must := func(v *tensor.Tensor, err error) *tensor.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	for _, tc := range []struct {
		name string
		conv func(x, w *Var) *Var
	}{
		{"skip", func(x, w *Var) *Var { return Conv2D(x, w, o) }},
		{"with a bias", func(x, w *Var) *Var { return Conv2DBias(x, w, Variable("b", tensor.Zeros(16)), o) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, w := Variable("x", xt.Clone()), Variable("w", w1t.Clone())
			grads, err := Gradient(loss(Add(tc.conv(x, w), x)), x, w)
			if err != nil {
				t.Fatal(err)
			}
			dconv := must(nn.Conv2DBackpropInput(xt.Shape(), w1t, wts, o))
			same("dx", grads[0], must(nn.Add(wts, dconv)))
			same("dw", grads[1], must(nn.Conv2DBackpropFilter(xt, w1t.Shape(), wts, o)))
		})
	}
	t.Run("two convolutions", func(t *testing.T) {
		x, w1, w2 := Variable("x", xt.Clone()), Variable("w1", w1t.Clone()), Variable("w2", w2t.Clone())
		grads, err := Gradient(loss(Add(Conv2D(x, w1, o), Conv2D(x, w2, o))), x)
		if err != nil {
			t.Fatal(err)
		}
		d1 := must(nn.Conv2DBackpropInput(xt.Shape(), w1t, wts, o))
		d2 := must(nn.Conv2DBackpropInput(xt.Shape(), w2t, wts, o))
		same("dx", grads[0], must(nn.Add(d1, d2)))
	})
}
