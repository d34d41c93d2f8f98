package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/npy"
)

// TestPyTorchExports runs models exported by torch.onnx.export (opset 13,
// NCHW; testdata/gen/onnx_torch.py) on their saved inputs and compares
// with PyTorch's saved outputs. A NAME.onnx without its .npy files (such
// as lecture_full, which the generator writes only with --full) is
// checked the same way when present.
func TestPyTorchExports(t *testing.T) {
	models, _ := filepath.Glob(filepath.Join("testdata", "torch", "*.onnx"))
	if len(models) < 2 {
		t.Fatalf("found %d PyTorch exports in testdata/torch, want lecture_nchw and resnet_bn", len(models))
	}
	for _, path := range models {
		name := filepath.Base(path[:len(path)-len(".onnx")])
		t.Run(name, func(t *testing.T) {
			base := path[:len(path)-len(".onnx")]
			if _, err := os.Stat(base + ".in.npy"); err != nil {
				t.Skipf("no %s.in.npy", name)
			}
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			x, err := npy.ReadFile(base + ".in.npy")
			if err != nil {
				t.Fatal(err)
			}
			want, err := npy.ReadFile(base + ".out.npy")
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			d := maxDiff(t, out[0], want)
			t.Logf("max |convnet − PyTorch| = %.3g over %v", d, want.Shape())
			if d > 1e-4 {
				t.Errorf("outputs differ from PyTorch's by %g (> 1e-4)", d)
			}
		})
	}
}
