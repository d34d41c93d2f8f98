package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

// TestExportPredictONNX trains two steps, exports the checkpoint as ONNX,
// runs it with predict --model --npy and checks the logits' shape, then
// the two commands' bad-usage errors (exit code 2).
func TestExportPredictONNX(t *testing.T) {
	data := fakeMNIST(t, 16, 8)
	dir := t.TempDir()
	logdir := filepath.Join(dir, "run")
	if code, stdout, stderr := runCLI("train", "--data", data, "--logdir", logdir, "--epochs", "1", "--steps", "1",
		"--batch-size", "4", "--progress", "never"); code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, stderr)
	}
	ckpt := filepath.Join(logdir, "checkpoints")
	model := filepath.Join(dir, "lecture.onnx")
	code, stdout, stderr := runCLI("export", "--model", ckpt, "--format", "onnx", "-o", model)
	if code != 0 || !strings.Contains(stdout, "wrote "+model) {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	x := tensor.Zeros(3, 28, 28, 1)
	x.RandUniform(tensor.NewRand(1), 0, 1)
	in, out := filepath.Join(dir, "in.npy"), filepath.Join(dir, "out.npy")
	if err := npy.WriteFile(in, x); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI("predict", "--model", model, "--npy", in, "--out", out)
	if code != 0 || !strings.Contains(stdout, "[3 10]") {
		t.Fatalf("predict: exit %d\n%s\n%s", code, stdout, stderr)
	}
	y, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(y.Shape(), []int{3, 10}) {
		t.Fatalf("logits shape %v, want [3 10]", y.Shape())
	}

	bad := filepath.Join(dir, "bad.npy")
	if err := npy.WriteFile(bad, tensor.Zeros(1, 1, 28, 28)); err != nil {
		t.Fatal(err)
	}
	notONNX := filepath.Join(dir, "not.onnx")
	if err := os.WriteFile(notONNX, []byte("hello, world"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"export without model", []string{"export", "-o", model}, "--model is required"},
		{"export without -o", []string{"export", "--model", ckpt}, "-o is required"},
		{"export bad format", []string{"export", "--model", ckpt, "--format", "tflite", "-o", model}, `--format must be onnx or keras, got "tflite"`},
		{"export missing checkpoint", []string{"export", "--model", filepath.Join(dir, "none"), "-o", model}, "checkpoint"},
		{"predict model without npy", []string{"predict", "--model", model}, "--model, --npy and --out go together"},
		{"predict model with images", []string{"predict", "--model", model, "--npy", in, "--out", out, "a.png"}, "give no --checkpoint and no images"},
		{"predict wrong layout", []string{"predict", "--model", model, "--npy", bad, "--out", out}, `input "input" has shape [1 1 28 28], the model declares [N 28 28 1]`},
		{"predict not onnx", []string{"predict", "--model", notONNX, "--npy", in, "--out", out}, "not a valid ONNX model"},
		{"predict not npy", []string{"predict", "--model", model, "--npy", model, "--out", out}, "not a .npy file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(c.args...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, c.want)
			}
		})
	}
}
