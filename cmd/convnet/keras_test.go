package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models/keras"
	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
	"github.com/convnet-go/convnet/train"
)

// zooDir is the TF.js model zoo of models/keras (testdata/gen/zoo.js).
var zooDir = filepath.Join("..", "..", "models", "keras", "testdata", "zoo")

func maxAbsDiff(t *testing.T, a, b *tensor.Tensor) float64 {
	t.Helper()
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		t.Fatalf("shape %v, want %v", a.Shape(), b.Shape())
	}
	d := 0.0
	for i, v := range a.Data() {
		d = max(d, math.Abs(float64(v)-float64(b.Data()[i])))
	}
	return d
}

// TestPredictKerasZoo runs every zoo model through predict --model
// --npy, as a TF.js model.json, as its directory and, after saving it as
// a convnet model directory, as that, and compares with TF.js's output.
func TestPredictKerasZoo(t *testing.T) {
	for _, name := range []string{"resnet", "separable", "transpose", "dense1d", "activations", "shared"} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(zooDir, name)
			m, err := keras.Load(src)
			if err != nil {
				t.Fatal(err)
			}
			saved := filepath.Join(t.TempDir(), "saved")
			if err := m.Save(saved); err != nil {
				t.Fatal(err)
			}
			want, err := npy.ReadFile(filepath.Join(src, "y.npy"))
			if err != nil {
				t.Fatal(err)
			}
			for _, model := range []string{filepath.Join(src, "model.json"), src, saved, filepath.Join(saved, keras.ConfigFile)} {
				out := filepath.Join(t.TempDir(), "y.npy")
				code, stdout, stderr := runCLI("predict", "--model", model, "--npy", filepath.Join(src, "x.npy"), "--out", out)
				if code != 0 {
					t.Fatalf("predict --model %s: exit %d\n%s\n%s", model, code, stdout, stderr)
				}
				y, err := npy.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				d := maxAbsDiff(t, y, want)
				t.Logf("--model %s: max |convnet − TF.js| = %.3g", model, d)
				if d > 1e-4 {
					t.Errorf("--model %s: max difference %g > 1e-4", model, d)
				}
			}
			code, stdout, stderr := runCLI("shape", "--model", src)
			if code != 0 || !strings.Contains(stdout, "Total params: ") || !strings.Contains(stdout, "Connected to") {
				t.Fatalf("shape --model: exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}

// TestKerasCLIErrors checks that bad models and tensors exit with code 2
// and a message naming the problem.
func TestKerasCLIErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(zooDir, "resnet")
	x := filepath.Join(src, "x.npy")
	out := filepath.Join(dir, "y.npy")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknown := write("unknown.json", `{"modelTopology": {"class_name": "Sequential", "config": {"name": "s", "layers": [
		{"class_name": "Lambda", "config": {"name": "f", "batch_input_shape": [null, 2]}}]}}, "weightsManifest": []}`)
	badKey := write("badkey.json", `{"modelTopology": {"class_name": "Sequential", "config": {"name": "s", "layers": [
		{"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 2], "kernel_constraint": {"class_name": "MaxNorm"}}}]}}, "weightsManifest": []}`)
	rank1 := filepath.Join(dir, "rank1.npy")
	if err := npy.WriteFile(rank1, tensor.Zeros(3)); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(src, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	noShard := write("model.json", string(js)) // no shard beside it
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong input shape", []string{"predict", "--model", src, "--npy", filepath.Join(zooDir, "dense1d", "x.npy"), "--out", out}, "takes inputs [N 8 8 3], got shape [4 10 3]"},
		{"unknown class", []string{"predict", "--model", unknown, "--npy", x, "--out", out}, `layer f: unsupported layer class "Lambda"`},
		{"unsupported key", []string{"shape", "--model", badKey}, `layer d (Dense): config key "kernel_constraint"`},
		{"missing model", []string{"shape", "--model", filepath.Join(dir, "none")}, "not a checkpoint"},
		{"shape with other flags", []string{"shape", "--model", src, "--kernel", "3"}, "--model takes no other flags"},
		{"not json", []string{"predict", "--model", write("bad.json", "{"), "--npy", x, "--out", out}, "is not a JSON object"},
		{"rank-1 tensor", []string{"predict", "--model", src, "--npy", rank1, "--out", out}, "holds shape [3]; want a batch [N, …]"},
		{"missing tensor", []string{"predict", "--model", src, "--npy", filepath.Join(dir, "none.npy"), "--out", out}, "none.npy"},
		{"missing shard", []string{"predict", "--model", noShard, "--npy", x, "--out", out}, "group1-shard1of1.bin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed run wrote %s", out)
			}
		})
	}
}

