package optim

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

func vec(vals ...float32) *tensor.Tensor {
	return tensor.Must(tensor.New([]int{len(vals)}, vals))
}

func closeTo(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*math.Max(1, math.Abs(want[i])) || math.IsNaN(d) {
			t.Fatalf("%s[%d] = %.9g, want %.9g (|diff| %.3g > %.3g)", what, i, got[i], want[i], d, tol)
		}
	}
}

// step runs o.Step on one param named "w" per gradient in gs and returns
// the param's data after each step.
func steps(t *testing.T, o Optimizer, w0 []float32, gs ...[]float32) [][]float32 {
	t.Helper()
	w := autograd.Variable("w", vec(w0...))
	var out [][]float32
	for _, g := range gs {
		if err := o.Step([]*autograd.Var{w}, []*tensor.Tensor{vec(g...)}); err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]float32(nil), w.Value().Data()...))
	}
	return out
}

// Hand-worked updates. Tolerance 1e-6 relative: float32 arithmetic on
// values of order 1 with a handful of roundings per step.
func TestByHand(t *testing.T) {
	tests := []struct {
		name   string
		opt    Optimizer
		w0     []float32
		grads  [][]float32
		want   [][]float64
		slots  map[string][]float64 // after the last step
		suffix string
	}{
		// w −= 0.1·g: 1 − 0.05 = 0.95, 2 + 0.1 = 2.1; then 0.95 − 0.02, 2.1 − 0.03.
		{name: "SGD", opt: NewSGD(0.1), w0: []float32{1, 2},
			grads: [][]float32{{0.5, -1}, {0.2, 0.3}},
			want:  [][]float64{{0.95, 2.1}, {0.93, 2.07}}},
		// accum 1 → w = 1 − 0.1 = 0.9; accum 0.9·1 + 0.5 = 1.4 → w = 0.9 − 0.14.
		{name: "Momentum", opt: NewMomentum(0.1, 0.9, false), w0: []float32{1},
			grads: [][]float32{{1}, {0.5}}, want: [][]float64{{0.9}, {0.76}},
			slots: map[string][]float64{"w/Momentum": {1.4}}},
		// w −= lr·g + lr·μ·accum: 1 − (0.1 + 0.09) = 0.81; 0.81 − (0.05 + 0.1·0.9·1.4) = 0.634.
		{name: "Nesterov", opt: NewMomentum(0.1, 0.9, true), w0: []float32{1},
			grads: [][]float32{{1}, {0.5}}, want: [][]float64{{0.81}, {0.634}},
			slots: map[string][]float64{"w/Momentum": {1.4}}},
		// ms starts at 1: ms = 1 + (4 − 1)·0.1 = 1.3, w = 1 − 0.01·2/√1.3;
		// ms = 1.3 + (1 − 1.3)·0.1 = 1.27, w += 0.01/√1.27.
		{name: "RMSProp", opt: NewRMSProp(RMSPropConfig{LR: 0.01}), w0: []float32{1},
			grads: [][]float32{{2}, {-1}},
			want:  [][]float64{{1 - 0.02/math.Sqrt(1.3)}, {1 - 0.02/math.Sqrt(1.3) + 0.01/math.Sqrt(1.27)}},
			slots: map[string][]float64{"w/RMSProp": {1.27}, "w/RMSProp_1": {-0.01 / math.Sqrt(1.27)}}},
		// mom₁ = 0.02/√1.3; mom₂ = 0.5·mom₁ − 0.01/√1.27; w = 1 − mom₁ − mom₂.
		{name: "RMSPropMomentum", opt: NewRMSProp(RMSPropConfig{LR: 0.01, Momentum: 0.5}), w0: []float32{1},
			grads: [][]float32{{2}, {-1}},
			want: [][]float64{{1 - 0.02/math.Sqrt(1.3)},
				{1 - 0.02/math.Sqrt(1.3) - (0.5*0.02/math.Sqrt(1.3) - 0.01/math.Sqrt(1.27))}}},
		// mg = 0.1·2 = 0.2, den = 1.3 − 0.04 = 1.26; then ms = 1.27,
		// mg = 0.2 + (−1 − 0.2)·0.1 = 0.08, den = 1.27 − 0.0064.
		{name: "RMSPropCentered", opt: NewRMSProp(RMSPropConfig{LR: 0.01, Centered: true}), w0: []float32{1},
			grads: [][]float32{{2}, {-1}},
			want:  [][]float64{{1 - 0.02/math.Sqrt(1.26)}, {1 - 0.02/math.Sqrt(1.26) + 0.01/math.Sqrt(1.27-0.0064)}},
			slots: map[string][]float64{"w/RMSProp": {1.27}, "w/RMSProp_1": {0.08}}},
		// Adam, lr 0.1. Step 1: m = 0.1·g, v = 0.001·g², lr₁ = 0.1·√0.001/0.1,
		// so w −= lr₁·0.1g/(√0.001·|g| + 1e-8) ≈ 0.1·sign(g):
		// 1 − 0.1·(0.1·√0.001·0.1)/(0.1·(√0.001·0.1 + 1e-8)) = 0.9000003162…
		// Step 2 (element 0): m = 0.9·0.01 + 0.1·0.2 = 0.029,
		// v = 0.999·1e-5 + 0.001·0.04 = 4.999e-5, lr₂ = 0.1·√(1−0.999²)/(1−0.81)
		// = 0.0235316725…, w = 0.9000003162 − lr₂·0.029/(√4.999e-5 + 1e-8)
		// = 0.8034822502; element 1 likewise with g = −0.5, 0.3.
		{name: "Adam", opt: NewAdam(AdamConfig{LR: 0.1}), w0: []float32{1, -2},
			grads: [][]float32{{0.1, -0.5}, {0.2, 0.3}},
			want:  [][]float64{{0.900000316226766, -1.9000000632455132}, {0.8034822501553991, -1.8808502701120366}},
			slots: map[string][]float64{"w/Adam": {0.029, -0.015}, "w/Adam_1": {4.999e-05, 3.3975e-4}}},
		// AdamW, lr 0.1, wd 0.1, ε 1e-7: w = 1 − 0.1·0.1·1 = 0.99, then the
		// Adam step ≈ −0.1 → 0.8900006325; step 2: w = 0.89·0.99 = 0.8811006…,
		// m = −0.055, v = 0.00124975, lr₂ = 0.0235316725 → 0.9177108753.
		{name: "AdamW", opt: NewAdamW(AdamWConfig{LR: 0.1, WeightDecay: 0.1}), w0: []float32{1},
			grads: [][]float32{{0.5}, {-1}},
			want:  [][]float64{{0.890000632451532}, {0.9177108752708227}},
			slots: map[string][]float64{"w/AdamW": {-0.055}, "w/AdamW_1": {0.00124975}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := steps(t, tc.opt, tc.w0, tc.grads...)
			for i := range tc.want {
				closeTo(t, "w after step "+string(rune('1'+i)), got[i], tc.want[i], 1e-6)
			}
			slots := tc.opt.Slots()
			for name, want := range tc.slots {
				s, ok := slots[name]
				if !ok {
					t.Fatalf("no slot %q among %v", name, keys(slots))
				}
				closeTo(t, name, s.Data(), want, 1e-6)
			}
			if n := tc.opt.Iterations(); n != int64(len(tc.grads)) {
				t.Fatalf("Iterations() = %d, want %d", n, len(tc.grads))
			}
		})
	}
}

