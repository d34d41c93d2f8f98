package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/summary"
	"github.com/convnet-go/convnet/tensor"
)

// synthetic returns n random images in [0, 1] with random labels.
func synthetic(n int, seed uint64) *mnist.Set {
	r := tensor.NewRand(seed)
	s := &mnist.Set{Images: make([]float32, n*mnist.Pixels), Labels: make([]uint8, n), N: n}
	for i := range s.Images {
		s.Images[i] = r.Float32()
	}
	for i := range s.Labels {
		s.Labels[i] = uint8(r.IntN(models.Classes))
	}
	return s
}

// tiny is a configuration of a few small steps, for tests. It writes
// checkpoints but no logs (histograms of 3.2M weights are slow).
func tiny(dir string) Config {
	return Config{
		Epochs: 2, BatchSize: 4, StepsPerEpoch: 2, DropoutRate: models.LectureDropout, Seed: 7,
		CheckpointDir: filepath.Join(dir, "checkpoints"), LogEvery: 1, EvalBatchSize: 16,
	}
}

func tinyData() Data {
	return Data{Train: synthetic(40, 1), Validation: synthetic(8, 2), Test: synthetic(16, 3)}
}

// state returns the model's weights and the optimizer slots of the
// latest checkpoint in dir, for bitwise comparison.
func latestTensors(t *testing.T, dir string) map[string]*tensor.Tensor {
	t.Helper()
	p, err := checkpoint.Latest(dir)
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err := checkpoint.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func sameBits(t *testing.T, what string, a, b map[string]*tensor.Tensor) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d tensors vs %d", what, len(a), len(b))
	}
	for name, x := range a {
		y, ok := b[name]
		if !ok {
			t.Fatalf("%s: %s missing", what, name)
		}
		for i := range x.Data() {
			if math.Float32bits(x.Data()[i]) != math.Float32bits(y.Data()[i]) {
				t.Fatalf("%s: %s[%d] = %v vs %v", what, name, i, x.Data()[i], y.Data()[i])
			}
		}
	}
}

// TestResumeIsBitIdentical trains 2 short epochs straight, then the same
// as 1 epoch + resume + 1 epoch, and as an interrupted run (cancelled
// mid-epoch) + resume: weights and optimizer slots must match bit for bit.
func TestResumeIsBitIdentical(t *testing.T) {
	data := tinyData()
	straightDir := t.TempDir()
	straight, err := Run(context.Background(), tiny(straightDir), data)
	if err != nil {
		t.Fatal(err)
	}
	if straight.Step != 4 || len(straight.Epochs) != 2 {
		t.Fatalf("straight run: step %d, %d epochs; want 4, 2", straight.Step, len(straight.Epochs))
	}
	want := latestTensors(t, filepath.Join(straightDir, "checkpoints"))

	t.Run("epoch boundary", func(t *testing.T) {
		dir := t.TempDir()
		c := tiny(dir)
		c.Epochs, c.LogDir = 1, dir
		if _, err := Run(context.Background(), c, data); err != nil {
			t.Fatal(err)
		}
		c.Epochs, c.Resume = 2, true
		res, err := Run(context.Background(), c, data)
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, "1+1 epochs", want, latestTensors(t, c.CheckpointDir))
		if len(res.Epochs) != 1 || res.Epochs[0].TrainLoss != straight.Epochs[1].TrainLoss {
			t.Errorf("resumed epoch 2 metrics %+v, straight %+v", res.Epochs, straight.Epochs[1])
		}
		lines := readLines(t, filepath.Join(dir, "metrics.jsonl"))
		if len(lines) != 2 {
			t.Errorf("metrics.jsonl has %d lines after 1 + 1 epochs, want 2", len(lines))
		}
	})
	t.Run("interrupted mid-epoch", func(t *testing.T) {
		dir := t.TempDir()
		c := tiny(dir)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c.afterStep = func(step int64) {
			if step == 3 {
				cancel()
			}
		}
		res, err := Run(ctx, c, data)
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("interrupted run: error %v, want ErrInterrupted", err)
		}
		if res.Step != 3 || !strings.Contains(res.Checkpoint, "3") {
			t.Errorf("interrupted at step %d, checkpoint %q", res.Step, res.Checkpoint)
		}
		c.afterStep, c.Resume = nil, true
		res, err = Run(context.Background(), c, data)
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, "interrupted + resumed", want, latestTensors(t, c.CheckpointDir))
		if len(res.Epochs) != 1 || res.Epochs[0].TrainLoss != straight.Epochs[1].TrainLoss {
			t.Errorf("resumed epoch 2 loss %+v, straight %v", res.Epochs, straight.Epochs[1].TrainLoss)
		}
	})
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestCheckpointOfAnotherModel(t *testing.T) {
	dir := t.TempDir()
	c := tiny(dir)
	c.Resume = true
	// A network with 16 conv1 filters and no logits layer.
	tensors := map[string]*tensor.Tensor{
		"conv1/kernel": tensor.Zeros(5, 5, 1, 16), "conv1/bias": tensor.Zeros(16),
		"conv2/kernel": tensor.Zeros(5, 5, 32, 64), "conv2/bias": tensor.Zeros(64),
		"fc/kernel": tensor.Zeros(3136, 1024), "fc/bias": tensor.Zeros(1024),
	}
	if _, err := checkpoint.Save(c.CheckpointDir, 10, tensors, map[string]string{MetaModel: models.ConvNetName}, 1); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), c, tinyData())
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want a ConfigError", err)
	}
	for _, want := range []string{
		"conv1/kernel has shape [5 5 1 16], the model expects [5 5 1 32]",
		"conv1/bias has shape [16], the model expects [32]",
		"logits/kernel is missing",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, _, _, err := LoadModel(c.CheckpointDir); err == nil || !strings.Contains(err.Error(), "conv1/kernel has shape [5 5 1 16]") {
		t.Errorf("LoadModel: error %v", err)
	}
}

