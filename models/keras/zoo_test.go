package keras

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

// zooModels are the TF.js Layers models written by testdata/gen/zoo.js.
var zooModels = []string{"resnet", "separable", "transpose", "dense1d", "activations", "shared"}

// maxDiff returns max |a − b|, or +Inf when the shapes differ or a
// value of either is NaN (so that a "d > tol" check fails on it).
func maxDiff(a, b *tensor.Tensor) float64 {
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		return math.Inf(1)
	}
	d := 0.0
	for i, v := range a.Data() {
		x := math.Abs(float64(v) - float64(b.Data()[i]))
		if math.IsNaN(x) {
			return math.Inf(1)
		}
		d = max(d, x)
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

// TestZooSummary checks Summary against TF.js's layer list: names,
// classes, output shapes (TF.js leaves Reshape's inferred dimension
// null) and parameter counts.
func TestZooSummary(t *testing.T) {
	for _, name := range zooModels {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "zoo", name)
			var want struct {
				Params int
				Layers []struct {
					Name, Class string
					OutputShape []*int
					Params      int
				}
			}
			b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			m, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			rows := m.Summary().Rows
			if m.Class() == "Sequential" {
				rows = rows[1:] // TF.js lists no input layer for a Sequential
			}
			if len(rows) != len(want.Layers) {
				t.Fatalf("%d rows, TF.js lists %d layers", len(rows), len(want.Layers))
			}
			total := 0
			for i, w := range want.Layers {
				r := rows[i]
				total += r.Params
				shapeOK := len(r.Shape) == len(w.OutputShape)
				for j := 0; shapeOK && j < len(r.Shape); j++ {
					shapeOK = w.OutputShape[j] == nil || *w.OutputShape[j] == r.Shape[j]
				}
				if r.Name != w.Name || r.Class != w.Class || r.Params != w.Params || !shapeOK {
					t.Errorf("row %d: %s (%s) %v %d params; TF.js: %s (%s) %d params", i, r.Name, r.Class, r.Shape, r.Params, w.Name, w.Class, w.Params)
				}
			}
			if total != want.Params {
				t.Errorf("total %d params, TF.js %d", total, want.Params)
			}
		})
	}
}

// TestZooRoundTrip saves each zoo model as a model directory and as
// Keras JSON, loads both back and checks that the outputs are identical
// and that the JSON is stable.
func TestZooRoundTrip(t *testing.T) {
	for _, name := range zooModels {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join("testdata", "zoo", name)
			m, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			x := readNpy(t, filepath.Join(src, "x.npy"))
			want, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "model")
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			back, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			js, err := m.ToJSON()
			if err != nil {
				t.Fatal(err)
			}
			fromJSON, err := ParseJSON(js)
			if err != nil {
				t.Fatal(err)
			}
			if err := fromJSON.SetWeights(m.Weights()); err != nil {
				t.Fatal(err)
			}
			for _, r := range []struct {
				how string
				m   *Model
			}{{"model directory", back}, {"Keras JSON", fromJSON}} {
				got, err := r.m.Predict(x)
				if err != nil {
					t.Fatalf("%s: %v", r.how, err)
				}
				if d := maxDiff(got, want); d != 0 {
					t.Errorf("%s: outputs differ by %g", r.how, d)
				}
				js2, err := r.m.ToJSON()
				if err != nil {
					t.Fatal(err)
				}
				if string(js2) != string(js) {
					t.Errorf("%s: ToJSON after the round trip differs:\n%s\nwant\n%s", r.how, js2, js)
				}
				if r.m.Class() != m.Class() || r.m.Name() != m.Name() {
					t.Errorf("%s: %s %q, want %s %q", r.how, r.m.Class(), r.m.Name(), m.Class(), m.Name())
				}
			}
		})
	}
}