func keys(m map[string]*tensor.Tensor) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestSlotNames(t *testing.T) {
	tests := []struct {
		name string
		opt  Optimizer
		want []string
	}{
		{"SGD", NewSGD(0.1), nil},
		{"Momentum", NewMomentum(0.1, 0.9, false), []string{"conv1/kernel/Momentum"}},
		{"RMSProp", NewRMSProp(RMSPropConfig{}), []string{"conv1/kernel/RMSProp", "conv1/kernel/RMSProp_1"}},
		{"RMSPropCentered", NewRMSProp(RMSPropConfig{Centered: true}),
			[]string{"conv1/kernel/RMSProp", "conv1/kernel/RMSProp_1", "conv1/kernel/RMSProp_2"}},
		{"Adam", NewAdam(AdamConfig{}), []string{"conv1/kernel/Adam", "conv1/kernel/Adam_1"}},
		{"AdamW", NewAdamW(AdamWConfig{}), []string{"conv1/kernel/AdamW", "conv1/kernel/AdamW_1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := autograd.Variable("conv1/kernel", tensor.Zeros(2, 2, 1, 3))
			if err := tc.opt.Step([]*autograd.Var{w}, []*tensor.Tensor{tensor.Ones(2, 2, 1, 3)}); err != nil {
				t.Fatal(err)
			}
			s := tc.opt.Slots()
			if len(s) != len(tc.want) {
				t.Fatalf("slots %v, want %v", keys(s), tc.want)
			}
			for _, k := range tc.want {
				if s[k] == nil || !tensor.SameShape(s[k].Shape(), []int{2, 2, 1, 3}) {
					t.Fatalf("slot %q = %v, want a [2 2 1 3] tensor (have %v)", k, s[k], keys(s))
				}
			}
		})
	}
}

