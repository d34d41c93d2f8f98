package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/tensor"
)

// resnetRun is a short run of a functional model with batch norm.
func resnetRun(t *testing.T, dir string) Config {
	t.Helper()
	m, err := models.NewResNet(models.ResNetConfig{InputShape: []int{28, 28, 1}, Classes: 10, Stages: []int{4, 8}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Epochs: 2, BatchSize: 4, StepsPerEpoch: 2, Seed: 3, Model: m, // ModelName: the architecture's
		Architecture:  &Architecture{Name: ResNetName, Input: [3]int{28, 28, 1}, Classes: 10, Stages: []int{4, 8}},
		CheckpointDir: filepath.Join(dir, "checkpoints"), LogDir: dir, LogEvery: 1, EvalBatchSize: 16,
	}
}

// TestModelNameFollowsArchitecture: a model name other than its
// architecture's would write checkpoints LoadModel refuses; Run refuses
// it up front.
func TestModelNameFollowsArchitecture(t *testing.T) {
	c := resnetRun(t, t.TempDir())
	c.ModelName = "small"
	if _, err := Run(context.Background(), c, tinyData()); err == nil || !strings.Contains(err.Error(), `"small"`) {
		t.Fatalf("Run: %v, want an error naming both models", err)
	}
	if _, err := os.Stat(c.CheckpointDir); !os.IsNotExist(err) {
		t.Errorf("checkpoint directory after the refusal: %v", err)
	}
}

// TestFunctionalResumeIsBitIdentical trains a functional ResNet with
// batch norm for 2 short epochs straight, then interrupted mid-epoch and
// resumed, then 1 + 1 epochs: the weights, the moving statistics and the
// optimizer slots must match bit for bit.
func TestFunctionalResumeIsBitIdentical(t *testing.T) {
	d := tinyData()
	straightDir := t.TempDir()
	c := resnetRun(t, straightDir)
	if _, err := Run(context.Background(), c, d); err != nil {
		t.Fatal(err)
	}
	want := latestTensors(t, c.CheckpointDir)
	mean, ok := want["stem_bn/moving_mean"]
	if !ok {
		t.Fatal("the checkpoint holds no stem_bn/moving_mean")
	}
	moved := false
	for _, v := range mean.Data() {
		moved = moved || v != 0
	}
	if !moved {
		t.Fatal("stem_bn/moving_mean is still all zeros after training: the moving statistics were not updated")
	}

	// LoadModel rebuilds the functional model from the recorded
	// architecture, moving statistics included.
	loaded, _, _, err := LoadModel(c.CheckpointDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := loaded.(*layers.Model); !ok {
		t.Fatalf("LoadModel gave a %T, want the functional *layers.Model", loaded)
	}
	weights := map[string]*tensor.Tensor{}
	for name := range loaded.Weights() {
		weights[name] = want[name]
	}
	sameBits(t, "LoadModel", loaded.Weights(), weights)

	t.Run("interrupted mid-epoch", func(t *testing.T) {
		dir := t.TempDir()
		c := resnetRun(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c.afterStep = func(step int64) {
			if step == 3 {
				cancel()
			}
		}
		if _, err := Run(ctx, c, d); !errors.Is(err, ErrInterrupted) {
			t.Fatalf("interrupted run: %v, want ErrInterrupted", err)
		}
		c = resnetRun(t, dir) // a new process builds a fresh model
		c.Resume = true
		if _, err := Run(context.Background(), c, d); err != nil {
			t.Fatal(err)
		}
		sameBits(t, "interrupted + resumed", want, latestTensors(t, c.CheckpointDir))
	})
	t.Run("epoch boundary", func(t *testing.T) {
		dir := t.TempDir()
		c := resnetRun(t, dir)
		c.Epochs = 1
		if _, err := Run(context.Background(), c, d); err != nil {
			t.Fatal(err)
		}
		c = resnetRun(t, dir)
		c.Resume = true
		if _, err := Run(context.Background(), c, d); err != nil {
			t.Fatal(err)
		}
		sameBits(t, "1+1 epochs", want, latestTensors(t, c.CheckpointDir))
	})
}

// regularizedModel is flatten → dense 10 with an L2 kernel penalty.
func regularizedModel(l2 float32) *layers.Sequential {
	var reg layers.Regularizer
	if l2 != 0 {
		reg = layers.L2(l2)
	}
	m := layers.NewSequential(layers.NewFlatten("f"),
		layers.NewDense("out", layers.DenseConfig{Units: 10, Seed: 4, KernelRegularizer: reg}))
	if err := m.Build([]int{1, 28, 28, 1}); err != nil {
		panic(err)
	}
	return m
}

// TestRegularizationIsMinimised checks by hand that the L2 penalty λ·Σw²
// is part of the loss minimised and reported: one SGD step with the
// penalty moves each kernel weight by lr·2λ·w more than the same step
// without it, and the reported loss is larger by λ·Σw² (the weights
// before the step), as Keras's fit reports it; evaluation adds it too.
func TestRegularizationIsMinimised(t *testing.T) {
	const lambda, lr = 0.05, 0.1
	d := tinyData()
	d.Validation, d.Test = nil, nil
	plain, reg := regularizedModel(0), regularizedModel(lambda)
	w0 := plain.Weights()["out/kernel"].Clone()
	var sumSq float64
	for _, v := range w0.Data() {
		sumSq += float64(v) * float64(v)
	}
	evPlain, err := Evaluate(plain, d.Train, 16)
	if err != nil {
		t.Fatal(err)
	}
	evReg, err := Evaluate(reg, d.Train, 16)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := evReg.Loss-evPlain.Loss, lambda*sumSq; math.Abs(got-want) > 1e-4*want {
		t.Errorf("evaluation loss grows by %g with the penalty, want λ·Σw² = %g", got, want)
	}

	run := func(m *layers.Sequential) *Result {
		res, err := Run(context.Background(), Config{Epochs: 1, BatchSize: 8, StepsPerEpoch: 1, LR: lr, Optimizer: "sgd",
			Seed: 4, Model: m}, d)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(plain), run(reg)
	if got, want := b.Epochs[0].TrainLoss-a.Epochs[0].TrainLoss, lambda*sumSq; math.Abs(got-want) > 1e-4*want {
		t.Errorf("reported training loss grows by %g with the penalty, want λ·Σw² = %g", got, want)
	}
	wa, wb := a.Model.Weights()["out/kernel"].Data(), b.Model.Weights()["out/kernel"].Data()
	for i, w := range w0.Data() {
		// w_reg − w_plain = −lr·2λ·w0
		want := -lr * 2 * lambda * float64(w)
		if got := float64(wb[i]) - float64(wa[i]); math.Abs(got-want) > 1e-6+1e-3*math.Abs(want) {
			t.Fatalf("kernel[%d]: the penalty moved it by %g, want −lr·2λ·w = %g", i, got, want)
		}
	}
}

// TestModelMustFitTheData: a model whose input or output does not match
// the data's images and classes is a *ConfigError naming both.
func TestModelMustFitTheData(t *testing.T) {
	d := tinyData()
	for _, tc := range []struct {
		name  string
		input []int
		class int
		want  []string
	}{
		{"input", []int{32, 32, 3}, 10, []string{"28x28x1", "[N [32 32 3]]"}},
		{"classes", []int{28, 28, 1}, 7, []string{"10 classes", "[1 7]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := models.NewResNet(models.ResNetConfig{InputShape: tc.input, Classes: tc.class, Stages: []int{4}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = Run(context.Background(), Config{Epochs: 1, Model: m}, d)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *ConfigError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// TestFunctionalGraphAndPredict: a functional model gets a TensorBoard
// graph holding its variables, predictions, and a clear error for layer
// outputs, which only Sequentials give.
func TestFunctionalGraphAndPredict(t *testing.T) {
	m, err := models.NewResNet(models.ResNetConfig{InputShape: []int{12, 12, 3}, Classes: 4, Stages: []int{4, 8}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := ModelGraph(m, []int{12, 12, 3}, "adam")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]string{}
	for _, n := range g.Nodes {
		ops[n.Name] = n.Op
	}
	for name, op := range map[string]string{"s2b1_conv1/kernel": "VariableV2", "logits/kernel": "VariableV2",
		"loss/SparseSoftmaxCrossEntropyWithLogits": "SparseSoftmaxCrossEntropyWithLogits", "optimizer/Adam": "NoOp"} {
		if ops[name] != op {
			t.Errorf("graph node %s: op %q, want %q", name, ops[name], op)
		}
	}
	img := make([]float32, 12*12*3)
	p, err := PredictImages(m, [][]float32{img}, DataInfo{Shape: data.Shape{H: 12, W: 12, C: 3}, Classes: []string{"a", "b", "c", "d"}}, 4)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, q := range p[0] {
		sum += q.Probability
	}
	if len(p[0]) != 4 || math.Abs(sum-1) > 1e-5 {
		t.Errorf("predictions %+v, want 4 summing to 1", p[0])
	}
	if _, err := LayerOutputs(m, tensor.Zeros(1, 12, 12, 3), "stem"); err == nil || !strings.Contains(err.Error(), "Sequential") {
		t.Errorf("LayerOutputs of a functional model: %v, want an error naming Sequential", err)
	}
}
