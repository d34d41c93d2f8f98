package layers

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/tensor"
)

type varShape struct {
	name  string
	shape []int
}

func TestShapesAndVariables(t *testing.T) {
	tests := []struct {
		name  string
		layer Layer
		in    []int
		out   []int
		vars  []varShape
	}{
		{"conv same", NewConv2D("conv1", Conv2DConfig{Filters: 32, KernelSize: []int{5, 5}, Padding: "SAME"}),
			[]int{2, 28, 28, 1}, []int{2, 28, 28, 32},
			[]varShape{{"conv1/kernel", []int{5, 5, 1, 32}}, {"conv1/bias", []int{32}}}},
		{"conv valid stride 2", NewConv2D("c", Conv2DConfig{Filters: 4, KernelSize: []int{3}, Strides: []int{2}}),
			[]int{1, 9, 8, 3}, []int{1, 4, 3, 4},
			[]varShape{{"c/kernel", []int{3, 3, 3, 4}}, {"c/bias", []int{4}}}},
		{"conv dilated no bias", NewConv2D("d", Conv2DConfig{Filters: 2, KernelSize: []int{3, 2}, DilationRate: []int{2}, NoBias: true}),
			[]int{1, 7, 7, 1}, []int{1, 3, 5, 2},
			[]varShape{{"d/kernel", []int{3, 2, 1, 2}}}},
		{"maxpool", NewMaxPooling2D("pool1", PoolConfig{PoolSize: []int{2}}), []int{2, 28, 28, 32}, []int{2, 14, 14, 32}, nil},
		{"maxpool same odd", NewMaxPooling2D("p", PoolConfig{PoolSize: []int{2}, Padding: "SAME"}), []int{1, 7, 5, 3}, []int{1, 4, 3, 3}, nil},
		{"avgpool stride 1", NewAveragePooling2D("a", PoolConfig{PoolSize: []int{3}, Strides: []int{1}}), []int{1, 5, 5, 2}, []int{1, 3, 3, 2}, nil},
		{"flatten", NewFlatten("flatten"), []int{3, 7, 7, 64}, []int{3, 3136}, nil},
		{"dense", NewDense("fc", DenseConfig{Units: 1024}), []int{3, 3136}, []int{3, 1024},
			[]varShape{{"fc/kernel", []int{3136, 1024}}, {"fc/bias", []int{1024}}}},
		{"dropout", NewDropout("dropout", 0.25, 1), []int{3, 10}, []int{3, 10}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.layer.OutputShape(tc.in)
			if err != nil || !tensor.SameShape(out, tc.out) {
				t.Fatalf("OutputShape(%v) = %v, %v; want %v", tc.in, out, err, tc.out)
			}
			// Lazy build on the first call; the output shape must agree.
			x := tensor.Zeros(tc.in...)
			x.RandUniform(tensor.NewRand(1), -1, 1)
			y := tc.layer.Call(autograd.Constant(x), Context{})
			if err := y.Err(); err != nil {
				t.Fatalf("Call: %v", err)
			}
			if !tensor.SameShape(y.Value().Shape(), tc.out) {
				t.Errorf("Call output shape %v, want %v", y.Value().Shape(), tc.out)
			}
			vs := tc.layer.Variables()
			if len(vs) != len(tc.vars) {
				t.Fatalf("%d variables, want %d", len(vs), len(tc.vars))
			}
			for i, v := range vs {
				if v.Name() != tc.vars[i].name || !tensor.SameShape(v.Value().Shape(), tc.vars[i].shape) {
					t.Errorf("variable %d = %s %v, want %s %v", i, v.Name(), v.Value().Shape(), tc.vars[i].name, tc.vars[i].shape)
				}
			}
		})
	}
}

