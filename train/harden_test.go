package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/tensor"
)

// trained runs tiny for its two epochs in dir and returns the config.
func trained(t *testing.T, dir string) Config {
	t.Helper()
	c := tiny(dir)
	c.LogDir = filepath.Join(dir, "logs")
	if _, err := Run(context.Background(), c, tinyData()); err != nil {
		t.Fatal(err)
	}
	return c
}

// rewriteLatest loads the latest checkpoint in dir, lets edit change it
// and saves it over itself.
func rewriteLatest(t *testing.T, dir string, edit func(ts map[string]*tensor.Tensor, meta map[string]string)) {
	t.Helper()
	p, err := checkpoint.Latest(dir)
	if err != nil {
		t.Fatal(err)
	}
	ts, meta, err := checkpoint.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	edit(ts, meta)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := checkpoint.Write(f, ts, meta); err != nil {
		t.Fatal(err)
	}
}

func TestReadPosition(t *testing.T) {
	good := map[string]string{MetaStep: "5", MetaEpoch: "2", MetaBatch: "1", MetaImagesSeen: "4",
		MetaTrainSize: "40", MetaBatchSize: "4", MetaLossSum: "9.5", MetaCorrect: "3"}
	for _, c := range []struct {
		key, value string
		want       string // "" when valid
	}{
		{"", "", ""},
		{MetaStep, "-5", "global_step = -5, want 0…"},
		{MetaStep, "x", `global_step = "x" is not an integer`},
		{MetaEpoch, "99999999999", "epoch = 99999999999, want 0…5"},
		{MetaEpoch, "6", "epoch = 6, want 0…5 (at most global_step 5"},
		{MetaBatch, "-3", "batch = -3, want 0…1 (inside an epoch of 2 steps"},
		{MetaBatch, "1000000", "batch = 1000000, want 0…1"},
		{MetaBatch, "2", "batch = 2, want 0…1"},
		{MetaImagesSeen, "5", "epoch_images = 5, want 0…4 (batch 1 of batch_size 4)"},
		{MetaImagesSeen, "-1", "epoch_images = -1"},
		{MetaBatchSize, "0", "batch_size = 0, want 1…"},
		{MetaTrainSize, "-40", "train_examples = -40"},
		{MetaLossSum, "NaN", `epoch_loss_sum = "NaN", want a finite number ≥ 0`},
		{MetaLossSum, "-1", `epoch_loss_sum = "-1"`},
		{MetaLossSum, "", `epoch_loss_sum = ""`},
		{MetaCorrect, "-1", "epoch_correct = -1, want 0…4 (of epoch_images 4)"},
		{MetaCorrect, "5", "epoch_correct = 5, want 0…4"},
		{MetaCorrect, "x", `epoch_correct = "x" is not an integer`},
	} {
		t.Run(c.key+"="+c.value, func(t *testing.T) {
			meta := map[string]string{}
			for k, v := range good {
				meta[k] = v
			}
			if c.key != "" {
				meta[c.key] = c.value
			}
			p, err := readPosition(meta, 2)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("error %v for valid metadata", err)
			case c.want == "" && (p.step != 5 || p.epoch != 2 || p.batch != 1 || p.imagesSeen != 4 || p.correct != 3 || p.lossSum != 9.5):
				t.Fatalf("position %+v", p)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// TestResumeRefusesBadMetadata: a forged position is refused on resume
// with a ConfigError naming the checkpoint, and nothing is trained.
func TestResumeRefusesBadMetadata(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{MetaBatch, "-3", "batch = -3"},
		{MetaCurrentLR, "+Inf", `"current_learning_rate" = "+Inf" is not a finite positive number`},
		{metaCallback + "early_stopping/best", "x", `early_stopping state "best" = "x" is not a number`},
	} {
		t.Run(tc.key, func(t *testing.T) {
			c := trained(t, t.TempDir())
			rewriteLatest(t, c.CheckpointDir, func(_ map[string]*tensor.Tensor, meta map[string]string) {
				meta[tc.key] = tc.value
			})
			c.Resume, c.Epochs = true, 3
			c.Callbacks = []Callback{&EarlyStopping{Monitor: "loss", Patience: 2}}
			res, err := Run(context.Background(), c, tinyData())
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "ckpt-4.safetensors") {
				t.Fatalf("Run = %+v, %v; want a ConfigError with %q about ckpt-4", res, err, tc.want)
			}
		})
	}
}

// TestNonFiniteWeightsRefused: LoadModel and resuming refuse a checkpoint
// whose weights hold a NaN, naming the tensor.
func TestNonFiniteWeightsRefused(t *testing.T) {
	dir := t.TempDir()
	c := trained(t, dir)
	c.Keep = 1
	rewriteLatest(t, c.CheckpointDir, func(ts map[string]*tensor.Tensor, _ map[string]string) {
		ts["logits/bias"].Data()[3] = float32(math.NaN())
	})
	want := `ckpt-4.safetensors: checkpoint: tensor "logits/bias" holds NaN at index 3 of 10`
	if _, _, _, err := LoadModel(c.CheckpointDir); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadModel error %v, want %q", err, want)
	}
	c.Resume, c.Epochs = true, 3
	if _, err := Run(context.Background(), c, tinyData()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("resume error %v, want %q", err, want)
	}
}

// TestTruncatedLatestNamesPrevious: when the latest checkpoint is cut
// short, the error says so once and points at the intact previous one.
func TestTruncatedLatestNamesPrevious(t *testing.T) {
	dir := t.TempDir()
	c := trained(t, dir)
	latest, _ := checkpoint.Latest(c.CheckpointDir)
	b, _ := os.ReadFile(latest)
	os.WriteFile(latest, b[:len(b)/2], 0o644)
	prev := filepath.Join(c.CheckpointDir, checkpoint.FileName(2))
	_, _, _, err := LoadModel(c.CheckpointDir)
	if err == nil || !strings.Contains(err.Error(), "the previous checkpoint "+prev+" is intact") || strings.Count(err.Error(), latest) != 1 {
		t.Errorf("LoadModel error %v, want one naming %s once and offering %s", err, latest, prev)
	}
	c.Resume, c.Epochs = true, 3
	_, err = Run(context.Background(), c, tinyData())
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "the previous checkpoint "+prev+" is intact") || strings.Count(err.Error(), latest) != 2 {
		t.Errorf("resume error %v", err)
	}
}

