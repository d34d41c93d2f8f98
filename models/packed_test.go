package models

import (
	"fmt"
	"math"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// TestPackedWeightsFollowTraining trains the lecture model with Adam
// (the weights change every step) and, between the steps, runs inference
// three times, so that the layers' packed weights (nn.Packed: the fc
// slabs or Sgemm panels, conv2's Winograd filters) are built and used. Inference must
// always give the bits of a second model that was just given the same
// weights (whose first call computes from the weights directly), and the
// training itself must follow, bit for bit, the run of a third model
// trained without the inference calls in between.
func TestPackedWeightsFollowTraining(t *testing.T) {
	newModel := func() *layers.Sequential {
		m, err := NewConvNet(ConvNetConfig{DropoutRate: LectureDropout, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m, fresh, plain := newModel(), newModel(), newModel()
	optM, optPlain := optim.NewAdam(optim.AdamConfig{}), optim.NewAdam(optim.AdamConfig{})
	one, _ := batch(1, 21)
	two, _ := batch(2, 22)
	forty, _ := batch(40, 24) // past the slabs: fc's Sgemm panels
	x, labels := batch(2, 23)
	step := func(model *layers.Sequential, opt optim.Optimizer, s int64) []float32 {
		t.Helper()
		logits := model.Call(autograd.Constant(x), layers.Context{Training: true, Step: s})
		loss := autograd.ReduceMean(autograd.SparseSoftmaxCrossEntropyWithLogits(labels, logits))
		grads, err := autograd.Gradient(loss, model.Variables()...)
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(model.Variables(), grads); err != nil {
			t.Fatal(err)
		}
		return loss.Value().Data()
	}
	infer := func(model *layers.Sequential, in *tensor.Tensor) []float32 {
		t.Helper()
		y := model.Call(autograd.Constant(in), layers.Context{})
		if y.Err() != nil {
			t.Fatal(y.Err())
		}
		return y.Value().Data()
	}
	for s := int64(1); s <= 4; s++ {
		got, want := step(m, optM, s), step(plain, optPlain, s)
		bitsEqual(t, fmt.Sprintf("step %d loss", s), got, want)
		if err := fresh.SetWeights(m.Weights()); err != nil {
			t.Fatal(err)
		}
		for _, in := range []*tensor.Tensor{one, two, forty} {
			want := infer(fresh, in)
			if err := fresh.SetWeights(m.Weights()); err != nil { // a new version: the next call is a first one again
				t.Fatal(err)
			}
			for call := 1; call <= 3; call++ {
				bitsEqual(t, fmt.Sprintf("step %d, batch %d, call %d", s, in.Dim(0), call), infer(m, in), want)
			}
		}
	}
	for name, w := range m.Weights() {
		bitsEqual(t, "final "+name, w.Data(), plain.Weights()[name].Data())
	}
}

func bitsEqual(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}
