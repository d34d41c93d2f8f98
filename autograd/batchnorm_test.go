package autograd

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestBatchNormFD differentiates the batch-norm wrappers through the
// graph (with and without γ and β) against central differences.
func TestBatchNormFD(t *testing.T) {
	x := uniform(1, 2, 3, 2, 3)
	scale, offset := awayFromZero(2, 3), uniform(3, 3)
	mean, variance := uniform(4, 3), tensor.Full(0.7, 3)
	for _, tc := range []struct {
		name   string
		build  func(in []*Var) *Var
		inputs []*tensor.Tensor
	}{
		{"fused", func(in []*Var) *Var { y, _, _ := FusedBatchNorm(in[0], in[1], in[2], 1e-3); return y }, []*tensor.Tensor{x, scale, offset}},
		{"fused without γ, β", func(in []*Var) *Var { y, _, _ := FusedBatchNorm(in[0], nil, nil, 1e-3); return y }, []*tensor.Tensor{x}},
		{"fused with ReLU", func(in []*Var) *Var { y, _, _ := FusedBatchNormRelu(in[0], in[1], in[2], 1e-3); return y }, []*tensor.Tensor{x, scale, offset}},
		{"fused with ReLU and a convolution", func(in []*Var) *Var {
			y, _, _ := FusedBatchNormReluConv2D(in[0], in[1], in[2], in[3], 1e-3, nn.ConvOptions{Padding: "SAME"})
			return y
		}, []*tensor.Tensor{x, scale, offset, uniform(11, 2, 2, 3, 2)}},
		{"fused residual join", func(in []*Var) *Var {
			y, _, _ := FusedBatchNormAddRelu(in[0], in[3], in[1], in[2], 1e-3)
			return y
		}, []*tensor.Tensor{x, scale, offset, tensor.Full(5, 2, 3, 2, 3)}}, // no kink within the differences' step (the mask: TestFusedBatchNormAddReluMatchesThreeOps)
		{"inference", func(in []*Var) *Var { return BatchNormalization(in[0], mean, variance, in[2], in[1], 1e-3) }, []*tensor.Tensor{x, scale, offset}},
	} {
		t.Run(tc.name, func(t *testing.T) { fdCheck(t, tc.build, tc.inputs...) })
	}
}

func TestBatchNormStatistics(t *testing.T) {
	x := Constant(tensor.Must(tensor.New([]int{2, 2}, []float32{1, 10, 3, 30})))
	_, mean, variance := FusedBatchNorm(x, nil, nil, 0)
	if m, v := mean.Data(), variance.Data(); m[0] != 2 || m[1] != 20 || v[0] != 1 || v[1] != 100 {
		t.Errorf("mean %v variance %v, want [2 20] and the biased [1 100]", m, v)
	}
	if y, _, _ := FusedBatchNorm(x, Constant(tensor.Ones(3)), nil, 0); y.Err() == nil {
		t.Error("a [3] scale for 2 channels gave no error")
	}
}