func TestRefusesToOverwriteCheckpoints(t *testing.T) {
	dir := t.TempDir()
	c := tiny(dir)
	c.Epochs, c.StepsPerEpoch = 1, 1
	if _, err := Run(context.Background(), c, tinyData()); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), c, tinyData())
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "pass --resume") {
		t.Errorf("second run without resume: error %v", err)
	}
}

// TestNaNLoss poisons the data after one good epoch: the run must stop at
// the first step of epoch 2, name it, and keep the epoch-1 checkpoint.
func TestNaNLoss(t *testing.T) {
	dir := t.TempDir()
	c := tiny(dir)
	c.Epochs = 1
	data := tinyData()
	if _, err := Run(context.Background(), c, data); err != nil {
		t.Fatal(err)
	}
	good := latestTensors(t, c.CheckpointDir)
	goodPath, _ := checkpoint.Latest(c.CheckpointDir)

	poisoned := *data.Train.(*mnist.Set)
	poisoned.Images = append([]float32(nil), poisoned.Images...)
	for i := range poisoned.Images {
		poisoned.Images[i] = float32(math.NaN())
	}
	data.Train = &poisoned
	c.Epochs, c.Resume = 2, true
	_, err := Run(context.Background(), c, data)
	var de *DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("error %v, want a DivergedError", err)
	}
	if de.Step != 3 || de.Epoch != 2 || de.Batch != 1 || de.Checkpoint != goodPath {
		t.Errorf("diverged at %+v, want step 3, epoch 2, batch 1, checkpoint %s", de, goodPath)
	}
	if !strings.Contains(err.Error(), "loss is NaN at step 3") {
		t.Errorf("message %q", err)
	}
	if p, _ := checkpoint.Latest(c.CheckpointDir); p != goodPath {
		t.Errorf("latest checkpoint is %s, want the good %s", p, goodPath)
	}
	sameBits(t, "kept checkpoint", good, latestTensors(t, c.CheckpointDir))
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"epochs", func(c *Config) { c.Epochs = 0 }, "epochs must be at least 1, got 0"},
		{"lr", func(c *Config) { c.LR = -1 }, "learning rate must be a positive number, got -1"},
		{"dropout", func(c *Config) { c.DropoutRate = 1 }, "dropout rate must be in [0, 1), got 1"},
		{"optimizer", func(c *Config) { c.Optimizer = "lbfgs" }, `unknown optimizer "lbfgs"`},
		{"init", func(c *Config) { c.Init = "zeros" }, `init must be "glorot" or "lecture", got "zeros"`},
		{"resume without dir", func(c *Config) { c.CheckpointDir, c.Resume = "", true }, "resume needs a checkpoint directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tiny(t.TempDir())
			tc.edit(&c)
			_, err := Run(context.Background(), c, tinyData())
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a ConfigError saying %q", err, tc.want)
			}
		})
	}
	t.Run("unwritable logdir", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		c := tiny(t.TempDir())
		c.LogDir = filepath.Join(file, "logs")
		_, err := Run(context.Background(), c, tinyData())
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot create log directory") {
			t.Errorf("error %v", err)
		}
	})
}