// Saving the slots and iteration count, then restoring them into a new
// optimizer, continues bit for bit.
func TestResumeIsBitIdentical(t *testing.T) {
	makers := map[string]func() Optimizer{
		"SGD":             func() Optimizer { return NewSGD(0.05) },
		"Momentum":        func() Optimizer { return NewMomentum(0.05, 0.9, false) },
		"Nesterov":        func() Optimizer { return NewMomentum(0.05, 0.9, true) },
		"RMSProp":         func() Optimizer { return NewRMSProp(RMSPropConfig{LR: 0.01, Momentum: 0.3}) },
		"RMSPropCentered": func() Optimizer { return NewRMSProp(RMSPropConfig{LR: 0.01, Centered: true}) },
		"Adam":            func() Optimizer { return NewAdam(AdamConfig{}) },
		"AdamW":           func() Optimizer { return NewAdamW(AdamWConfig{LR: 0.01, Exclude: []string{"bias"}}) },
	}
	grad := func(step int, shape ...int) *tensor.Tensor {
		g := tensor.Zeros(shape...)
		g.RandNormal(tensor.NewRand(uint64(100+step)), 0, 1)
		return g
	}
	for name, mk := range makers {
		t.Run(name, func(t *testing.T) {
			r := tensor.NewRand(1)
			k0, b0 := tensor.Zeros(3, 3, 2, 4), tensor.Zeros(4)
			k0.RandNormal(r, 0, 1)
			b0.RandNormal(r, 0, 1)
			kernel, bias := autograd.Variable("conv/kernel", k0.Clone()), autograd.Variable("conv/bias", b0.Clone())
			params := []*autograd.Var{kernel, bias}
			run := func(o Optimizer, from, to int) {
				for s := from; s < to; s++ {
					var gb *tensor.Tensor
					if s != 4 { // one step without a bias gradient
						gb = grad(1000+s, 4)
					}
					if err := o.Step(params, []*tensor.Tensor{grad(s, 3, 3, 2, 4), gb}); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Uninterrupted: 8 steps.
			a := mk()
			run(a, 0, 8)
			wantK, wantB := kernel.Value().Clone(), bias.Value().Clone()

			// Interrupted after 3: a checkpoint of weights, slots, step.
			copy(kernel.Value().Data(), k0.Data())
			copy(bias.Value().Data(), b0.Data())
			b := mk()
			run(b, 0, 3)
			saved, iters := b.Slots(), b.Iterations()
			savedK, savedB := kernel.Value().Clone(), bias.Value().Clone()

			c := mk()
			if err := c.SetSlots(saved); err != nil {
				t.Fatal(err)
			}
			c.SetIterations(iters)
			copy(kernel.Value().Data(), savedK.Data())
			copy(bias.Value().Data(), savedB.Data())
			run(c, 3, 8)
			for _, p := range []struct {
				name      string
				got, want *tensor.Tensor
			}{{"kernel", kernel.Value(), wantK}, {"bias", bias.Value(), wantB}} {
				for i := range p.got.Data() {
					if p.got.Data()[i] != p.want.Data()[i] {
						t.Fatalf("%s[%d]: resumed %.9g, uninterrupted %.9g", p.name, i, p.got.Data()[i], p.want.Data()[i])
					}
				}
			}
			if c.Iterations() != 8 {
				t.Fatalf("Iterations() = %d after resuming at 3 and stepping 5 times, want 8", c.Iterations())
			}
		})
	}
}

// A large variable is split across goroutines; the result must equal the
// same elements updated in small tensors that are never split.
func TestParallelSplitMatchesSerial(t *testing.T) {
	const n = 5*minPerWorker + 17
	big := tensor.Zeros(n)
	big.RandNormal(tensor.NewRand(3), 0, 1)
	g := tensor.Zeros(n)
	g.RandNormal(tensor.NewRand(4), 0, 1)
	pb := autograd.Variable("big", big.Clone())
	ob := NewAdam(AdamConfig{LR: 0.01})
	serial := NewAdam(AdamConfig{LR: 0.01})
	var small []*autograd.Var
	var smallG []*tensor.Tensor
	const chunk = 1000
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		small = append(small, autograd.Variable(string(rune('a'+len(small)%26))+strings.Repeat("x", len(small)/26), vec(big.Data()[lo:hi]...)))
		smallG = append(smallG, vec(g.Data()[lo:hi]...))
	}
	for range 3 {
		if err := ob.Step([]*autograd.Var{pb}, []*tensor.Tensor{g}); err != nil {
			t.Fatal(err)
		}
		if err := serial.Step(small, smallG); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range small {
		for j, x := range v.Value().Data() {
			if y := pb.Value().Data()[k*chunk+j]; x != y {
				t.Fatalf("element %d: split %.9g, serial %.9g", k*chunk+j, y, x)
			}
		}
	}
}

func TestNilGradSkipped(t *testing.T) {
	a, b := autograd.Variable("a", vec(1, 2)), autograd.Variable("b", vec(3))
	o := NewAdam(AdamConfig{})
	if err := o.Step([]*autograd.Var{a, b}, []*tensor.Tensor{vec(1, 1), nil}); err != nil {
		t.Fatal(err)
	}
	if b.Value().Data()[0] != 3 {
		t.Fatalf("b changed to %g without a gradient", b.Value().Data()[0])
	}
	if _, ok := o.Slots()["b/Adam"]; ok {
		t.Fatal("slots were created for a variable without a gradient")
	}
	if o.Iterations() != 1 {
		t.Fatalf("Iterations() = %d, want 1", o.Iterations())
	}
}

func TestErrors(t *testing.T) {
	w := func() *autograd.Var { return autograd.Variable("w", vec(1, 2)) }
	tests := []struct {
		name string
		run  func(o Optimizer) error
		want string
	}{
		{"LengthMismatch", func(o Optimizer) error { return o.Step([]*autograd.Var{w()}, nil) }, "1 params but 0 grads"},
		{"ShapeMismatch", func(o Optimizer) error {
			return o.Step([]*autograd.Var{w()}, []*tensor.Tensor{vec(1, 2, 3)})
		}, "shape [3], want [2]"},
		{"Unnamed", func(o Optimizer) error {
			return o.Step([]*autograd.Var{autograd.Constant(vec(1))}, []*tensor.Tensor{vec(1)})
		}, "no name"},
		{"Duplicate", func(o Optimizer) error {
			return o.Step([]*autograd.Var{w(), w()}, []*tensor.Tensor{vec(1, 1), vec(1, 1)})
		}, `"w" appears twice`},
		{"NilParam", func(o Optimizer) error { return o.Step([]*autograd.Var{nil}, []*tensor.Tensor{nil}) }, "param 0 is nil"},
		{"BadSlotName", func(o Optimizer) error {
			return o.SetSlots(map[string]*tensor.Tensor{"w/Momentum": vec(1, 2)})
		}, `"w/Momentum"`},
		{"MissingSlot", func(o Optimizer) error {
			return o.SetSlots(map[string]*tensor.Tensor{"w/Adam": vec(1, 2)})
		}, `no slot "w/Adam_1"`},
		{"SlotShapeAtStep", func(o Optimizer) error {
			if err := o.SetSlots(map[string]*tensor.Tensor{"w/Adam": vec(0), "w/Adam_1": vec(0)}); err != nil {
				return err
			}
			return o.Step([]*autograd.Var{w()}, []*tensor.Tensor{vec(1, 1)})
		}, "has shape [1] but variable \"w\" has [2]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := NewAdam(AdamConfig{})
			err := tc.run(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if o.Iterations() != 0 {
				t.Fatalf("a failed call advanced Iterations to %d", o.Iterations())
			}
		})
	}
	// A failing Step changes no variable, even those before the bad one.
	a, b := autograd.Variable("a", vec(1)), autograd.Variable("b", vec(2))
	o := NewAdam(AdamConfig{})
	if err := o.Step([]*autograd.Var{a, b}, []*tensor.Tensor{vec(1), vec(1, 1)}); err == nil {
		t.Fatal("Step with a wrong gradient shape succeeded")
	}
	if a.Value().Data()[0] != 1 || len(o.Slots()) != 0 {
		t.Fatalf("failed Step modified state: a = %g, slots %v", a.Value().Data()[0], keys(o.Slots()))
	}
}

// adamGolden is optim/testdata/adam_tfjs.json (see its header).
type adamGolden struct {
	Trajectories []struct {
		Config struct {
			LR, Beta1, Beta2, Epsilon float64
			Steps                     int
		}
		Init  map[string]goldenTensor
		Steps []struct {
			Step             int
			Grads            map[string]goldenTensor
			Params, M, V     map[string]goldenTensor
			ParamsTF1Float64 map[string][]float64 `json:"params_tf1_float64"`
		}
	}
}

type goldenTensor struct {
	Shape []int
	Data  []float64
}

// TestAdamGoldenTFJS replays the gradients TensorFlow.js applied and
// compares. Against the float64 replay of TF1's rule: 2e-6 absolute
// (parameters of order 1 after 10 float32 updates, a few ulps of 2.4e-7).
// Against tfjs itself: 1e-5 for parameters and m, and 5e-5 relative for
// v, because tfjs forms 1−β2 in float32 from float32(0.999), which is
// 1.3e-5 off (the file's header explains the difference).
func TestAdamGoldenTFJS(t *testing.T) {
	raw, err := os.ReadFile("testdata/adam_tfjs.json")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("testdata/adam_tfjs.json is absent: it is generated by testdata/gen (node gen.js)")
	}
	if err != nil {
		t.Fatal(err)
	}
	var g adamGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Trajectories) == 0 {
		t.Fatal("golden file has no trajectories")
	}
	for ti, tr := range g.Trajectories {
		t.Run("lr="+jsonNum(tr.Config.LR), func(t *testing.T) {
			if len(tr.Steps) != tr.Config.Steps || len(tr.Steps) == 0 {
				t.Fatalf("trajectory %d: %d steps recorded, config says %d", ti, len(tr.Steps), tr.Config.Steps)
			}
			o := NewAdam(AdamConfig{LR: tr.Config.LR, Beta1: tr.Config.Beta1, Beta2: tr.Config.Beta2, Epsilon: tr.Config.Epsilon})
			names := []string{"a", "b"}
			params := make([]*autograd.Var, len(names))
			for i, n := range names {
				params[i] = autograd.Variable(n, tensor.Must(tensor.FromFloat64(tr.Init[n].Shape, tr.Init[n].Data)))
			}
			for _, s := range tr.Steps {
				grads := make([]*tensor.Tensor, len(names))
				for i, n := range names {
					grads[i] = tensor.Must(tensor.FromFloat64(s.Grads[n].Shape, s.Grads[n].Data))
				}
				if err := o.Step(params, grads); err != nil {
					t.Fatal(err)
				}
				slots := o.Slots()
				for i, n := range names {
					at := func(what string) string { return what + " " + n + " step " + jsonNum(float64(s.Step)) }
					closeTo(t, at("params vs TF1 float64"), params[i].Value().Data(), s.ParamsTF1Float64[n], 2e-6)
					closeTo(t, at("params vs tfjs"), params[i].Value().Data(), s.Params[n].Data, 1e-5)
					closeTo(t, at("m vs tfjs"), slots[n+"/Adam"].Data(), s.M[n].Data, 1e-5)
					relClose(t, at("v vs tfjs"), slots[n+"/Adam_1"].Data(), s.V[n].Data, 5e-5)
				}
			}
		})
	}
}

