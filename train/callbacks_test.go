package train

import (
	"context"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/layers"
)

func bareControl(lr float64) *Control {
	return &Control{t: &trainer{lr: lr, progress: newProgress(io.Discard, false)}}
}

// The sequences follow Keras 3's on_epoch_end code step by step.
func TestEarlyStoppingLikeKeras(t *testing.T) {
	cases := []struct {
		name      string
		cb        EarlyStopping
		values    []float64
		stopAfter int // 1-based epoch, 0 = never
	}{
		{"patience 2", EarlyStopping{Monitor: "val_loss", Patience: 2}, []float64{1, 0.9, 0.95, 0.92, 0.8}, 4},
		{"min delta", EarlyStopping{Monitor: "val_loss", Patience: 2, MinDelta: 0.05}, []float64{1, 0.96, 0.94, 0.9}, 0},
		{"min delta stops", EarlyStopping{Monitor: "val_loss", Patience: 2, MinDelta: 0.05}, []float64{1, 0.96, 0.97}, 3},
		{"accuracy is maximised", EarlyStopping{Monitor: "val_accuracy", Patience: 1}, []float64{0.5, 0.6, 0.7, 0.65}, 4},
		{"patience 0 still runs epoch 1", EarlyStopping{Monitor: "val_loss", Patience: 0}, []float64{1, 2}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctl := bareControl(1)
			cb := c.cb
			stopped := 0
			for i, v := range c.values {
				if err := cb.OnEpochEnd(i+1, Logs{c.cb.Monitor: v}, ctl); err != nil {
					t.Fatal(err)
				}
				if ctl.t.stopped {
					stopped = i + 1
					break
				}
			}
			if stopped != c.stopAfter {
				t.Fatalf("stopped after epoch %d, want %d", stopped, c.stopAfter)
			}
		})
	}
	if err := (&EarlyStopping{Monitor: "val_auc"}).OnEpochEnd(1, Logs{"val_loss": 1}, bareControl(1)); err == nil {
		t.Fatal("a monitor the logs lack was accepted")
	}
}

func TestReduceLROnPlateauLikeKeras(t *testing.T) {
	cb := &ReduceLROnPlateau{Monitor: "val_loss", Patience: 2, Factor: 0.5, Cooldown: 1, MinLR: 0.2, MinDelta: 1e-4}
	ctl := bareControl(1)
	want := []float64{1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2}
	for i, w := range want {
		if err := cb.OnEpochEnd(i+1, Logs{"val_loss": 1}, ctl); err != nil {
			t.Fatal(err)
		}
		if ctl.LearningRate() != w {
			t.Fatalf("after epoch %d the rate is %g, want %g", i+1, ctl.LearningRate(), w)
		}
	}
	// An improvement resets the count.
	cb = &ReduceLROnPlateau{Monitor: "val_loss", Patience: 2, Factor: 0.5}
	ctl = bareControl(1)
	for i, v := range []float64{1, 1, 0.5, 0.5} {
		cb.OnEpochEnd(i+1, Logs{"val_loss": v}, ctl)
	}
	if ctl.LearningRate() != 1 {
		t.Fatalf("rate %g after an improvement in epoch 3, want 1", ctl.LearningRate())
	}
	// With a schedule the callback may not set the rate.
	ctl.t.cfg.Schedule = Constant{Rate: 1}
	if err := ctl.SetLearningRate(0.1); err == nil {
		t.Fatal("SetLearningRate under a schedule was accepted")
	}
}

// smallModel is a custom Sequential: any model can be fitted.
func smallModel(seed uint64) *layers.Sequential {
	m := layers.NewSequential(
		layers.NewConv2D("c", layers.Conv2DConfig{Filters: 3, KernelSize: []int{3, 3}, Padding: "SAME", Seed: seed}),
		layers.NewMaxPooling2D("p", layers.PoolConfig{PoolSize: []int{4, 4}, Strides: []int{4, 4}, Padding: "VALID"}),
		layers.NewFlatten("f"),
		layers.NewDropout("d", 0.2, seed),
		layers.NewDense("out", layers.DenseConfig{Units: 10, Seed: seed}),
	)
	if err := m.Build([]int{1, 28, 28, 1}); err != nil {
		panic(err)
	}
	return m
}

