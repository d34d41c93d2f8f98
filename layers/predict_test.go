package layers

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// predictNet is a small network with every kind of inference-time
// behaviour Predict must keep: a folded conv → BN → ReLU, dropout (off),
// and a dense head.
func predictNet() *Sequential {
	return NewSequential(
		NewConv2D("c1", Conv2DConfig{Filters: 8, KernelSize: []int{3}, Padding: "SAME", Seed: 2}),
		NewBatchNormalization("bn1", BatchNormConfig{}),
		NewActivation("r1", "relu"),
		NewDropout("drop", 0.5, 3),
		NewFlatten("flat"),
		NewDense("d", DenseConfig{Units: 3, Seed: 2}),
	)
}

// TestPredictMatchesCall: Predict in batches of 1, 4, 7, the whole set,
// larger than it, and its own choice gives one inference call's outputs
// (within rounding: a product of fewer rows may take another kernel),
// with a last batch shorter than the others, and leaves x unchanged.
func TestPredictMatchesCall(t *testing.T) {
	m := predictNet()
	x := tensor.Zeros(19, 6, 5, 2)
	x.RandUniform(tensor.NewRand(4), -1, 1)
	before := append([]float32(nil), x.Data()...)
	y := m.Call(autograd.Constant(x), Context{})
	if err := y.Err(); err != nil {
		t.Fatal(err)
	}
	want := y.Value()
	for _, bs := range []int{1, 4, 7, 19, 64, 0} {
		got, err := Predict(m, x, bs)
		if err != nil {
			t.Fatalf("batch %d: %v", bs, err)
		}
		if !tensor.SameShape(got.Shape(), want.Shape()) {
			t.Fatalf("batch %d: shape %v, want %v", bs, got.Shape(), want.Shape())
		}
		for i, w := range want.Data() {
			if g := got.Data()[i]; math.Abs(float64(g-w)) > 1e-5*(1+math.Abs(float64(w))) {
				t.Fatalf("batch %d: output %d = %v, one call gives %v", bs, i, g, w)
			}
		}
	}
	for i, v := range x.Data() {
		if v != before[i] {
			t.Fatalf("Predict changed input value %d", i)
		}
	}
}

// TestPredictBatch: a model of small weights runs in batches of
// predictBatchRows, one whose weights pass predictWeightsMax in one.
func TestPredictBatch(t *testing.T) {
	small := predictNet()
	if err := small.Build([]int{1, 6, 5, 2}); err != nil {
		t.Fatal(err)
	}
	if got := PredictBatch(small); got != predictBatchRows {
		t.Errorf("PredictBatch of a small model = %d, want %d", got, predictBatchRows)
	}
	big := NewSequential(NewFlatten("f"), NewDense("d", DenseConfig{Units: 1100, Seed: 1}))
	if err := big.Build([]int{1, 1000}); err != nil { // 1.1 M weights, 4.4 MB
		t.Fatal(err)
	}
	if got := PredictBatch(big); got < 1<<30 {
		t.Errorf("PredictBatch of a model of 4.4 MB of weights = %d, want one batch", got)
	}
}

func TestPredictErrors(t *testing.T) {
	m := predictNet()
	x := tensor.Zeros(2, 6, 5, 2)
	if err := m.Build(x.Shape()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		x    *tensor.Tensor
		bs   int
		want string
	}{
		{"nil", nil, 0, "input is nil"},
		{"negative batch", x, -1, "batch size -1"},
		{"scalar", tensor.Zeros(), 0, "scalar"},
		{"wrong shape", tensor.Zeros(2, 6, 5, 3), 0, "Predict"},
	} {
		_, err := Predict(m, c.x, c.bs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
