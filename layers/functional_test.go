package layers

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/tensor"
)

// TestFunctionalSharedLayer: two inputs, a Dense shared by both, two
// outputs. y1 = d(a) + d(b), y2 = e(a). With d's kernel all 1 and no
// bias, each output unit of d is the sum of its input; the shared kernel
// gets the gradient of both applications.
func TestFunctionalSharedLayer(t *testing.T) {
	a, b := Input("a", 3), Input("b", 3)
	d := NewDense("shared", DenseConfig{Units: 2, NoBias: true, KernelInitializer: initializers.Ones{}})
	e := NewDense("e", DenseConfig{Units: 1, Seed: 3})
	y1 := ApplyN(NewAdd("sum"), Apply(d, a), Apply(d, b))
	y2 := Apply(e, a)
	m, err := NewModel("two", []*Node{a, b}, []*Node{y1, y2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range m.Variables() {
		names = append(names, v.Name())
	}
	if got := strings.Join(names, " "); got != "shared/kernel e/kernel e/bias" {
		t.Errorf("variables %q: the shared layer must appear once", got)
	}
	xa := autograd.Constant(tensor.Must(tensor.New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})))
	xb := autograd.Constant(tensor.Must(tensor.New([]int{2, 3}, []float32{1, 0, 0, 0, 0, 2})))
	out := m.CallN([]*autograd.Var{xa, xb}, Context{})
	if out[0].Err() != nil || out[1].Err() != nil {
		t.Fatal(out[0].Err(), out[1].Err())
	}
	if !equal(out[0].Value().Data(), []float32{7, 7, 17, 17}) {
		t.Errorf("y1 = %v, want [7 7 17 17]", out[0].Value().Data())
	}
	if !tensor.SameShape(out[1].Value().Shape(), []int{2, 1}) {
		t.Errorf("y2 shape %v", out[1].Value().Shape())
	}
	// ∂Σy1/∂kernel[i][j] = Σ_n (a[n,i] + b[n,i]): [1+4+1+0, 2+5, 3+6+2].
	g, err := autograd.Gradient(autograd.ReduceSum(out[0]), m.Variables()[0])
	if err != nil {
		t.Fatal(err)
	}
	if !equal(g[0].Data(), []float32{6, 6, 7, 7, 11, 11}) {
		t.Errorf("shared kernel gradient %v, want [6 6 7 7 11 11]", g[0].Data())
	}
}

func TestFunctionalNesting(t *testing.T) {
	block := NewSequentialNamed("block",
		NewConv2D("c", ConvConfig{Filters: 2, KernelSize: []int{3}, Padding: "SAME", NoBias: true}),
		NewBatchNormalization("bn", BatchNormConfig{}),
		NewReLU("r"),
	)
	in := Input("x", 4, 4, 1)
	inner, err := NewModel("inner", []*Node{in}, []*Node{Apply(NewGlobalMaxPooling2D("gmp"), Apply(block, in))})
	if err != nil {
		t.Fatal(err)
	}
	// The functional model as a layer of a Sequential.
	outer := NewSequential(inner, NewDense("out", DenseConfig{Units: 1}))
	if err := outer.Build([]int{1, 4, 4, 1}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range outer.AllWeights() {
		names = append(names, v.Name())
	}
	want := "c/kernel bn/gamma bn/beta bn/moving_mean bn/moving_variance out/kernel out/bias"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("weights %q, want %q", got, want)
	}
	if n := len(outer.Variables()); n != 5 {
		t.Errorf("%d trainable variables, want 5", n)
	}
	w := outer.Weights()
	if _, ok := w["bn/moving_variance"]; !ok {
		t.Error("Weights lacks the moving variance: a checkpoint would lose it")
	}
	x := tensor.Zeros(3, 4, 4, 1)
	x.RandUniform(tensor.NewRand(1), -1, 1)
	mean := w["bn/moving_mean"].Clone()
	if y := outer.Call(autograd.Constant(x), Context{}); y.Err() != nil || !tensor.SameShape(y.Value().Shape(), []int{3, 1}) {
		t.Fatalf("inference: %v", y.Err())
	}
	if !equal(w["bn/moving_mean"].Data(), mean.Data()) {
		t.Error("inference changed the moving mean")
	}
	if y := outer.Call(autograd.Constant(x), Context{Training: true}); y.Err() != nil {
		t.Fatal(y.Err())
	}
	if equal(w["bn/moving_mean"].Data(), mean.Data()) {
		t.Error("training left the moving mean unchanged")
	}
	// SetWeights restores every weight, the moving statistics included.
	saved := map[string]*tensor.Tensor{}
	for k, v := range w {
		saved[k] = v.Clone()
	}
	outer.Call(autograd.Constant(x), Context{Training: true})
	if err := outer.SetWeights(saved); err != nil {
		t.Fatal(err)
	}
	if !equal(w["bn/moving_mean"].Data(), saved["bn/moving_mean"].Data()) {
		t.Error("SetWeights did not restore the moving mean")
	}
}

