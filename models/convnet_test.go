package models

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/tensor"
)

func TestConvNetShapesAndNames(t *testing.T) {
	m, err := NewConvNet(ConvNetConfig{DropoutRate: LectureDropout, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := m.Shapes([]int{5, 28, 28, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"conv1": {5, 28, 28, 32}, "pool1": {5, 14, 14, 32}, "conv2": {5, 14, 14, 64}, "pool2": {5, 7, 7, 64},
		"flatten": {5, 3136}, "fc": {5, 1024}, "dropout": {5, 1024}, "logits": {5, 10},
	}
	var order []string
	for _, s := range shapes {
		order = append(order, s.Name)
		if !tensor.SameShape(s.Shape, want[s.Name]) {
			t.Errorf("%s: shape %v, want %v", s.Name, s.Shape, want[s.Name])
		}
	}
	if got := strings.Join(order, " "); got != "conv1 pool1 conv2 pool2 flatten fc dropout logits" {
		t.Errorf("layers %s", got)
	}
	wantVars := []struct {
		name  string
		shape []int
	}{
		{"conv1/kernel", []int{5, 5, 1, 32}}, {"conv1/bias", []int{32}},
		{"conv2/kernel", []int{5, 5, 32, 64}}, {"conv2/bias", []int{64}},
		{"fc/kernel", []int{3136, 1024}}, {"fc/bias", []int{1024}},
		{"logits/kernel", []int{1024, 10}}, {"logits/bias", []int{10}},
	}
	vs := m.Variables()
	if len(vs) != len(wantVars) {
		t.Fatalf("%d variables, want %d", len(vs), len(wantVars))
	}
	params := 0
	for i, v := range vs {
		if v.Name() != wantVars[i].name || !tensor.SameShape(v.Value().Shape(), wantVars[i].shape) {
			t.Errorf("variable %d: %s %v, want %s %v", i, v.Name(), v.Value().Shape(), wantVars[i].name, wantVars[i].shape)
		}
		params += v.Value().Len()
	}
	// 5·5·32+32 + 5·5·32·64+64 + 3136·1024+1024 + 1024·10+10
	if params != 3274634 {
		t.Errorf("%d parameters, want 3274634", params)
	}
}

func TestConvNetConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  ConvNetConfig
		want string
	}{
		{"init", ConvNetConfig{Init: "he"}, `unknown init "he"`},
		{"dropout", ConvNetConfig{DropoutRate: 1.5}, "dropout rate must be in [0, 1), got 1.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewConvNet(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestInit checks the two initialisation schemes' statistics.
func TestInit(t *testing.T) {
	stats := func(v []float32) (mean, std, maxAbs float64) {
		for _, x := range v {
			mean += float64(x)
			maxAbs = math.Max(maxAbs, math.Abs(float64(x)))
		}
		mean /= float64(len(v))
		for _, x := range v {
			std += (float64(x) - mean) * (float64(x) - mean)
		}
		return mean, math.Sqrt(std / float64(len(v))), maxAbs
	}
	lecture, err := NewConvNet(ConvNetConfig{Init: InitLecture, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	glorot, err := NewConvNet(ConvNetConfig{Init: InitGlorot, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	w := func(m *layers.Sequential, name string) []float32 { return m.Weights()[name].Data() }
	t.Run("lecture kernels: truncated normal σ=1", func(t *testing.T) {
		for _, name := range []string{"conv1/kernel", "conv2/kernel", "fc/kernel", "logits/kernel"} {
			v := w(lecture, name)
			mean, std, maxAbs := stats(v)
			// A normal truncated at ±2σ has σ ≈ 0.8796; allow 5 standard
			// errors of the sample mean and deviation.
			n := float64(len(v))
			if math.Abs(mean) > 5*0.8796/math.Sqrt(n) || math.Abs(std-0.8796) > 5*0.8796/math.Sqrt(2*n) || maxAbs > 2 {
				t.Errorf("%s: mean %.3f std %.3f max|w| %.3f", name, mean, std, maxAbs)
			}
		}
	})
	t.Run("lecture biases", func(t *testing.T) {
		if _, std, maxAbs := stats(w(lecture, "conv2/bias")); std < 0.6 || std > 1.4 || maxAbs < 1 {
			t.Errorf("conv2/bias: std %.3f max %.3f, want standard normal", std, maxAbs)
		}
		for _, name := range []string{"fc/bias", "logits/bias"} {
			if _, _, maxAbs := stats(w(lecture, name)); maxAbs != 0 {
				t.Errorf("%s: not zero", name)
			}
		}
	})
	t.Run("glorot", func(t *testing.T) {
		// conv2: fan_in 5·5·32, fan_out 5·5·64, limit √(6/(800+1600)) = 0.05.
		if _, std, maxAbs := stats(w(glorot, "conv2/kernel")); maxAbs > 0.05 || math.Abs(std-0.05/math.Sqrt(3)) > 0.002 {
			t.Errorf("conv2/kernel: std %.4f max %.4f", std, maxAbs)
		}
		for _, name := range []string{"conv1/bias", "conv2/bias", "fc/bias", "logits/bias"} {
			if _, _, maxAbs := stats(w(glorot, name)); maxAbs != 0 {
				t.Errorf("%s: not zero", name)
			}
		}
	})
}

// batch returns n random images in [0, 1] and labels.
func batch(n int, seed uint64) (*tensor.Tensor, []int) {
	x := tensor.Zeros(n, ImageSize, ImageSize, 1)
	r := tensor.NewRand(seed)
	x.RandUniform(r, 0, 1)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = r.IntN(Classes)
	}
	return x, labels
}

func TestDropoutOnlyWhileTraining(t *testing.T) {
	m, err := NewConvNet(ConvNetConfig{DropoutRate: LectureDropout, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := batch(2, 9)
	out := func(ctx layers.Context) []float32 {
		y := m.Call(autograd.Constant(x), ctx)
		if err := y.Err(); err != nil {
			t.Fatal(err)
		}
		return y.Value().Data()
	}
	eval1, eval2 := out(layers.Context{Step: 1}), out(layers.Context{Step: 2})
	train1 := out(layers.Context{Training: true, Step: 1})
	if !same(eval1, eval2) {
		t.Error("eval outputs differ between steps: dropout is on outside training")
	}
	if same(eval1, train1) {
		t.Error("training output equals eval output: dropout is off while training")
	}
	if !same(train1, out(layers.Context{Training: true, Step: 1})) {
		t.Error("two training passes at one step differ")
	}
}

func same(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// TestGradientSpotCheck compares autograd's gradient of the mean
// cross-entropy through the whole model with central differences, at the
// few weights of each variable with the largest gradients. Float32 limits
// the precision; dropout is on (the mask is fixed by the step).
func TestGradientSpotCheck(t *testing.T) {
	m, err := NewConvNet(ConvNetConfig{DropoutRate: LectureDropout, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	x, labels := batch(2, 11)
	ctx := layers.Context{Training: true, Step: 4}
	lossOf := func() (*autograd.Var, float64) {
		per := autograd.SparseSoftmaxCrossEntropyWithLogits(labels, m.Call(autograd.Constant(x), ctx))
		if err := per.Err(); err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, v := range per.Value().Data() {
			s += float64(v)
		}
		return autograd.ReduceMean(per), s / float64(len(labels))
	}
	loss, _ := lossOf()
	vars := m.Variables()
	grads, err := autograd.Gradient(loss, vars...)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vars {
		t.Run(v.Name(), func(t *testing.T) {
			g := grads[i].Data()
			for _, j := range topAbs(g, 3) {
				// Each write in place is marked, so that the layers'
				// packed weights (nn.Packed) follow it.
				wt := v.Value()
				w := wt.Data()
				orig := w[j]
				const eps = 1e-2
				w[j] = orig + eps
				wt.MarkChanged()
				_, up := lossOf()
				w[j] = orig - eps
				wt.MarkChanged()
				_, down := lossOf()
				w[j] = orig
				wt.MarkChanged()
				num := (up - down) / (2 * eps)
				if d := math.Abs(num - float64(g[j])); d > 0.05*math.Abs(num)+2e-4 {
					t.Errorf("index %d: autograd %.6g, central difference %.6g", j, g[j], num)
				}
			}
		})
	}
}

// topAbs returns the indices of the k largest |v[i]|.
func topAbs(v []float32, k int) []int {
	var idx []int
	used := map[int]bool{}
	for range k {
		best := -1
		for i, x := range v {
			if !used[i] && (best < 0 || math.Abs(float64(x)) > math.Abs(float64(v[best]))) {
				best = i
			}
		}
		used[best] = true
		idx = append(idx, best)
	}
	return idx
}
