package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models/keras"
	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
	"github.com/convnet-go/convnet/train"
)

// kerasJSON is a functional Keras model (model.to_json()) for
// [N, 28, 28, 1] images and `classes` logits: conv 3×3/4 with an L2
// kernel penalty → batch norm → flatten → dense.
func kerasJSON(input, classes string) string {
	return `{"class_name": "Functional", "config": {"name": "small", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, ` + input + `], "dtype": "float32", "name": "image"}, "name": "image", "inbound_nodes": []},
 {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3], "padding": "same", "activation": "relu",
   "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.001}}}, "name": "conv", "inbound_nodes": [[["image", 0, 0, {}]]]},
 {"class_name": "BatchNormalization", "config": {"name": "bn"}, "name": "bn", "inbound_nodes": [[["conv", 0, 0, {}]]]},
 {"class_name": "Flatten", "config": {"name": "flat"}, "name": "flat", "inbound_nodes": [[["bn", 0, 0, {}]]]},
 {"class_name": "Dense", "config": {"name": "out", "units": ` + classes + `}, "name": "out", "inbound_nodes": [[["flat", 0, 0, {}]]]}],
 "input_layers": [["image", 0, 0]], "output_layers": [["out", 0, 0]]}}`
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkCheckpointModel runs eval, predict (an image and a .npy tensor)
// and a resume without --model on the checkpoints of a run, and checks
// predict --npy against the model LoadModel rebuilds.
func checkCheckpointModel(t *testing.T, data, logdir, wantModel string) {
	t.Helper()
	ckpt := filepath.Join(logdir, "checkpoints")
	code, stdout, stderr := runCLI("eval", "--checkpoint", ckpt, "--data", data)
	if code != 0 || !strings.Contains(stdout, "accuracy") {
		t.Fatalf("eval: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI("predict", "--checkpoint", ckpt, "--top", "2", digitPNG(t, t.TempDir()))
	if code != 0 || !strings.Contains(stdout, "one.png: ") {
		t.Fatalf("predict: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	dir := t.TempDir()
	x := tensor.Zeros(2, 28, 28, 1)
	x.RandUniform(tensor.NewRand(2), 0, 1)
	in, out := filepath.Join(dir, "in.npy"), filepath.Join(dir, "out.npy")
	if err := npy.WriteFile(in, x); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI("predict", "--model", ckpt, "--npy", in, "--out", out); code != 0 {
		t.Fatalf("predict --npy: exit %d\n%s\n%s", code, stdout, stderr)
	}
	y, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, _, meta, err := train.LoadModel(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if meta[train.MetaModel] != wantModel || meta[train.MetaArchitecture] == "" {
		t.Fatalf("checkpoint model %q, architecture %q; want %q and an architecture", meta[train.MetaModel], meta[train.MetaArchitecture], wantModel)
	}
	if _, ok := m.(*layers.Model); !ok {
		t.Fatalf("LoadModel gave a %T, want a functional *layers.Model", m)
	}
	if code, stdout, stderr := runCLI("shape", "--model", ckpt); code != 0 || !strings.Contains(stdout, "Total params") {
		t.Errorf("shape --model of the checkpoint: exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := m.Call(autograd.Constant(x), layers.Context{})
	if want.Err() != nil {
		t.Fatal(want.Err())
	}
	if d := maxAbsDiff(t, y, want.Value()); d != 0 {
		t.Errorf("predict --npy differs from LoadModel's model by %g", d)
	}
	// --resume without --model continues with the checkpoint's model.
	code, stdout, stderr = runCLI("train", "--data", data, "--logdir", logdir, "--epochs", "2", "--steps", "2",
		"--batch-size", "4", "--progress", "never", "--resume")
	if code != 0 || !strings.Contains(stdout, "the architecture recorded in") || !strings.Contains(stdout, "resumed from") ||
		!strings.Contains(stdout, "epoch 2/2") {
		t.Fatalf("resume: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestTrainResNetCLI trains the built-in ResNet 2 steps through the
// command line, then evaluates, predicts, serves and resumes from its
// checkpoint; ONNX and Keras export refuse it by name.
func TestTrainResNetCLI(t *testing.T) {
	data := fakeMNIST(t, 40, 16)
	logdir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("train", "--model", "resnet", "--data", data, "--logdir", logdir, "--epochs", "1",
		"--steps", "2", "--batch-size", "4", "--progress", "never")
	if code != 0 {
		t.Fatalf("train: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"built-in resnet", "training " + train.ResNetName, "Total params:", "epoch 1/1  step 2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	ckpt := filepath.Join(logdir, "checkpoints")
	for _, format := range []string{"onnx", "keras"} {
		code, _, stderr := runCLI("export", "--model", ckpt, "--format", format, "-o", filepath.Join(t.TempDir(), "m."+format))
		if code != 2 || !strings.Contains(stderr, "functional model") {
			t.Errorf("export --format %s of a ResNet: exit %d, %q; want 2 and a note on functional models", format, code, stderr)
		}
	}
	serveOnce(t, ckpt)
	checkCheckpointModel(t, data, logdir, train.ResNetName)
}

// serveOnce serves ckpt, asks one inference of a zero image and stops
// the server with SIGTERM.
func serveOnce(t *testing.T, ckpt string) {
	t.Helper()
	url, _, stop := startServe(t, ckpt)
	body := `{"inputs": [{"name": "input", "shape": [1, 28, 28, 1], "datatype": "FP32", "data": [` +
		strings.TrimSuffix(strings.Repeat("0,", 28*28), ",") + `]}]}`
	r, err := http.Post(url+"/v2/models/convnet/infer", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(b), `"probabilities"`) {
		t.Errorf("infer: %d %s", r.StatusCode, b)
	}
	stop()
}

// TestTrainKerasJSONCLI trains a Keras model.to_json() file, then uses
// its checkpoint as the ResNet's; exported as a Keras model directory it
// predicts the same, and trains on from there as --model DIR.
func TestTrainKerasJSONCLI(t *testing.T) {
	data := fakeMNIST(t, 40, 16)
	file := writeFile(t, t.TempDir(), "small.json", kerasJSON("28, 28, 1", "10"))
	if code, stdout, stderr := runCLI("shape", "--model", file); code != 0 || !strings.Contains(stdout, "bn (BatchNormalization)") {
		t.Errorf("shape --model of a Keras JSON without weights: exit %d\n%s\n%s", code, stdout, stderr)
	}
	logdir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("train", "--model", file, "--data", data, "--logdir", logdir, "--epochs", "1",
		"--steps", "2", "--batch-size", "4", "--progress", "never")
	if code != 0 {
		t.Fatalf("train: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"the Keras JSON " + file, "conv (Conv2D)", "training keras"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	ckpt := filepath.Join(logdir, "checkpoints")
	kdir := filepath.Join(t.TempDir(), "exported")
	if code, stdout, stderr := runCLI("export", "--model", ckpt, "--format", "keras", "-o", kdir); code != 0 {
		t.Fatalf("export --format keras: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI("export", "--model", ckpt, "--format", "onnx", "-o", filepath.Join(t.TempDir(), "m.onnx")); code != 2 || !strings.Contains(stderr, "functional model") {
		t.Errorf("export --format onnx of a Keras-file model: exit %d, %q", code, stderr)
	}
	checkCheckpointModel(t, data, logdir, train.KerasName)

	// The exported directory is a starting point for another run.
	logdir2 := filepath.Join(t.TempDir(), "run2")
	code, stdout, stderr = runCLI("train", "--model", kdir, "--data", data, "--logdir", logdir2, "--epochs", "1",
		"--steps", "1", "--batch-size", "4", "--progress", "never")
	if code != 0 || !strings.Contains(stdout, "the model directory "+kdir+" and its weights") {
		t.Fatalf("train --model DIR: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestResumeForgedArchitecture: --resume without --model on a checkpoint
// whose architecture is forged exits 2, naming --resume (not the --model
// default, which was not used) and the key.
func TestResumeForgedArchitecture(t *testing.T) {
	data := fakeMNIST(t, 16, 8)
	dir := t.TempDir()
	meta := map[string]string{train.MetaModel: train.ResNetName, train.MetaArchitecture: `{"name": "alexnet"}`}
	if _, err := checkpoint.Save(dir, 1, map[string]*tensor.Tensor{"w": tensor.Zeros(1)}, meta, 1); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("train", "--data", data, "--logdir", filepath.Join(t.TempDir(), "run"), "--checkpoint-dir", dir,
		"--resume", "--epochs", "1", "--steps", "1", "--progress", "never")
	if code != 2 || !strings.Contains(stderr, "--resume: checkpoint "+filepath.Join(dir, "ckpt-1.safetensors")) ||
		!strings.Contains(stderr, "metadata architecture") || strings.Contains(stderr, "--model") {
		t.Fatalf("exit %d, stderr %q; want 2 and an error of --resume about the architecture", code, stderr)
	}
}

// TestTrainModelMismatch: a model file whose input or output does not
// fit the data, or a --model that is neither a name nor a file, exits 2
// naming both sides.
func TestTrainModelMismatch(t *testing.T) {
	data := fakeMNIST(t, 16, 8)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, model string
		want        []string
	}{
		{"input", writeFile(t, dir, "rgb.json", kerasJSON("32, 32, 3", "10")), []string{"28x28x1", "[N [32 32 3]]"}},
		{"classes", writeFile(t, dir, "seven.json", kerasJSON("28, 28, 1", "7")), []string{"10 classes", "[1 7]"}},
		{"unknown", "alexnet", []string{"--model must be lecture, vgg, resnet", "alexnet"}},
		{"bad widths", "vgg:64,wide", []string{"--model", `"vgg:64,wide"`, "vgg:F1,F2"}},
		{"too deep for the image", "vgg:4,4,4,4,4,4", []string{"too small for 6 stages"}},
		{"not JSON", writeFile(t, dir, "bad.json", "{"), []string{"bad.json"}},
		{"not a model file", writeFile(t, dir, "notes.txt", "hi"), []string{"notes.txt", "want lecture, vgg, resnet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI("train", "--model", tc.model, "--data", data, "--logdir", filepath.Join(t.TempDir(), "run"),
				"--epochs", "1", "--steps", "1", "--progress", "never")
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
		})
	}
}

// TestTrainTFJSModelStartsFromItsWeights trains the TF.js zoo ResNet
// (8×8×3 images, 5 classes) on a class folder at a learning rate too
// small to move a float32 weight: the checkpoint's kernels are the
// file's, so the file's weights were the starting point.
func TestTrainTFJSModelStartsFromItsWeights(t *testing.T) {
	dir := t.TempDir()
	for c := range 5 {
		class := filepath.Join(dir, fmt.Sprintf("class%d", c))
		if err := os.MkdirAll(class, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
			for p := range img.Pix {
				img.Pix[p] = uint8(37*c + 11*i + p)
			}
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			writeFile(t, class, fmt.Sprintf("%d.png", i), b.String())
		}
	}
	zoo := filepath.Join("..", "..", "models", "keras", "testdata", "zoo", "resnet", "model.json")
	logdir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("train", "--model", zoo, "--dataset", dir, "--channels", "3", "--logdir", logdir,
		"--epochs", "1", "--steps", "1", "--batch-size", "4", "--lr", "1e-30", "--progress", "never")
	if code != 0 || !strings.Contains(stdout, "the TF.js model "+zoo+" and its weights") {
		t.Fatalf("train: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	file, err := keras.Load(zoo)
	if err != nil {
		t.Fatal(err)
	}
	trained, _, _, err := train.LoadModel(filepath.Join(logdir, "checkpoints"))
	if err != nil {
		t.Fatal(err)
	}
	got := trained.Weights()
	n := 0
	for name, w := range file.Weights() {
		if !strings.HasSuffix(name, "/kernel") {
			continue // batch norm's moving statistics move in one training step
		}
		n++
		if d := maxAbsDiff(t, got[name], w); d != 0 {
			t.Errorf("%s differs from the file's by %g", name, d)
		}
	}
	if n == 0 {
		t.Fatal("the zoo model has no kernels")
	}
}

// TestTrainKerasSoftmaxCLI: a Keras JSON ending in a softmax trains on
// the cross-entropy of its probabilities, and predict --npy on its
// checkpoint gives what the model computes: rows of probabilities.
func TestTrainKerasSoftmaxCLI(t *testing.T) {
	data := fakeMNIST(t, 16, 8)
	js := strings.Replace(kerasJSON("28, 28, 1", "10"), `"units": 10}`, `"units": 10, "activation": "softmax"}`, 1)
	file := writeFile(t, t.TempDir(), "softmax.json", js)
	logdir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("train", "--model", file, "--data", data, "--logdir", logdir, "--epochs", "1",
		"--steps", "2", "--batch-size", "4", "--progress", "never")
	if code != 0 || !strings.Contains(stdout, "cross-entropy of the probabilities") {
		t.Fatalf("train: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	dir := t.TempDir()
	x := tensor.Zeros(3, 28, 28, 1)
	x.RandUniform(tensor.NewRand(3), 0, 1)
	in, out := filepath.Join(dir, "in.npy"), filepath.Join(dir, "out.npy")
	if err := npy.WriteFile(in, x); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI("predict", "--model", filepath.Join(logdir, "checkpoints"), "--npy", in, "--out", out); code != 0 {
		t.Fatalf("predict --npy: exit %d\n%s\n%s", code, stdout, stderr)
	}
	y, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var sum float64
		for _, v := range y.Data()[i*10 : (i+1)*10] {
			if v < 0 {
				t.Fatalf("row %d holds %g: not probabilities", i, v)
			}
			sum += float64(v)
		}
		if sum < 0.9999 || sum > 1.0001 {
			t.Errorf("row %d sums to %g, want 1", i, sum)
		}
	}
}
