package onnx

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

// needTool skips the test when a tool the check needs is missing on a
// developer machine, and fails it in CI (CI=true), where .ci/run installs
// it.
func needTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing; .ci/run installs it", what)
	}
	t.Skipf("%s is missing (CI installs it; see .ci/run)", what)
}

// exportCase is a model to export and the shape of one example.
type exportCase struct {
	name  string
	model func(t *testing.T) *layers.Sequential
	input []int // NHWC, batch included
}

// exportCases are the lecture model and a model using the other exported
// layer options: stride-2 VALID and dilated SAME convolutions, average
// pooling under SAME (padded cells not counted), no-bias, sigmoid and tanh.
var exportCases = []exportCase{
	{"lecture", func(t *testing.T) *layers.Sequential {
		m, err := models.NewConvNet(models.ConvNetConfig{Seed: 7, DropoutRate: models.LectureDropout})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}, []int{3, 28, 28, 1}},
	{"mixed", func(t *testing.T) *layers.Sequential {
		m := layers.NewSequential(
			layers.NewConv2D("c1", layers.Conv2DConfig{Filters: 4, KernelSize: []int{3, 2}, Strides: []int{2}, Padding: "VALID", Activation: autograd.Tanh, Seed: 1}),
			layers.NewConv2D("c2", layers.Conv2DConfig{Filters: 5, KernelSize: []int{3}, DilationRate: []int{2}, Padding: "SAME", NoBias: true, Seed: 2}),
			layers.NewAveragePooling2D("ap", layers.PoolConfig{PoolSize: []int{3}, Strides: []int{2}, Padding: "SAME"}),
			layers.NewMaxPooling2D("mp", layers.PoolConfig{PoolSize: []int{2}, Strides: []int{1}, Padding: "SAME"}),
			layers.NewFlatten("flat"),
			layers.NewDense("d1", layers.DenseConfig{Units: 6, Activation: autograd.Sigmoid, Seed: 3}),
			layers.NewDense("d2", layers.DenseConfig{Units: 3, Seed: 4}),
		)
		if err := m.Build([]int{1, 11, 9, 3}); err != nil {
			t.Fatal(err)
		}
		return m
	}, []int{2, 11, 9, 3}},
}

// randomInput returns a seeded uniform [0, 1) tensor.
func randomInput(shape []int, seed uint64) *tensor.Tensor {
	x := tensor.Zeros(shape...)
	x.RandUniform(tensor.NewRand(seed), 0, 1)
	return x
}

// logits runs m on x in inference mode.
func logits(t *testing.T, m *layers.Sequential, x *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	y := m.Call(autograd.Constant(x), layers.Context{})
	if err := y.Err(); err != nil {
		t.Fatal(err)
	}
	return y.Value()
}

// maxDiff returns max |a − b|, +Inf when a value of either is NaN (so
// that a "d > tol" check fails on it), and fails when the shapes differ.
func maxDiff(t *testing.T, a, b *tensor.Tensor) float64 {
	t.Helper()
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		t.Fatalf("shape %v, want %v", a.Shape(), b.Shape())
	}
	d := 0.0
	for i := range a.Data() {
		x := abs64(float64(a.Data()[i]) - float64(b.Data()[i]))
		if math.IsNaN(x) {
			return math.Inf(1)
		}
		d = max(d, x)
	}
	return d
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func writeExport(t *testing.T, c exportCase) (string, *layers.Sequential) {
	t.Helper()
	m := c.model(t)
	path := filepath.Join(t.TempDir(), c.name+".onnx")
	if err := ExportFile(path, m, ExportOptions{InputShape: c.input[1:], Name: c.name}); err != nil {
		t.Fatal(err)
	}
	return path, m
}

// TestExportChecker runs onnx.checker (Debian's python3-onnx) with
// full_check, which also infers every shape, on each export.
func TestExportChecker(t *testing.T) {
	_, err := exec.Command("/usr/bin/python3", "-c", "import onnx").CombinedOutput()
	needTool(t, err == nil, "python3-onnx (/usr/bin/python3 with the onnx module)")
	for _, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			path, _ := writeExport(t, c)
			out, err := exec.Command("/usr/bin/python3", "-c", `
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print(m.ir_version, m.opset_import[0].version, m.producer_name, [i.name for i in m.graph.input], [o.name for o in m.graph.output])
`, path).CombinedOutput()
			if err != nil {
				t.Fatalf("onnx.checker: %v\n%s", err, out)
			}
			want := "7 13 convnet ['input'] ['logits']"
			if got := strings.TrimSpace(string(out)); got != want {
				t.Errorf("checker printed %q, want %q", got, want)
			}
		})
	}
}

// TestExportORT runs each export in onnxruntime-web (Node, WebAssembly,
// one thread; testdata/ort) and compares its logits with convnet's.
func TestExportORT(t *testing.T) {
	ortDir, _ := filepath.Abs(filepath.Join("testdata", "ort"))
	_, statErr := os.Stat(filepath.Join(ortDir, "node_modules", "onnxruntime-web"))
	_, nodeErr := exec.LookPath("node")
	needTool(t, statErr == nil && nodeErr == nil, "node or onnxruntime-web (run npm ci in models/onnx/testdata/ort)")
	for i, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			path, m := writeExport(t, c)
			x := randomInput(c.input, uint64(100+i))
			want := logits(t, m, x)
			dir := filepath.Dir(path)
			in, out := filepath.Join(dir, "in.npy"), filepath.Join(dir, "out.npy")
			if err := npy.WriteFile(in, x); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("node", filepath.Join(ortDir, "run.js"), path, in, out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("onnxruntime-web: %v\n%s", err, b)
			}
			got, err := npy.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			d := maxDiff(t, got, want)
			t.Logf("max |onnxruntime-web − convnet| = %.3g over %v", d, got.Shape())
			if d > 1e-4 {
				t.Errorf("onnxruntime-web's logits differ from convnet's by %g (> 1e-4)", d)
			}
		})
	}
}

// identityLayer is a layer type Export does not know.
type identityLayer struct{}

func (identityLayer) Name() string                                         { return "mystery" }
func (identityLayer) Build([]int) error                                    { return nil }
func (identityLayer) OutputShape(in []int) ([]int, error)                  { return in, nil }
func (identityLayer) Call(x *autograd.Var, _ layers.Context) *autograd.Var { return x }
func (identityLayer) Variables() []*autograd.Var                           { return nil }

func TestExportErrors(t *testing.T) {
	lecture := exportCases[0].model(t)
	swish := layers.NewSequential(layers.NewDense("d", layers.DenseConfig{Units: 2, Activation: func(v *autograd.Var) *autograd.Var { return v }}))
	if err := swish.Build([]int{1, 3}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		m    *layers.Sequential
		o    ExportOptions
		want string
	}{
		{"nil model", nil, ExportOptions{InputShape: []int{1}}, "nil model"},
		{"no input shape", lecture, ExportOptions{}, "needs ExportOptions.InputShape"},
		{"wrong input shape", lecture, ExportOptions{InputShape: []int{28, 28, 3}}, "does not accept inputs [N [28 28 3]]"},
		{"not built", layers.NewSequential(layers.NewDense("d", layers.DenseConfig{Units: 2})), ExportOptions{InputShape: []int{3}}, `layer "d": it is not built`},
		{"unknown layer", layers.NewSequential(identityLayer{}), ExportOptions{InputShape: []int{4}}, `layer "mystery" (onnx.identityLayer): no ONNX export for this layer type`},
		{"unknown activation", swish, ExportOptions{InputShape: []int{3}}, `layer "d" (*layers.Dense): activation`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Export(c.m, c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