// TestTrainSummaryAndCheckpointModel trains one step, checks that train
// printed the model summary, then runs shape and predict --npy on the
// checkpoint and compares predict's output with the model run directly.
func TestTrainSummaryAndCheckpointModel(t *testing.T) {
	data := fakeMNIST(t, 16, 8)
	dir := t.TempDir()
	logdir := filepath.Join(dir, "run")
	code, stdout, stderr := runCLI("train", "--data", data, "--logdir", logdir, "--epochs", "1", "--steps", "1",
		"--batch-size", "4", "--progress", "never")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// 5·5·1·32 + 32 + 5·5·32·64 + 64 + 3136·1024 + 1024 + 1024·10 + 10.
	const total = "Total params: 3,274,634"
	if !strings.Contains(stdout, total) || !strings.Contains(stdout, "conv1 (Conv2D)") {
		t.Errorf("train printed no summary with %q:\n%s", total, stdout)
	}
	ckpt := filepath.Join(logdir, "checkpoints")
	if code, stdout, stderr := runCLI("shape", "--model", ckpt); code != 0 || !strings.Contains(stdout, total) {
		t.Errorf("shape --model checkpoint: exit %d\n%s\n%s", code, stdout, stderr)
	}
	x := tensor.Zeros(3, 28, 28, 1)
	x.RandUniform(tensor.NewRand(1), 0, 1)
	in, out := filepath.Join(dir, "in.npy"), filepath.Join(dir, "out.npy")
	if err := npy.WriteFile(in, x); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI("predict", "--model", ckpt, "--npy", in, "--out", out); code != 0 {
		t.Fatalf("predict: exit %d\n%s\n%s", code, stdout, stderr)
	}
	y, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, _, _, err := train.LoadModel(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Call(autograd.Constant(x), layers.Context{})
	if want.Err() != nil {
		t.Fatal(want.Err())
	}
	if d := maxAbsDiff(t, y, want.Value()); d != 0 {
		t.Errorf("predict --npy differs from the model by %g", d)
	}

	onnxFile := filepath.Join(dir, "m.onnx")
	if code, stdout, stderr := runCLI("export", "--model", ckpt, "-o", onnxFile); code != 0 {
		t.Fatalf("export onnx: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI("shape", "--model", onnxFile); code != 0 || !strings.Contains(stdout, "input input [-1 28 28 1]") {
		t.Errorf("shape --model .onnx: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// The checkpoint exported as a Keras model directory runs the same.
	kdir := filepath.Join(dir, "keras")
	if code, stdout, stderr := runCLI("export", "--model", ckpt, "--format", "keras", "-o", kdir); code != 0 {
		t.Fatalf("export --format keras: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI("shape", "--model", kdir); code != 0 || !strings.Contains(stdout, total) {
		t.Errorf("shape --model keras dir: exit %d\n%s\n%s", code, stdout, stderr)
	}
	kout := filepath.Join(dir, "kout.npy")
	if code, stdout, stderr := runCLI("predict", "--model", kdir, "--npy", in, "--out", kout); code != 0 {
		t.Fatalf("predict keras dir: exit %d\n%s\n%s", code, stdout, stderr)
	}
	ky, err := npy.ReadFile(kout)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, ky, want.Value()); d != 0 {
		t.Errorf("the exported Keras model differs from the checkpoint by %g", d)
	}
}