// TestSecondWriterRefused: while a run holds the directories, another
// Run on the same checkpoint or log directory stops with a ConfigError.
func TestSecondWriterRefused(t *testing.T) {
	dir := t.TempDir()
	c := tiny(dir)
	c.LogDir = filepath.Join(dir, "logs")
	held, err := lockDirs([2]string{"checkpoint directory", c.CheckpointDir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), c, tinyData())
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "checkpoint directory "+c.CheckpointDir+" is in use by another convnet train") {
		t.Errorf("Run error %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.LogDir, "metrics.jsonl")); err == nil {
		t.Error("the refused run wrote metrics.jsonl")
	}
	unlockDirs(held)

	other := tiny(t.TempDir())
	other.LogDir = c.LogDir
	held, _ = lockDirs([2]string{"log directory", c.LogDir})
	if _, err := Run(context.Background(), other, tinyData()); err == nil || !strings.Contains(err.Error(), "log directory "+c.LogDir+" is in use") {
		t.Errorf("same log directory: %v", err)
	}
	unlockDirs(held)
	if _, err := Run(context.Background(), c, tinyData()); err != nil {
		t.Errorf("after the lock is released: %v", err)
	}
}

// TestStaleTempRemovedOnStart: temporary files of a killed save are
// removed when the next run starts; foreign files stay.
func TestStaleTempRemovedOnStart(t *testing.T) {
	dir := t.TempDir()
	c := trained(t, dir)
	stale := filepath.Join(c.CheckpointDir, ".ckpt-6.safetensors.tmp-4242")
	foreign := filepath.Join(c.CheckpointDir, ".mine.tmp-1")
	os.WriteFile(stale, []byte("partial"), 0o644)
	os.WriteFile(foreign, []byte("x"), 0o644)
	var out bytes.Buffer
	c.Resume, c.Epochs, c.Out = true, 3, &out
	if _, err := Run(context.Background(), c, tinyData()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale temporary file still there")
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("foreign file removed: %v", err)
	}
	if !strings.Contains(out.String(), "removed 1 temporary file(s)") {
		t.Errorf("output does not report the removal:\n%s", out.String())
	}
}