// callbackRun is a run of 6 epochs of 2 steps with a custom model, an
// augmented, normalised dataset and the callbacks make returns.
func callbackRun(dir string, make func() (Schedule, []Callback)) (Config, Data) {
	sched, cbs := make()
	d := tinyData()
	d.Normalize = &data.Normalization{Mean: []float32{0.5}, Std: []float32{0.25}}
	c := Config{
		Epochs: 6, BatchSize: 4, StepsPerEpoch: 2, Seed: 5, LR: 0.01, Model: smallModel(5), ModelName: "small",
		CheckpointDir: filepath.Join(dir, "checkpoints"), LogDir: dir, EvalBatchSize: 8,
		Schedule: sched, Callbacks: cbs, Augment: data.Augment{Shift: 2, Rotate: 10},
	}
	return c, d
}

func metaOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	p, err := checkpoint.Latest(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, meta, err := checkpoint.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return meta
}

// TestCallbacksResumeBitIdentical interrupts runs in the middle of a
// schedule, of early stopping and of ReduceLROnPlateau, resumes them,
// and compares the weights, slots and callback state bit for bit with an
// uninterrupted run.
func TestCallbacksResumeBitIdentical(t *testing.T) {
	setups := map[string]func() (Schedule, []Callback){
		"cosine warm-up and early stopping": func() (Schedule, []Callback) {
			return CosineDecay{Initial: 0.001, Target: 0.01, WarmupSteps: 3, DecaySteps: 9},
				[]Callback{&EarlyStopping{Monitor: "val_loss", MinDelta: 10, Patience: 3, RestoreBest: true}, &BestCheckpoint{Monitor: "val_accuracy"}}
		},
		"one-cycle": func() (Schedule, []Callback) { return OneCycle{MaxLR: 0.01, TotalSteps: 12}, nil },
		"plateau": func() (Schedule, []Callback) {
			return nil, []Callback{&ReduceLROnPlateau{Monitor: "val_loss", MinDelta: 10, Patience: 1, Factor: 0.5}}
		},
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			straightDir := t.TempDir()
			c, d := callbackRun(straightDir, setup)
			straight, err := Run(context.Background(), c, d)
			if err != nil {
				t.Fatal(err)
			}
			want := latestTensors(t, c.CheckpointDir)
			wantMeta := metaOf(t, c.CheckpointDir)

			for _, stopAt := range []int64{5, 4} { // mid-epoch 3, end of epoch 2
				dir := t.TempDir()
				c, d := callbackRun(dir, setup)
				ctx, cancel := context.WithCancel(context.Background())
				c.afterStep = func(step int64) {
					if step == stopAt {
						cancel()
					}
				}
				_, err := Run(ctx, c, d)
				cancel()
				if !errors.Is(err, ErrInterrupted) {
					t.Fatalf("stop at %d: %v, want ErrInterrupted", stopAt, err)
				}
				c, d = callbackRun(dir, setup) // fresh callbacks, as a new process has
				c.Resume = true
				res, err := Run(context.Background(), c, d)
				if err != nil {
					t.Fatal(err)
				}
				sameBits(t, name, want, latestTensors(t, c.CheckpointDir))
				got := metaOf(t, c.CheckpointDir)
				for k, v := range wantMeta {
					if got[k] != v {
						t.Fatalf("stop at %d: metadata %s = %q, uninterrupted %q", stopAt, k, got[k], v)
					}
				}
				if res.Stopped != straight.Stopped || res.Step != straight.Step {
					t.Fatalf("stop at %d: stopped %v at step %d, uninterrupted %v at %d", stopAt, res.Stopped, res.Step, straight.Stopped, straight.Step)
				}
				if _, err := os.Stat(filepath.Join(dir, CurvesFile)); err != nil {
					t.Fatalf("no curves after resuming: %v", err)
				}
			}
			switch name {
			case "cosine warm-up and early stopping":
				// MinDelta 10 means no later epoch improves on epoch 1:
				// stop after epoch 4 with epoch 1's weights.
				if !straight.Stopped || straight.Step != 8 {
					t.Fatalf("early stopping: stopped %v at step %d, want true at 8", straight.Stopped, straight.Step)
				}
				best, _, err := checkpoint.Load(filepath.Join(c.CheckpointDir, BestWeightsName+".safetensors"))
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range straight.Model.Weights() {
					if !reflect.DeepEqual(v.Data(), best[k].Data()) {
						t.Fatalf("final %s is not the best epoch's", k)
					}
				}
				// The best weights and the curves are readable as the
				// checkpoints are (CreateTemp alone makes files 0600).
				ckpt, err := os.Stat(straight.Checkpoint)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range []string{filepath.Join(c.CheckpointDir, BestFileName+".safetensors"), filepath.Join(c.LogDir, CurvesFile)} {
					st, err := os.Stat(p)
					if err != nil {
						t.Fatalf("best checkpoint: %v", err)
					}
					if st.Mode() != ckpt.Mode() {
						t.Errorf("%s has mode %v, the checkpoints %v", p, st.Mode(), ckpt.Mode())
					}
				}
			case "plateau":
				if wantMeta[MetaCurrentLR] != "0.0003125" { // 0.01 halved after epochs 2…6
					t.Fatalf("plateau: final rate %s, want 0.01/2⁵", wantMeta[MetaCurrentLR])
				}
			case "one-cycle":
				if lr := straight.Epochs[5].LR; math.Abs(lr-0.01/25/1e4) > 1e-15 {
					t.Fatalf("one-cycle: last rate %g, want %g", lr, 0.01/25/1e4)
				}
			}
		})
	}
}