// TestFusedBatchNormReluConv2DMatchesThreeOps: the convolution's output,
// the statistics and every gradient have the bits of FusedBatchNormRelu,
// then Conv2D; with γ and β given and nil, on a Winograd geometry and a
// strided one.
func TestFusedBatchNormReluConv2DMatchesThreeOps(t *testing.T) {
	x, w := uniform(6, 2, 12, 12, 16), uniform(7, 3, 3, 16, 8)
	scale, offset := awayFromZero(8, 16), uniform(9, 16)
	for _, tc := range []struct {
		name   string
		params bool
		o      nn.ConvOptions
	}{
		{"SAME", true, nn.ConvOptions{Padding: "SAME"}},
		{"no γ, β", false, nn.ConvOptions{Padding: "SAME"}},
		{"stride 2", true, nn.ConvOptions{Padding: "VALID", Strides: []int{2, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(fused bool) []*tensor.Tensor {
				xv, wv := Variable("x", x.Clone()), Variable("w", w.Clone())
				vars := []*Var{xv, wv}
				var gv, ov *Var
				if tc.params {
					gv, ov = Variable("gamma", scale.Clone()), Variable("beta", offset.Clone())
					vars = append(vars, gv, ov)
				}
				var y *Var
				var mean, variance *tensor.Tensor
				if fused {
					y, mean, variance = FusedBatchNormReluConv2D(xv, gv, ov, wv, 1e-3, tc.o)
				} else {
					var z *Var
					z, mean, variance = FusedBatchNormRelu(xv, gv, ov, 1e-3)
					y = Conv2D(z, wv, tc.o)
				}
				if y.Err() != nil {
					t.Fatal(y.Err())
				}
				out := []*tensor.Tensor{y.Value().Clone(), mean, variance}
				grads, err := Gradient(ReduceSum(Mul(y, Constant(uniform(10, y.Value().Shape()...)))), vars...)
				if err != nil {
					t.Fatal(err)
				}
				return append(out, grads...)
			}
			got, want := run(true), run(false)
			for i, name := range []string{"y", "mean", "variance", "dx", "dw", "dscale", "doffset"}[:len(got)] {
				if got[i] == nil || want[i] == nil || got[i].Len() != want[i].Len() {
					t.Fatalf("%s: %v, the ops in turn give %v", name, got[i], want[i])
				}
				for j, v := range got[i].Data() {
					if w := want[i].Data()[j]; math.Float32bits(v) != math.Float32bits(w) {
						t.Fatalf("%s[%d] = %v, the ops in turn give %v", name, j, v, w)
					}
				}
			}
		})
	}
	for _, bad := range []*Var{nil, Constant(tensor.Zeros(3, 3, 8, 8))} {
		if y, _, _ := FusedBatchNormReluConv2D(Variable("x", x), nil, nil, bad, 1e-3, nn.ConvOptions{Padding: "SAME"}); y.Err() == nil {
			t.Errorf("filter %v: no error", bad)
		}
	}
}

// TestFusedBatchNormAddReluMatchesThreeOps: the residual join's output
// and every gradient have the bits of FusedBatchNorm, then AddRelu.
func TestFusedBatchNormAddReluMatchesThreeOps(t *testing.T) {
	x, skip := uniform(6, 4, 5, 5, 16), uniform(7, 4, 5, 5, 16)
	scale, offset := awayFromZero(8, 16), uniform(9, 16)
	run := func(fused bool) []*tensor.Tensor {
		xv, sv := Variable("x", x.Clone()), Variable("skip", skip.Clone())
		gv, ov := Variable("gamma", scale.Clone()), Variable("beta", offset.Clone())
		var y *Var
		if fused {
			y, _, _ = FusedBatchNormAddRelu(xv, sv, gv, ov, 1e-3)
		} else {
			pre, _, _ := FusedBatchNorm(xv, gv, ov, 1e-3)
			y = AddRelu(pre, sv)
		}
		out := y.Value().Clone()
		grads, err := Gradient(ReduceSum(Mul(y, Constant(uniform(10, 4, 5, 5, 16)))), xv, sv, gv, ov)
		if err != nil {
			t.Fatal(err)
		}
		return append([]*tensor.Tensor{out}, grads...)
	}
	got, want := run(true), run(false)
	for i, name := range []string{"y", "dx", "dskip", "dscale", "doffset"} {
		for j, v := range got[i].Data() {
			if w := want[i].Data()[j]; math.Float32bits(v) != math.Float32bits(w) {
				t.Fatalf("%s[%d] = %v, the three ops give %v", name, j, v, w)
			}
		}
	}
	for _, bad := range []*Var{nil, Constant(tensor.Zeros(4, 5, 5, 8))} {
		if y, _, _ := FusedBatchNormAddRelu(Variable("x", x), bad, nil, nil, 1e-3); y.Err() == nil {
			t.Errorf("skip %v: no error", bad)
		}
	}
}