func TestFunctionalErrors(t *testing.T) {
	x := Input("x", 4)
	other := Input("other", 4)
	dense := func(name string) *Dense { return NewDense(name, DenseConfig{Units: 2}) }
	for _, tc := range []struct {
		name    string
		inputs  func() []*Node
		outputs func() []*Node
		want    string
	}{
		{"disconnected input", func() []*Node { return []*Node{x} },
			func() []*Node {
				return []*Node{ApplyN(NewAdd("add"), Apply(dense("d1"), x), Apply(dense("d2"), other))}
			},
			"needs input other"},
		{"two layers one name", func() []*Node { return []*Node{x} },
			func() []*Node { return []*Node{Apply(dense("d"), Apply(dense("d"), x))} },
			`two different layers are named "d"`},
		{"bad layer names itself", func() []*Node { return []*Node{x} },
			func() []*Node {
				return []*Node{Apply(NewConv2D("conv", ConvConfig{Filters: 1, KernelSize: []int{3}}), x)}
			},
			"Conv2D conv"},
		{"merge shapes", func() []*Node { return []*Node{x} },
			func() []*Node {
				return []*Node{ApplyN(NewAdd("add"), x, Apply(NewDense("d3", DenseConfig{Units: 3}), x))}
			},
			"add: input 1 has shape [1 3]"},
		{"concatenate shapes", func() []*Node { return []*Node{x} },
			func() []*Node { return []*Node{ApplyN(NewConcatenate("cat", 1), Input("y", 2, 3), Input("z", 3, 4))} },
			"only axis 1 may differ"},
		{"concatenate batch axis", func() []*Node { return []*Node{x} },
			func() []*Node { return []*Node{ApplyN(NewConcatenate("cat", 0), x, x)} },
			"batch axis 0 is not allowed"},
		{"subtract arity", func() []*Node { return []*Node{x} },
			func() []*Node { return []*Node{ApplyN(NewSubtract("sub"), x, x, x)} },
			"exactly 2 inputs"},
		{"nil layer", func() []*Node { return []*Node{x} },
			func() []*Node { return []*Node{Apply(nil, x)} }, "nil layer"},
		{"nil node", func() []*Node { return []*Node{x} },
			func() []*Node { return []*Node{Apply(dense("d6"), nil)} }, "nil Node"},
		{"input listed twice", func() []*Node { return []*Node{x, x} },
			func() []*Node { return []*Node{x} }, "listed twice"},
		{"output as input", func() []*Node { return []*Node{Apply(dense("d4"), x)} },
			func() []*Node { return []*Node{x} }, "not an Input"},
		{"bad input shape", func() []*Node { return []*Node{Input("bad", 0, 3)} },
			func() []*Node { return []*Node{x} }, "positive dimensions"},
		{"no outputs", func() []*Node { return []*Node{x} }, func() []*Node { return nil }, "at least one input and one output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewModel("m", tc.inputs(), tc.outputs())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}

	m, err := NewModel("m", []*Node{x}, []*Node{Apply(dense("d5"), x)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		xs   []*autograd.Var
		want string
	}{
		{"input count", nil, "takes 1 inputs, got 0"},
		{"input shape", []*autograd.Var{autograd.Constant(tensor.Zeros(2, 5))}, "input x must be [N [4]], got [2 5]"},
		{"nil input", []*autograd.Var{nil}, "input x is nil"},
	} {
		t.Run("CallN "+tc.name, func(t *testing.T) {
			y := m.CallN(tc.xs, Context{})[0]
			if y.Err() == nil || !strings.Contains(y.Err().Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", y.Err(), tc.want)
			}
		})
	}
}

func TestNewLayerErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		layer Layer
		in    []int
		want  string
	}{
		{"conv1d rank", NewConv1D("c", ConvConfig{Filters: 1, KernelSize: []int{3}}), []int{1, 5, 5, 1}, "Conv1D c: input must be [N, W, C] (rank 3)"},
		{"conv3d kernel", NewConv3D("c", ConvConfig{Filters: 1, KernelSize: []int{3, 3}}), []int{1, 5, 5, 5, 1}, "one or 3 positive values"},
		{"transpose dilation", NewConv2DTranspose("t", ConvConfig{Filters: 1, KernelSize: []int{3}, DilationRate: []int{2}}), []int{1, 5, 5, 1}, "not supported"},
		{"depthwise multiplier", NewDepthwiseConv2D("d", ConvConfig{KernelSize: []int{3}, DepthMultiplier: -1}), []int{1, 5, 5, 1}, "depth multiplier"},
		{"separable filters", NewSeparableConv2D("s", ConvConfig{KernelSize: []int{3}}), []int{1, 5, 5, 1}, "filters must be positive"},
		{"pool3d rank", NewMaxPooling3D("p", PoolConfig{PoolSize: []int{2}}), []int{1, 4, 4, 1}, "NDHWC (rank 5)"},
		{"global rank", NewGlobalAveragePooling2D("g"), []int{1, 4, 1}, "GlobalAveragePooling2D g"},
		{"bn momentum", NewBatchNormalization("bn", BatchNormConfig{Momentum: 2}), []int{1, 3}, "momentum must be in [0, 1]"},
		{"bn rank", NewBatchNormalization("bn", BatchNormConfig{}), []int{3}, "[N, …, C]"},
		{"activation name", NewActivation("a", "swishy"), []int{1, 3}, `unknown activation "swishy"`},
		{"reshape size", NewReshape("r", 4, 2), []int{1, 3, 3}, "cannot reshape"},
		{"reshape two -1", NewReshape("r", -1, -1), []int{1, 4}, "at most one −1"},
		{"zero padding arity", NewZeroPadding2D("z", 1, 2, 3), []int{1, 2, 2, 1}, "1, 2 or 4 values"},
		{"upsampling interpolation", NewUpSampling2D("u", nil, "cubic"), []int{1, 2, 2, 1}, `"cubic"`},
		{"upsampling size", NewUpSampling2D("u", []int{0}, ""), []int{1, 2, 2, 1}, "size must be"},
		{"spatial dropout rate", NewSpatialDropout2D("s", 1, 0), []int{1, 2, 2, 1}, "rate must be in [0, 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.layer.Build(tc.in)
			if err == nil {
				y := tc.layer.Call(autograd.Constant(tensor.Zeros(tc.in...)), Context{})
				err = y.Err()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSpatialDropout2D(t *testing.T) {
	l := NewSpatialDropout2D("sd", 0.5, 7)
	x := tensor.Ones(4, 3, 3, 8)
	if y := l.Call(autograd.Constant(x), Context{}); y.Value() != x {
		t.Error("not the identity outside training")
	}
	y := l.Call(autograd.Constant(x), Context{Training: true, Step: 3}).Value()
	kept := 0
	for n := range 4 {
		for c := range 8 {
			v := y.Data()[n*72+c]
			if v != 0 && v != 2 {
				t.Fatalf("value %v, want 0 or 1/(1 − 0.5) = 2", v)
			}
			for p := range 9 {
				if y.Data()[n*72+p*8+c] != v {
					t.Fatalf("example %d channel %d is not dropped as a whole", n, c)
				}
			}
			if v != 0 {
				kept++
			}
		}
	}
	if kept == 0 || kept == 32 {
		t.Errorf("%d of 32 channels kept at rate 0.5", kept)
	}
	again := l.Call(autograd.Constant(x), Context{Training: true, Step: 3}).Value()
	if !equal(again.Data(), y.Data()) {
		t.Error("the same step gave another mask")
	}
}

func TestRegularizers(t *testing.T) {
	w := autograd.Variable("w", tensor.Must(tensor.New([]int{3}, []float32{-2, 0, 3})))
	loss := L1L2{L1: 0.5, L2: 0.1}.Loss(w)
	// 0.5·(2 + 0 + 3) + 0.1·(4 + 0 + 9) = 3.8; gradient 0.5·sign(w) + 0.2·w.
	if v := loss.Value().Data()[0]; v < 3.7999 || v > 3.8001 {
		t.Errorf("loss %v, want 3.8", v)
	}
	g, err := autograd.Gradient(loss, w)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{-0.5 - 0.4, 0, 0.5 + 0.6}
	for i, v := range g[0].Data() {
		if d := v - want[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("gradient %v, want %v", g[0].Data(), want)
		}
	}
	d := NewDense("d", DenseConfig{Units: 2, KernelRegularizer: L2(0.01)})
	m := NewSequential(d)
	if err := m.Build([]int{1, 3}); err != nil {
		t.Fatal(err)
	}
	if n := len(m.Losses()); n != 1 {
		t.Errorf("%d losses, want the kernel's one", n)
	}
	if _, err := RegularizerByName("l3"); err == nil {
		t.Error("unknown regularizer accepted")
	}
}

// TestUpSamplingAdjoint: both resizes are linear, y = A·x, so the
// gradient of Σ y·g must satisfy ⟨A·x, g⟩ = ⟨x, ∂/∂x⟩ for any x and g
// (the bilinear golden has no gradient: see testdata/gen/layers.js).
func TestUpSamplingAdjoint(t *testing.T) {
	for _, interp := range []string{"nearest", "bilinear"} {
		t.Run(interp, func(t *testing.T) {
			l := NewUpSampling2D("up", []int{3, 2}, interp)
			x := tensor.Zeros(2, 3, 4, 2)
			x.RandUniform(tensor.NewRand(1), -1, 1)
			xv := autograd.Variable("x", x)
			y := l.Call(xv, Context{})
			if y.Err() != nil {
				t.Fatal(y.Err())
			}
			g := tensor.Zeros(y.Value().Shape()...)
			g.RandUniform(tensor.NewRand(2), -1, 1)
			grads, err := autograd.Gradient(autograd.ReduceSum(autograd.Mul(y, autograd.Constant(g))), xv)
			if err != nil {
				t.Fatal(err)
			}
			var lhs, rhs float64
			for i, v := range y.Value().Data() {
				lhs += float64(v) * float64(g.Data()[i])
			}
			for i, v := range x.Data() {
				rhs += float64(v) * float64(grads[0].Data()[i])
			}
			if d := lhs - rhs; d > 1e-4 || d < -1e-4 {
				t.Errorf("⟨Ax, g⟩ = %v but ⟨x, Aᵀg⟩ = %v", lhs, rhs)
			}
		})
	}
}
