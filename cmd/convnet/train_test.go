package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/tensor"
)

// fakeMNIST writes tiny random IDX files (raw, not gzipped) into a new
// directory so the commands run without fetching anything.
func fakeMNIST(t *testing.T, nTrain, nTest int) string {
	t.Helper()
	dir := t.TempDir()
	r := tensor.NewRand(1)
	write := func(name string, magic uint32, dims []uint32, body []byte) {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, magic)
		binary.Write(&b, binary.BigEndian, dims)
		b.Write(body)
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		images, labels string
		n              int
	}{{mnist.TrainImagesFile, mnist.TrainLabelsFile, nTrain}, {mnist.TestImagesFile, mnist.TestLabelsFile, nTest}} {
		px := make([]byte, s.n*28*28)
		for i := range px {
			px[i] = byte(r.IntN(256))
		}
		lb := make([]byte, s.n)
		for i := range lb {
			lb[i] = byte(r.IntN(10))
		}
		write(s.images, 0x803, []uint32{uint32(s.n), 28, 28}, px)
		write(s.labels, 0x801, []uint32{uint32(s.n)}, lb)
	}
	return dir
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestTrainBadFlags(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"train", "--epoch", "3"}, "flag provided but not defined: -epoch"},
		{"zero epochs", []string{"train", "--epochs", "0"}, "--epochs must be 1…1000000, got 0"},
		{"endless epochs", []string{"train", "--epochs", "9000000000000"}, "--epochs must be 1…1000000, got 9000000000000"},
		{"batch size", []string{"train", "--batch-size", "-1"}, "--batch-size must be at least 1"},
		{"lr", []string{"train", "--lr", "0"}, "--lr must be positive"},
		{"dropout as keep prob", []string{"train", "--dropout", "1"}, "--dropout is the drop rate"},
		{"init", []string{"train", "--init", "zeros"}, `--init must be glorot or lecture, got "zeros"`},
		{"optimizer", []string{"train", "--optimizer", "lbfgs"}, `unknown optimizer "lbfgs"`},
		{"stray argument", []string{"train", "mnist"}, "unexpected arguments"},
		{"unwritable logdir", []string{"train", "--logdir", filepath.Join(notDir, "run")}, "is not writable"},
		{"eval without checkpoint", []string{"eval"}, "--checkpoint is required"},
		{"eval missing checkpoint", []string{"eval", "--checkpoint", filepath.Join(notDir, "x")}, "checkpoint:"},
		{"predict without images", []string{"predict", "--checkpoint", "x"}, "no images given"},
		{"predict bad invert", []string{"predict", "--checkpoint", "x", "--invert", "maybe", "a.png"}, "--invert must be auto, always or never"},
		{"unknown recipe", []string{"train", "--recipe", "slow"}, `unknown recipe "slow"`},
		{"bad schedule", []string{"train", "--schedule", "step:0:2"}, `schedule "step:0:2"`},
		{"bad augment", []string{"train", "--augment", "zoom:2"}, `unknown item "zoom:2"`},
		{"bad erase", []string{"train", "--augment", "flip,erase:2"}, "erase:2, want a probability in (0, 1]"},
		{"bad image size", []string{"train", "--image-size", "64"}, `--image-size "64", want HxW`},
		{"bad channels", []string{"train", "--channels", "2"}, "--channels must be 0, 1 or 3"},
		{"bad normalize", []string{"train", "--normalize", "maybe"}, "--normalize must be auto, on or off"},
		{"bad monitor", []string{"train", "--monitor", "val_auc"}, "--monitor must be"},
		{"negative early stop", []string{"train", "--early-stop", "-1"}, "--early-stop must not be negative"},
		{"unknown dataset", []string{"train", "--dataset", "imagenet", "--logdir", filepath.Join(t.TempDir(), "r")}, `dataset "imagenet": want mnist`},
		{"missing cifar", []string{"train", "--dataset", "cifar:" + t.TempDir(), "--logdir", filepath.Join(t.TempDir(), "r")}, "data_batch_1.bin"},
		{"eval unknown dataset", []string{"eval", "--checkpoint", "x", "--image-size", "3x"}, "--image-size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// TestTrainEvalPredict runs the three commands end to end on a few steps
// of fake data.
func TestTrainEvalPredict(t *testing.T) {
	data := fakeMNIST(t, 40, 30)
	logdir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--data", data, "--logdir", logdir, "--epochs", "1", "--steps", "2",
		"--batch-size", "8", "--log-every", "1", "--progress", "never"}
	code, stdout, stderr := runCLI(args...)
	if code != 0 {
		t.Fatalf("train: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"step 1  epoch 1  loss", "step 2  epoch 1", "epoch 1/1  step 2", "metrics.jsonl"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	var m map[string]any
	b, err := os.ReadFile(filepath.Join(logdir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("metrics.jsonl: %v\n%s", err, b)
	}
	for _, k := range []string{"epoch", "step", "train_loss", "val_accuracy", "test_accuracy", "epoch_seconds", "images_per_second"} {
		if _, ok := m[k]; !ok {
			t.Errorf("metrics.jsonl lacks %q: %s", k, b)
		}
	}

	t.Run("second run needs --resume", func(t *testing.T) {
		code, _, stderr := runCLI(args...)
		if code != 2 || !strings.Contains(stderr, "pass --resume") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		code, stdout, _ := runCLI(append(args, "--resume")...)
		if code != 0 || !strings.Contains(stdout, "already trained 1 epoch(s) (step 2), --epochs is 1") {
			t.Errorf("resume at the end: exit %d, stdout %q", code, stdout)
		}
	})

	t.Run("eval", func(t *testing.T) {
		code, stdout, stderr := runCLI("eval", "--data", data, "--checkpoint", filepath.Join(logdir, "checkpoints"))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stdout, "test accuracy") || !strings.Contains(stdout, "/30)") || strings.Count(stdout, "\n") < 13 {
			t.Errorf("eval output:\n%s", stdout)
		}
	})

	t.Run("predict", func(t *testing.T) {
		img := image.NewGray(image.Rect(0, 0, 60, 90))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		for y := 10; y < 80; y++ {
			for x := 27; x < 33; x++ {
				img.SetGray(x, y, color.Gray{})
			}
		}
		path := filepath.Join(t.TempDir(), "one.png")
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI("predict", "--checkpoint", filepath.Join(logdir, "checkpoints"), "--json", path)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got []struct {
			File        string
			Inverted    bool
			Predictions []struct {
				Class       int
				Probability float64
			}
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%v:\n%s", err, stdout)
		}
		if len(got) != 1 || got[0].File != path || !got[0].Inverted || len(got[0].Predictions) != 3 {
			t.Errorf("predict --json: %+v", got)
		}
		code, stdout, _ = runCLI("predict", "--checkpoint", filepath.Join(logdir, "checkpoints"), path)
		if code != 0 || !strings.HasPrefix(stdout, path+": ") || !strings.Contains(stdout, "[inverted]") {
			t.Errorf("predict text: exit %d, %q", code, stdout)
		}
	})

	t.Run("empty checkpoint directory", func(t *testing.T) {
		code, _, stderr := runCLI("eval", "--data", data, "--checkpoint", t.TempDir())
		if code != 2 || !strings.Contains(stderr, "no checkpoint in") {
			t.Errorf("exit %d, %q", code, stderr)
		}
	})

	t.Run("checkpoint of another model", func(t *testing.T) {
		dir := t.TempDir()
		ts := map[string]*tensor.Tensor{"conv1/kernel": tensor.Zeros(3, 3, 1, 8), "conv1/bias": tensor.Zeros(8)}
		if _, err := checkpoint.Save(dir, 1, ts, nil, 1); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]string{
			{"eval", "--data", data, "--checkpoint", dir},
			{"train", "--data", data, "--logdir", t.TempDir(), "--checkpoint-dir", dir, "--resume", "--steps", "1"},
		} {
			code, _, stderr := runCLI(cmd...)
			if code != 2 || !strings.Contains(stderr, "conv1/kernel has shape [3 3 1 8], the model expects [5 5 1 32]") {
				t.Errorf("%s: exit %d, %q", cmd[0], code, stderr)
			}
		}
	})
}

// TestTrainEvalFolder trains on a class folder with a bad file, the fast
// recipe, augmentation and early stopping, then evaluates the checkpoint
// with per-class scores.
func TestTrainEvalFolder(t *testing.T) {
	dir := t.TempDir()
	for c, class := range []string{"circle", "square", "stripe"} {
		os.MkdirAll(filepath.Join(dir, class), 0o755)
		for i := range 8 {
			img := image.NewNRGBA(image.Rect(0, 0, 10+i, 12))
			for y := range 12 {
				for x := range 10 + i {
					img.Set(x, y, color.NRGBA{uint8(80 * c), uint8(x * 20), uint8(y * 20), 255})
				}
			}
			var b bytes.Buffer
			png.Encode(&b, img)
			os.WriteFile(filepath.Join(dir, class, fmt.Sprintf("%d.png", i)), b.Bytes(), 0o644)
		}
	}
	os.WriteFile(filepath.Join(dir, "stripe", "notes.png"), []byte("not a png"), 0o644)
	logdir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--dataset", dir, "--image-size", "12x12", "--channels", "3", "--logdir", logdir,
		"--epochs", "2", "--batch-size", "5", "--recipe", "fast", "--augment", "shift:2,flip", "--early-stop", "3", "--progress", "never"}
	code, stdout, stderr := runCLI(args...)
	if code == 0 || !strings.Contains(stderr, filepath.Join(dir, "stripe", "notes.png")) {
		t.Fatalf("train over a bad file: exit %d, stderr %q; want it named", code, stderr)
	}
	os.RemoveAll(logdir)
	code, stdout, stderr = runCLI(append(args, "--skip-bad-images")...)
	if code != 0 {
		t.Fatalf("train: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"images 12x12x3, 3 classes", "one-cycle", "shift:2,flip", "val loss", "curves.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(logdir, "curves.png")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "stripe", "notes.png"))
	code, stdout, stderr = runCLI("eval", "--checkpoint", filepath.Join(logdir, "checkpoints"), "--dataset", dir)
	if code != 0 {
		t.Fatalf("eval: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"validation accuracy", "precision", "recall", "circle", "stripe", "macro avg"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("eval output lacks %q:\n%s", want, stdout)
		}
	}
	// predict resizes any picture to the model's input and names classes.
	code, stdout, stderr = runCLI("predict", "--checkpoint", filepath.Join(logdir, "checkpoints"), "--top", "3", filepath.Join(dir, "circle", "3.png"))
	if code != 0 || !strings.Contains(stdout, "circle") || !strings.Contains(stdout, "square") {
		t.Fatalf("predict: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if code, _, stderr = runCLI("predict", "--checkpoint", filepath.Join(logdir, "checkpoints"), "--top", "4", filepath.Join(dir, "circle", "3.png")); code != 2 || !strings.Contains(stderr, "between 1 and 3") {
		t.Fatalf("predict --top 4 of 3 classes: exit %d, %q", code, stderr)
	}
	// export writes the model with the input it was trained on.
	for _, format := range []string{"onnx", "keras"} {
		out := filepath.Join(t.TempDir(), "model."+format)
		if code, stdout, stderr = runCLI("export", "--model", filepath.Join(logdir, "checkpoints"), "--format", format, "-o", out); code != 0 {
			t.Fatalf("export --format %s of a 12x12x3 model: exit %d\nstdout:\n%s\nstderr:\n%s", format, code, stdout, stderr)
		}
	}
	// The checkpoint's model takes 12×12×3: another size is refused.
	code, _, stderr = runCLI("eval", "--checkpoint", filepath.Join(logdir, "checkpoints"), "--dataset", dir, "--image-size", "8x8")
	if code != 2 || !strings.Contains(stderr, "takes 12x12x3") {
		t.Fatalf("eval at 8x8: exit %d, stderr %q", code, stderr)
	}
	// It has 3 classes: a folder of 2 is refused.
	os.RemoveAll(filepath.Join(dir, "circle"))
	code, _, stderr = runCLI("eval", "--checkpoint", filepath.Join(logdir, "checkpoints"), "--dataset", dir)
	if code != 2 || !strings.Contains(stderr, "has 2 classes, the checkpoint's model 3") {
		t.Fatalf("eval on 2 of the 3 classes: exit %d, stderr %q", code, stderr)
	}
}