// TestNothingToTrainWritesNoLogs: a resumed run that is already done
// reports the epochs the checkpoint holds and creates no event files.
func TestNothingToTrainWritesNoLogs(t *testing.T) {
	dir := t.TempDir()
	c := trained(t, dir)
	before, _ := filepath.Glob(filepath.Join(c.LogDir, "*", "events.out.tfevents.*"))
	c.Resume, c.Epochs = true, 1
	res, err := Run(context.Background(), c, tinyData())
	if err != nil {
		t.Fatal(err)
	}
	after, _ := filepath.Glob(filepath.Join(c.LogDir, "*", "events.out.tfevents.*"))
	if len(after) != len(before) {
		t.Errorf("event files %d → %d", len(before), len(after))
	}
	if res.Epoch != 2 || len(res.Epochs) != 0 {
		t.Errorf("Result.Epoch %d, %d epochs trained; want 2 and 0", res.Epoch, len(res.Epochs))
	}
}

// FuzzReadPosition: no loop position read from a checkpoint's metadata
// panics, and one it accepts keeps the invariants resume relies on.
func FuzzReadPosition(f *testing.F) {
	f.Add("5", "2", "1", "4", "40", "4", "9.5", "3", uint8(2))
	f.Add("-5", "99999999999", "x", "", "-40", "0", "NaN", "-1", uint8(0))
	f.Add("5", "2", "1", "4", "40", "4", "9.5", "-1", uint8(2))
	f.Add("5", "2", "1", "4", "40", "4", "9.5", "5", uint8(2))
	f.Fuzz(func(t *testing.T, step, epoch, batch, images, trainSize, batchSize, lossSum, correct string, stepsPerEpoch uint8) {
		meta := map[string]string{MetaStep: step, MetaEpoch: epoch, MetaBatch: batch, MetaImagesSeen: images,
			MetaTrainSize: trainSize, MetaBatchSize: batchSize, MetaLossSum: lossSum}
		if correct != "" {
			meta[MetaCorrect] = correct
		}
		p, err := readPosition(meta, int(stepsPerEpoch))
		if err != nil {
			return
		}
		switch {
		case p.step < 0 || int64(p.epoch) > p.step || p.epoch > maxEpochs:
			t.Fatalf("step %d, epoch %d", p.step, p.epoch)
		case p.batch < 0 || p.batch >= int(stepsPerEpoch) || int64(p.batch) > p.step:
			t.Fatalf("batch %d of %d steps", p.batch, stepsPerEpoch)
		case p.imagesSeen < 0 || int64(p.imagesSeen) > int64(p.batch)*p.checkpointBatches:
			t.Fatalf("%d images in %d batches of %d", p.imagesSeen, p.batch, p.checkpointBatches)
		case p.correct < 0 || p.correct > p.imagesSeen:
			t.Fatalf("%d correct of %d", p.correct, p.imagesSeen)
		case math.IsNaN(p.lossSum) || math.IsInf(p.lossSum, 0) || p.lossSum < 0:
			t.Fatalf("loss sum %v", p.lossSum)
		}
	})
}
