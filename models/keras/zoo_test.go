package keras

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

// zooModels are the TF.js Layers models written by testdata/gen/zoo.js.
var zooModels = []string{"resnet", "separable", "transpose", "dense1d"}

// maxDiff returns max |a − b|, or +Inf when the shapes differ.
func maxDiff(a, b *tensor.Tensor) float64 {
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		return math.Inf(1)
	}
	d := 0.0
	for i, v := range a.Data() {
		d = max(d, math.Abs(float64(v)-float64(b.Data()[i])))
	}
	return d
}

func readNpy(t *testing.T, path string) *tensor.Tensor {
	t.Helper()
	x, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestZooMatchesTFJS loads each zoo model.json and compares Predict with
// TF.js's model.predict on the same input.
func TestZooMatchesTFJS(t *testing.T) {
	for _, name := range zooModels {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "zoo", name)
			m, err := LoadTFJS(filepath.Join(dir, "model.json"))
			if err != nil {
				t.Fatal(err)
			}
			y, err := m.Predict(readNpy(t, filepath.Join(dir, "x.npy")))
			if err != nil {
				t.Fatal(err)
			}
			d := maxDiff(y, readNpy(t, filepath.Join(dir, "y.npy")))
			t.Logf("%s: max |convnet − TF.js| = %.3g", name, d)
			if d > 1e-4 {
				t.Errorf("max difference %g > 1e-4", d)
			}
		})
	}
}