// TestAugmentOnlyInTraining: with strong augmentation on, the loop's
// validation score is the model's score on the plain images.
func TestAugmentOnlyInTraining(t *testing.T) {
	dir := t.TempDir()
	c, d := callbackRun(dir, func() (Schedule, []Callback) { return nil, nil })
	c.Epochs, c.Augment = 1, data.Augment{Shift: 8, FlipH: true, Rotate: 90}
	res, err := Run(context.Background(), c, d)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := EvaluateWith(res.Model, d.Validation, 3, d.Normalize)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Loss != res.Epochs[0].ValLoss || ev.Accuracy != res.Epochs[0].ValAccuracy {
		t.Fatalf("loop's validation %v/%v, plain evaluation %v/%v", res.Epochs[0].ValLoss, res.Epochs[0].ValAccuracy, ev.Loss, ev.Accuracy)
	}
	f, err := os.Open(filepath.Join(dir, CurvesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("curves.png: %v", err)
	}
}

func TestPerClassScores(t *testing.T) {
	// 3 classes; rows are true labels.
	ev := Evaluation{N: 10, Classes: []string{"a", "b", "c"}, Confusion: [][]int{{3, 1, 0}, {0, 4, 0}, {1, 1, 0}}}
	got := ev.PerClass()
	want := []ClassScore{
		{"a", 4, 3.0 / 4, 3.0 / 4, 3.0 / 4},
		{"b", 4, 4.0 / 6, 1, 2 * (4.0 / 6) / (4.0/6 + 1)},
		{"c", 2, 0, 0, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("PerClass = %+v, want %+v", got, want)
	}
}

// Without a checkpoint directory, weights kept in memory must be copies:
// training on after SaveWeights must not change what RestoreWeights
// brings back.
func TestKeptWeightsInMemoryAreCopies(t *testing.T) {
	m := layers.NewSequential(layers.NewDense("fc", layers.DenseConfig{Units: 3, Seed: 1}))
	if err := m.Build([]int{1, 4}); err != nil {
		t.Fatal(err)
	}
	tr := &trainer{model: m}
	if _, err := tr.saveWeights("best"); err != nil {
		t.Fatal(err)
	}
	w := m.Weights()["fc/kernel"]
	want := append([]float32(nil), w.Data()...)
	for i := range w.Data() {
		w.Data()[i] += 1
	}
	w.MarkChanged()
	if err := tr.restoreWeights("best"); err != nil {
		t.Fatal(err)
	}
	if got := m.Weights()["fc/kernel"].Data(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored kernel %v, want the kept %v", got, want)
	}
}
