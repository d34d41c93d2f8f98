package autograd

import (
	"math"
	"testing"

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