func TestEvaluate(t *testing.T) {
	m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: 0.5, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := synthetic(23, 4)
	a, err := Evaluate(m, s, 10)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Evaluate(m, s, 23)
	if err != nil {
		t.Fatal(err)
	}
	// Dropout is off, so batching does not change the predictions.
	if !reflect.DeepEqual(a.Confusion, b.Confusion) || a.N != 23 {
		t.Errorf("batches of 10 and 23 disagree: %v vs %v (N %d)", a.Confusion, b.Confusion, a.N)
	}
	total, trace := 0, 0
	for y := range models.Classes {
		for p := range models.Classes {
			total += a.Confusion[y][p]
		}
		trace += a.Confusion[y][y]
	}
	if total != 23 || trace != a.Correct || a.Accuracy != float64(a.Correct)/23 {
		t.Errorf("confusion total %d trace %d, correct %d accuracy %v", total, trace, a.Correct, a.Accuracy)
	}
	if math.Abs(a.Loss-b.Loss) > 1e-6 || !(a.Loss > 0) {
		t.Errorf("losses %v and %v", a.Loss, b.Loss)
	}
	var buf bytes.Buffer
	if err := a.WriteConfusion(&buf); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 11 {
		t.Errorf("confusion matrix has %d lines, want 11:\n%s", n, buf.String())
	}
}

func TestPredict(t *testing.T) {
	m, err := models.NewConvNet(models.ConvNetConfig{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := synthetic(2, 5)
	preds, err := Predict(m, [][]float32{s.Images[:784], s.Images[784:]}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range preds {
		if len(p) != 3 || !(p[0].Probability >= p[1].Probability && p[1].Probability >= p[2].Probability) {
			t.Errorf("image %d: %+v, want 3 classes by falling probability", i, p)
		}
	}
	if _, err := Predict(m, [][]float32{make([]float32, 10)}, 3); err == nil {
		t.Error("a 10-pixel image was accepted")
	}
}

func TestKernelGrid(t *testing.T) {
	k := tensor.Zeros(5, 5, 1, 32)
	for i := range k.Data() {
		k.Data()[i] = float32(i%7) - 3
	}
	img, err := KernelGrid(k)
	if err != nil {
		t.Fatal(err)
	}
	// 8 columns × 4 rows of 20×20 cells with 2-pixel borders.
	if b := img.Bounds(); b.Dx() != 8*22+2 || b.Dy() != 4*22+2 {
		t.Errorf("image %v", img.Bounds())
	}
	lo, hi := uint8(255), uint8(0)
	for y := 2; y < 22; y++ {
		for x := 2; x < 22*8; x++ {
			if (x-2)%22 >= 20 {
				continue
			}
			lo, hi = min(lo, img.GrayAt(x, y).Y), max(hi, img.GrayAt(x, y).Y)
		}
	}
	if lo != 0 || hi != 255 {
		t.Errorf("kernel pixels span %d…%d, want 0…255", lo, hi)
	}
	if _, err := KernelGrid(tensor.Zeros(3, 3)); err == nil {
		t.Error("a rank-2 tensor was accepted")
	}
}

// TestLogs reads back metrics.jsonl and every TensorBoard event (ReadFile
// verifies each record's CRCs).
func TestLogs(t *testing.T) {
	dir := t.TempDir()
	c := tiny(dir)
	c.Epochs, c.LogDir = 1, dir
	res, err := Run(context.Background(), c, tinyData())
	if err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(dir, "metrics.jsonl"))
	var m EpochMetrics
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &m) != nil {
		t.Fatalf("metrics.jsonl: %q", lines)
	}
	if m != res.Epochs[0] || m.Epoch != 1 || m.Step != 2 || !(m.TrainLoss > 0) || !(m.ImagesPerSecond > 0) {
		t.Errorf("metrics line %+v, Run returned %+v", m, res.Epochs[0])
	}
	tags := func(run string) map[string]summary.Kind {
		paths, _ := filepath.Glob(filepath.Join(dir, run, "events.out.tfevents.*"))
		if len(paths) != 1 {
			t.Fatalf("%s: event files %v", run, paths)
		}
		events, err := summary.ReadFile(paths[0])
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]summary.Kind{}
		for _, e := range events {
			for _, v := range e.Values {
				got[v.Tag] = v.Kind
				if v.Tag == "conv1/kernels" && (v.Image.Width != 8*22+2 || v.Image.Height != 4*22+2) {
					t.Errorf("kernel image %d×%d", v.Image.Width, v.Image.Height)
				}
			}
		}
		return got
	}
	want := map[string]map[string]summary.Kind{
		"train": {"loss": summary.KindScalar, "accuracy": summary.KindScalar, "conv1/kernel": summary.KindHistogram,
			"logits/bias": summary.KindHistogram, "conv1/kernels": summary.KindImage},
		"eval": {"accuracy": summary.KindScalar, "loss": summary.KindScalar, "validation_accuracy": summary.KindScalar},
	}
	for run, w := range want {
		got := tags(run)
		for tag, kind := range w {
			if got[tag] != kind {
				t.Errorf("%s: tag %q has kind %v, want %v (all: %v)", run, tag, got[tag], kind, got)
			}
		}
	}
}