func TestBadConfigAndShapes(t *testing.T) {
	tests := []struct {
		name  string
		layer Layer
		in    []int
		want  string
	}{
		{"no filters", NewConv2D("c", Conv2DConfig{KernelSize: []int{3}}), []int{1, 5, 5, 1}, "filters must be positive"},
		{"no kernel size", NewConv2D("c", Conv2DConfig{Filters: 1}), []int{1, 5, 5, 1}, "kernel size is required"},
		{"bad kernel size", NewConv2D("c", Conv2DConfig{Filters: 1, KernelSize: []int{3, 0}}), []int{1, 5, 5, 1}, "kernel size must be one or two positive values, got [3 0]"},
		{"stride and dilation", NewConv2D("c", Conv2DConfig{Filters: 1, KernelSize: []int{3}, Strides: []int{2}, DilationRate: []int{2}}), []int{1, 9, 9, 1}, "cannot both exceed 1"},
		{"bad padding", NewConv2D("c", Conv2DConfig{Filters: 1, KernelSize: []int{3}, Padding: "FULL"}), []int{1, 5, 5, 1}, "FULL"},
		{"conv rank", NewConv2D("c", Conv2DConfig{Filters: 1, KernelSize: []int{3}}), []int{5, 5, 1}, "got shape [5 5 1]"},
		{"conv too small", NewConv2D("c", Conv2DConfig{Filters: 1, KernelSize: []int{7}}), []int{1, 5, 5, 1}, "negative"},
		{"dense rank", NewDense("fc", DenseConfig{Units: 3}), []int{2}, "input must be [N, …, D]"},
		{"dense units", NewDense("fc", DenseConfig{}), []int{2, 4}, "units must be positive"},
		{"pool size", NewMaxPooling2D("p", PoolConfig{}), []int{1, 4, 4, 1}, "pool size is required"},
		{"avg pool rank", NewAveragePooling2D("p", PoolConfig{PoolSize: []int{2}}), []int{4, 4}, "rank 4"},
		{"dropout rate", NewDropout("d", 1, 0), []int{2, 3}, "rate must be in [0, 1), got 1"},
		{"flatten rank", NewFlatten("f"), []int{3}, "at least one more dimension"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.layer.Build(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build(%v) error %v, want it to contain %q", tc.in, err, tc.want)
			}
			// The same error travels through Call without a panic.
			y := tc.layer.Call(autograd.Constant(tensor.Zeros(tc.in...)), Context{Training: true})
			if err := y.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Call error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRebuildWithOtherChannels(t *testing.T) {
	l := NewConv2D("conv", Conv2DConfig{Filters: 2, KernelSize: []int{1}})
	if err := l.Build([]int{1, 4, 4, 3}); err != nil {
		t.Fatal(err)
	}
	if err := l.Build([]int{8, 4, 4, 3}); err != nil {
		t.Errorf("rebuild with another batch size: %v", err)
	}
	y := l.Call(autograd.Constant(tensor.Zeros(1, 4, 4, 5)), Context{})
	if err := y.Err(); err == nil || !strings.Contains(err.Error(), "built for inputs [N [4 4 3]], got [1 4 4 5]") {
		t.Errorf("call with 5 channels after building for 3: error %v", err)
	}
}

// TestConv2DByHand checks conv + bias + activation on a case small enough
// to work out: a 3×3 image 1…9, a 2×2 kernel of ones, bias −20, VALID,
// ReLU: window sums 12 16 24 28 → 0 0 4 8.
func TestConv2DByHand(t *testing.T) {
	l := NewConv2D("c", Conv2DConfig{Filters: 1, KernelSize: []int{2}, Activation: autograd.Relu,
		KernelInitializer: initializers.Ones{}, BiasInitializer: initializers.Constant{Value: -20}})
	x := tensor.Must(tensor.New([]int{1, 3, 3, 1}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}))
	y := l.Call(autograd.Constant(x), Context{})
	if err := y.Err(); err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 0, 4, 8}
	for i, v := range y.Value().Data() {
		if v != want[i] {
			t.Fatalf("output %v, want %v", y.Value().Data(), want)
		}
	}
}

func TestDenseByHand(t *testing.T) {
	l := NewDense("fc", DenseConfig{Units: 2, KernelInitializer: initializers.Constant{Value: 0.5}, BiasInitializer: initializers.Ones{}})
	x := tensor.Must(tensor.New([]int{2, 3}, []float32{1, 2, 3, -1, -2, -3}))
	y := l.Call(autograd.Constant(x), Context{})
	if err := y.Err(); err != nil {
		t.Fatal(err)
	}
	want := []float32{4, 4, -2, -2} // 0.5·(1+2+3) + 1, 0.5·(−6) + 1
	for i, v := range y.Value().Data() {
		if v != want[i] {
			t.Fatalf("output %v, want %v", y.Value().Data(), want)
		}
	}
}

func TestDropout(t *testing.T) {
	x := tensor.Ones(4, 256)
	d := NewDropout("dropout", 0.25, 7)
	in := autograd.Constant(x)
	t.Run("identity outside training", func(t *testing.T) {
		if y := d.Call(in, Context{Training: false, Step: 3}); y != in {
			t.Error("eval call did not return its input unchanged")
		}
	})
	t.Run("rate 0 is identity", func(t *testing.T) {
		if y := NewDropout("d0", 0, 7).Call(in, Context{Training: true}); y != in {
			t.Error("rate 0 changed the input")
		}
	})
	run := func(step int64) []float32 {
		y := d.Call(in, Context{Training: true, Step: step})
		if err := y.Err(); err != nil {
			t.Fatal(err)
		}
		return y.Value().Data()
	}
	t.Run("scaled mask", func(t *testing.T) {
		kept := 0
		for _, v := range run(0) {
			switch v {
			case 0:
			case 1 / 0.75:
				kept++
			default:
				t.Fatalf("value %v, want 0 or 1/0.75", v)
			}
		}
		// 1024 draws with p = 0.75: mean 768, σ ≈ 13.9; allow 5σ.
		if kept < 700 || kept > 836 {
			t.Errorf("kept %d of 1024, want about 768", kept)
		}
	})
	t.Run("same step same mask, next step another", func(t *testing.T) {
		a, b, c := run(5), run(5), run(6)
		if !equal(a, b) {
			t.Error("two calls at step 5 gave different masks")
		}
		if equal(a, c) {
			t.Error("steps 5 and 6 gave the same mask")
		}
	})
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestSeeding(t *testing.T) {
	kernel := func(name string, seed uint64) []float32 {
		l := NewConv2D(name, Conv2DConfig{Filters: 4, KernelSize: []int{3}, Seed: seed})
		if err := l.Build([]int{1, 8, 8, 2}); err != nil {
			t.Fatal(err)
		}
		return l.Kernel().Value().Data()
	}
	if !equal(kernel("conv1", 1), kernel("conv1", 1)) {
		t.Error("same name and seed gave different kernels")
	}
	if equal(kernel("conv1", 1), kernel("conv1", 2)) {
		t.Error("seeds 1 and 2 gave the same kernel")
	}
	if equal(kernel("conv1", 1), kernel("conv2", 1)) {
		t.Error("layers conv1 and conv2 with one seed got the same kernel")
	}
}

func TestSequential(t *testing.T) {
	m := NewSequential(
		NewConv2D("conv", Conv2DConfig{Filters: 3, KernelSize: []int{3}, Padding: "SAME", Activation: autograd.Relu}),
		NewMaxPooling2D("pool", PoolConfig{PoolSize: []int{2}}),
		NewFlatten("flatten"),
		NewDense("fc", DenseConfig{Units: 5}),
	)
	shapes, err := m.Shapes([]int{2, 6, 6, 1})
	if err != nil {
		t.Fatal(err)
	}
	wantShapes := [][]int{{2, 6, 6, 3}, {2, 3, 3, 3}, {2, 27}, {2, 5}}
	for i, s := range shapes {
		if !tensor.SameShape(s.Shape, wantShapes[i]) {
			t.Errorf("layer %s shape %v, want %v", s.Name, s.Shape, wantShapes[i])
		}
	}
	if m.Variables() != nil {
		t.Error("variables exist before the model is built")
	}
	if err := m.Build([]int{1, 6, 6, 1}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range m.Variables() {
		names = append(names, v.Name())
	}
	if got := strings.Join(names, " "); got != "conv/kernel conv/bias fc/kernel fc/bias" {
		t.Errorf("variables %s", got)
	}
	y := m.Call(autograd.Constant(tensor.Ones(4, 6, 6, 1)), Context{})
	if err := y.Err(); err != nil || !tensor.SameShape(y.Value().Shape(), []int{4, 5}) {
		t.Errorf("Call: %v, shape %v", err, y.Value())
	}
	// A bad input surfaces once, at the end, naming the first failing layer.
	y = m.Call(autograd.Constant(tensor.Ones(4, 6, 6, 2)), Context{})
	if err := y.Err(); err == nil || !strings.Contains(err.Error(), "conv was built for inputs") {
		t.Errorf("wrong channels: error %v", err)
	}
}

func TestDuplicateNames(t *testing.T) {
	m := NewSequential(NewDense("fc", DenseConfig{Units: 3}), NewDense("fc", DenseConfig{Units: 3}))
	if err := m.Build([]int{1, 3}); err == nil || !strings.Contains(err.Error(), `"fc/kernel"`) {
		t.Errorf("duplicate layer names: error %v", err)
	}
}

func TestSetWeights(t *testing.T) {
	m := NewSequential(NewDense("fc", DenseConfig{Units: 3}))
	if err := m.Build([]int{1, 2}); err != nil {
		t.Fatal(err)
	}
	good := map[string]*tensor.Tensor{"fc/kernel": tensor.Full(2, 2, 3), "fc/bias": tensor.Full(1, 3), "fc/kernel/Adam": tensor.Zeros(2, 3)}
	if err := m.SetWeights(good); err != nil {
		t.Fatal(err)
	}
	if v := m.Variables()[0].Value().Data()[5]; v != 2 {
		t.Errorf("kernel value %v after SetWeights, want 2", v)
	}
	tests := []struct {
		name   string
		values map[string]*tensor.Tensor
		want   string
	}{
		{"wrong shape", map[string]*tensor.Tensor{"fc/kernel": tensor.Zeros(4, 3), "fc/bias": tensor.Zeros(3)},
			"fc/kernel has shape [4 3], the model expects [2 3]"},
		{"missing", map[string]*tensor.Tensor{"fc/kernel": tensor.Zeros(2, 3)}, "fc/bias is missing (model expects shape [3])"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := m.SetWeights(tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if v := m.Variables()[0].Value().Data()[0]; v != 2 {
				t.Errorf("a failed SetWeights changed the kernel to %v", v)
			}
		})
	}
}

func TestDeriveSeed(t *testing.T) {
	if DeriveSeed(1, "a", 3) != DeriveSeed(1, "a", 3) {
		t.Error("DeriveSeed is not a function of its inputs")
	}
	seen := map[uint64]string{}
	for _, c := range []struct {
		name string
		seed uint64
		n    []int64
	}{{"a", 1, nil}, {"b", 1, nil}, {"a", 2, nil}, {"a", 1, []int64{0}}, {"a", 1, []int64{1}}, {"a", 1, []int64{0, 0}}} {
		s := DeriveSeed(c.seed, c.name, c.n...)
		if prev, dup := seen[s]; dup {
			t.Errorf("DeriveSeed(%d, %q, %v) collides with %s", c.seed, c.name, c.n, prev)
		}
		seen[s] = c.name
	}
}
