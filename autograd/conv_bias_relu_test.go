package autograd

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestConv2DBiasReluMatchesChain: the fused op's value and its gradients
// with respect to input, filter and bias have the bits of Conv2D followed
// by BiasAddRelu (whose gradients the finite-difference tests check), on
// the Winograd path, the im2col path and channels-first.
func TestConv2DBiasReluMatchesChain(t *testing.T) {
	for i, tc := range []struct {
		name       string
		in, filter []int
		o          nn.ConvOptions
	}{
		{"winograd", []int{2, 6, 7, 8}, []int{5, 5, 8, 8}, nn.ConvOptions{Padding: "SAME"}},
		{"im2col strided", []int{2, 7, 6, 3}, []int{3, 3, 3, 4}, nn.ConvOptions{Padding: "VALID", Strides: []int{2}}},
		{"NCHW", []int{1, 3, 5, 4}, []int{3, 3, 3, 2}, nn.ConvOptions{Padding: "SAME", DataFormat: "NCHW"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tensor.NewRand(uint64(i + 1))
			xt, wt := tensor.Zeros(tc.in...), tensor.Zeros(tc.filter...)
			xt.RandNormal(r, 0, 1)
			wt.RandNormal(r, 0, 1)
			bt := tensor.Zeros(tc.filter[3])
			bt.RandNormal(r, 0, 1)
			format := tc.o.DataFormat
			// A loss that weighs every output differently.
			loss := func(y *Var) *Var {
				wts := tensor.Zeros(y.Value().Shape()...)
				wts.RandNormal(tensor.NewRand(99), 0, 1)
				return ReduceSum(Mul(y, Constant(wts)))
			}
			run := func(fused bool) (*tensor.Tensor, []*tensor.Tensor) {
				x, w, b := Variable("x", xt.Clone()), Variable("w", wt.Clone()), Variable("b", bt.Clone())
				var y *Var
				if fused {
					y = Conv2DBiasRelu(x, w, b, tc.o)
				} else {
					y = BiasAddRelu(Conv2D(x, w, tc.o), b, format)
				}
				grads, err := Gradient(loss(y), x, w, b)
				if err != nil {
					t.Fatal(err)
				}
				return y.Value(), grads
			}
			y1, g1 := run(true)
			y0, g0 := run(false)
			same := func(what string, a, b *tensor.Tensor) {
				for j, v := range a.Data() {
					if math.Float32bits(v) != math.Float32bits(b.Data()[j]) {
						t.Fatalf("%s[%d] = %v, chain gave %v", what, j, v, b.Data()[j])
					}
				}
			}
			same("y", y1, y0)
			for k, name := range []string{"dx", "dw", "db"} {
				same(name, g1[k], g0[k])
			}
		})
	}
}

func TestConv2DBiasReluErrorsFlow(t *testing.T) {
	x := Variable("x", tensor.Zeros(1, 4, 4, 2))
	w := Variable("w", tensor.Zeros(3, 3, 2, 3))
	if err := Conv2DBiasRelu(x, w, Variable("b", tensor.Zeros(2)), nn.ConvOptions{}).Err(); err == nil {
		t.Fatal("a bias of the wrong length gave no error")
	}
	if err := Conv2DBiasRelu(x, w, nil, nn.ConvOptions{}).Err(); err == nil {
		t.Fatal("a nil bias gave no error")
	}
}