func relClose(t *testing.T, what string, got []float32, want []float64, rtol float64) {
	t.Helper()
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > rtol*math.Abs(want[i]) {
			t.Fatalf("%s[%d] = %.9g, want %.9g (relative diff %.3g > %.3g)", what, i, got[i], want[i], d/math.Abs(want[i]), rtol)
		}
	}
}

func jsonNum(v float64) string { b, _ := json.Marshal(v); return string(b) }

// TestStepMarksChanged: every optimizer advances the Version of each
// param it updated, so forms packed from the old weights (nn.Packed) are
// rebuilt, and leaves a param without a gradient at its version.
func TestStepMarksChanged(t *testing.T) {
	for name, o := range map[string]Optimizer{
		"sgd":      NewSGD(0.1),
		"momentum": NewMomentum(0.1, 0.9, true),
		"rmsprop":  NewRMSProp(RMSPropConfig{LR: 0.1}),
		"adam":     NewAdam(AdamConfig{}),
		"adamw":    NewAdamW(AdamWConfig{}),
	} {
		t.Run(name, func(t *testing.T) {
			a, b := autograd.Variable("a", vec(1, 2)), autograd.Variable("b", vec(3))
			va, vb := a.Value().Version(), b.Value().Version()
			if err := o.Step([]*autograd.Var{a, b}, []*tensor.Tensor{vec(1, 1), nil}); err != nil {
				t.Fatal(err)
			}
			if a.Value().Version() == va {
				t.Error("the updated param's Version did not move")
			}
			if b.Value().Version() != vb {
				t.Error("the Version of a param without a gradient moved")
			}
		})
	}
}
