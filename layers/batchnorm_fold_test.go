package layers

import (
	"fmt"
	"maps"
	"math"
	"sync"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// callUnfolded runs m's graph layer by layer, never folding: the
// reference the folded inference path is held to.
func callUnfolded(m *Model, x *autograd.Var, ctx Context) *autograd.Var {
	val := map[*Node]*autograd.Var{m.inputs[0]: x}
	for _, n := range m.order {
		if n.layer != nil {
			val[n] = n.apply(val, ctx)
		}
	}
	return val[m.outputs[0]]
}

// foldModel builds a small graph with the chains folding must handle:
// conv+bias → BN → ReLU, conv (no bias) → BN (no γ, β) → Add, a conv
// whose output a second layer also reads (not folded), a BN read by two
// layers (folded without its ReLU), and a conv with an activation (not
// folded). wantFolds is how many chains it holds.
func foldModel(t *testing.T) (m *Model, wantFolds int) {
	t.Helper()
	conv := func(name string, cfg Conv2DConfig) Layer {
		cfg.Seed, cfg.KernelSize = 3, []int{3}
		if cfg.Padding == "" {
			cfg.Padding = "SAME"
		}
		return NewConv2D(name, cfg)
	}
	in := Input("x", 9, 7, 3)
	a := Apply(NewReLU("a_relu"), Apply(NewBatchNormalization("a_bn", BatchNormConfig{}), Apply(conv("a", Conv2DConfig{Filters: 8}), in)))
	b := Apply(NewBatchNormalization("b_bn", BatchNormConfig{NoScale: true, NoCenter: true}), Apply(conv("b", Conv2DConfig{Filters: 8, NoBias: true}), a))
	sum := ApplyN(NewAdd("sum"), a, b)
	c := Apply(conv("c", Conv2DConfig{Filters: 8, Strides: []int{2}}), sum)
	cbn := Apply(NewBatchNormalization("c_bn", BatchNormConfig{}), c)
	shared := Apply(NewBatchNormalization("d_bn", BatchNormConfig{}), Apply(conv("d", Conv2DConfig{Filters: 8, NoBias: true}), cbn))
	both := ApplyN(NewAdd("both"), Apply(NewReLU("d_relu"), shared), shared)
	tail := ApplyN(NewAdd("tail"), both, c) // c is also read here: c → c_bn does not fold
	act := Apply(NewBatchNormalization("e_bn", BatchNormConfig{}), Apply(conv("e", Conv2DConfig{Filters: 4, Activation: autograd.Relu}), tail))
	m, err := NewModel("fold", []*Node{in}, []*Node{act})
	if err != nil {
		t.Fatal(err)
	}
	// Moving statistics and γ, β away from their initial values.
	r := tensor.NewRand(11)
	for _, w := range m.AllWeights() {
		switch name := w.Name(); {
		case hasSuffix(name, "/moving_mean"):
			fill(w.Value().Data(), r, -0.5, 0.5)
		case hasSuffix(name, "/moving_variance"):
			fill(w.Value().Data(), r, 0.2, 3)
		case hasSuffix(name, "/gamma"):
			fill(w.Value().Data(), r, 0.5, 1.5)
		case hasSuffix(name, "/beta"), hasSuffix(name, "/bias"):
			fill(w.Value().Data(), r, -0.3, 0.3)
		}
	}
	return m, 3 // a (with ReLU), b, d (without ReLU)
}

// weightsCopy returns a copy of every weight of m (Weights gives the live
// tensors, which a training call's moving-statistics update changes).
func weightsCopy(m Network) map[string]*tensor.Tensor {
	w := m.Weights()
	for name, t := range w {
		w[name] = t.Clone()
	}
	return w
}

// TestFoldKeepsModelOutputs: a node the caller reads as a model output is
// never folded or fused away, at inference or in training: here the
// conv, its batch norm and the ReLU are all outputs, and each output is
// the layer-by-layer value.
func TestFoldKeepsModelOutputs(t *testing.T) {
	in := Input("x", 5, 4, 2)
	c := Apply(NewConv2D("c", Conv2DConfig{Filters: 3, KernelSize: []int{3}, Padding: "SAME", Seed: 4}), in)
	b := Apply(NewBatchNormalization("b", BatchNormConfig{}), c)
	r := Apply(NewReLU("r"), b)
	m, err := NewModel("outs", []*Node{in}, []*Node{c, b, r})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.folds) != 0 || len(m.bnRelu) != 0 {
		t.Fatalf("%d folds and %d BN+ReLU fusions planned over model outputs, want none", len(m.folds), len(m.bnRelu))
	}
	x := tensor.Zeros(2, 5, 4, 2)
	x.RandUniform(tensor.NewRand(6), -1, 1)
	for _, training := range []bool{false, true} {
		ctx := Context{Training: training}
		w0 := weightsCopy(m)
		got := m.CallN([]*autograd.Var{autograd.Constant(x)}, ctx)
		if err := m.SetWeights(w0); err != nil {
			t.Fatal(err)
		}
		val := map[*Node]*autograd.Var{in: autograd.Constant(x)}
		for _, n := range m.order {
			if n.layer != nil {
				val[n] = n.apply(val, ctx)
			}
		}
		for i, o := range []*Node{c, b, r} {
			if got[i] == nil || got[i].Err() != nil {
				t.Fatalf("training=%v: output %s missing (%v)", training, o.name, got[i])
			}
			foldClose(t, o.name, training, got[i].Value().Data(), val[o].Value().Data(), 0)
		}
		if err := m.SetWeights(w0); err != nil {
			t.Fatal(err)
		}
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

func fill(d []float32, r interface{ Float64() float64 }, lo, hi float64) {
	for i := range d {
		d[i] = float32(lo + (hi-lo)*r.Float64())
	}
}

// TestBatchNormFold: at inference the folded model gives the unfolded
// model's outputs within 1e-5 of the largest output, and its gradients
// (input and every weight) within 1e-4 of the largest; in training, where
// a_bn runs fused with its ReLU, outputs and gradients are the unfused
// layers' bits.
func TestBatchNormFold(t *testing.T) {
	m, want := foldModel(t)
	if len(m.folds) != want {
		t.Fatalf("%d chains folded, want %d", len(m.folds), want)
	}
	if len(m.bnRelu) != 1 || m.bnRelu[m.outputs[0]] != nil {
		t.Fatalf("%d batch norms fused with their ReLU in training, want 1 (a_bn)", len(m.bnRelu))
	}
	for _, f := range m.folds {
		if f.conv.name == "c" || f.conv.name == "e" {
			t.Errorf("conv %s folded, but it must not be", f.conv.name)
		}
		if f.conv.name == "d" && f.relu != nil {
			t.Error("d's ReLU folded, but d_bn has two consumers")
		}
	}
	x := tensor.Zeros(2, 9, 7, 3)
	x.RandUniform(tensor.NewRand(5), -1, 1)
	for _, training := range []bool{false, true} {
		ctx := Context{Training: training}
		run := func(call func(*autograd.Var, Context) *autograd.Var) ([]float32, []*tensor.Tensor) {
			xv := autograd.Variable("x", x.Clone())
			y := call(xv, ctx)
			loss := autograd.ReduceSum(autograd.Mul(y, y))
			g, err := autograd.Gradient(loss, append([]*autograd.Var{xv}, m.Variables()...)...)
			if err != nil {
				t.Fatal(err)
			}
			return y.Value().Data(), g
		}
		w0 := weightsCopy(m)
		got, gotG := run(m.Call)
		if training {
			if err := m.SetWeights(w0); err != nil { // undo the moving-statistics update
				t.Fatal(err)
			}
		}
		want, wantG := run(func(x *autograd.Var, ctx Context) *autograd.Var { return callUnfolded(m, x, ctx) })
		if training {
			if err := m.SetWeights(w0); err != nil {
				t.Fatal(err)
			}
		}
		tol := 1e-5
		if training {
			tol = 0
		}
		foldClose(t, "output", training, got, want, tol)
		for i := range gotG {
			foldClose(t, "gradient", training, gotG[i].Data(), wantG[i].Data(), 10*tol)
		}
	}
}

// foldClose fails when |got − want| > tol·max|want| anywhere.
func foldClose(t *testing.T, what string, training bool, got, want []float32, tol float64) {
	t.Helper()
	var scale float64
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > tol*scale || math.IsNaN(d) {
			t.Fatalf("training=%v: %s[%d] = %v, unfolded %v (tolerance %g of %g)", training, what, i, got[i], want[i], tol, scale)
		}
	}
}

// TestBatchNormFoldSequential: a Sequential folds Conv2D → BN (→ ReLU,
// here an Activation layer of "relu")
// at inference too, also when its first call is an inference one (the
// layers are built on the way), within 1e-5 of the layer-by-layer
// result; in training, with BN → ReLU fused, it gives that result's bits.
func TestBatchNormFoldSequential(t *testing.T) {
	m := NewSequential(
		NewConv2D("c1", Conv2DConfig{Filters: 8, KernelSize: []int{3}, Padding: "SAME", Seed: 2}),
		NewBatchNormalization("bn1", BatchNormConfig{}),
		NewActivation("r1", "relu"),
		NewConv2D("c2", Conv2DConfig{Filters: 6, KernelSize: []int{3}, Strides: []int{2}, NoBias: true, Seed: 2}),
		NewBatchNormalization("bn2", BatchNormConfig{NoScale: true}),
		NewFlatten("flat"),
		NewDense("d", DenseConfig{Units: 3, Seed: 2}),
	)
	if n := seqFold(m.layers); n != 3 {
		t.Fatalf("seqFold of conv, BN, Activation relu = %d, want 3", n)
	}
	if !seqBNRelu(m.layers[1:]) {
		t.Fatal("BN, Activation relu not fused for training")
	}
	if isReluLayer(NewActivation("t", "tanh")) || isReluLayer(NewActivation("bad", "nope")) {
		t.Fatal("an Activation other than relu taken for a ReLU")
	}
	if n := seqFold(m.layers[3:]); n != 2 {
		t.Fatalf("seqFold of conv, BN, Flatten = %d, want 2", n)
	}
	x := tensor.Zeros(3, 8, 7, 2)
	x.RandUniform(tensor.NewRand(9), -1, 1)
	first := m.Call(autograd.Constant(x), Context{}) // builds the layers folded
	if err := first.Err(); err != nil {
		t.Fatal(err)
	}
	moveBNStats(m, 12) // the first call's fold is stale now
	for _, training := range []bool{false, true} {
		ctx := Context{Training: training}
		w0 := weightsCopy(m)
		got := m.Call(autograd.Constant(x), ctx)
		if err := m.SetWeights(w0); err != nil { // undo a training call's moving-statistics update
			t.Fatal(err)
		}
		want := autograd.Constant(x)
		for _, l := range m.layers {
			want = callLayer(l, want, ctx)
		}
		if err := m.SetWeights(w0); err != nil {
			t.Fatal(err)
		}
		if err := got.Err(); err != nil {
			t.Fatal(err)
		}
		tol := 1e-5
		if training {
			tol = 0 // BN → ReLU fused: the same bits
		}
		foldClose(t, "output", training, got.Value().Data(), want.Value().Data(), tol)
	}
}

// BenchmarkBatchNormFold times inference through conv 3×3 (16 → 16
// filters, SAME) → BN → ReLU on [N, 28, 28, 16], N = 1 and 32, run folded
// (the folded kernel and bias rebuilt from the variables on every call,
// then one Conv2DBiasRelu) and unfolded (Conv2D, BiasAdd, the batch
// norm, Relu).
//
//	go test -run '^$' -bench BatchNormFold ./layers
func BenchmarkBatchNormFold(b *testing.B) {
	in := Input("x", 28, 28, 16)
	y := Apply(NewReLU("r"), Apply(NewBatchNormalization("bn", BatchNormConfig{}),
		Apply(NewConv2D("c", Conv2DConfig{Filters: 16, KernelSize: []int{3}, Padding: "SAME", Seed: 1}), in)))
	m, err := NewModel("fold", []*Node{in}, []*Node{y})
	if err != nil {
		b.Fatal(err)
	}
	if len(m.folds) != 1 {
		b.Fatalf("%d folds, want 1", len(m.folds))
	}
	for _, n := range []int{1, 32} {
		x := tensor.Zeros(n, 28, 28, 16)
		x.RandUniform(tensor.NewRand(1), -1, 1)
		for _, bc := range []struct {
			name string
			call func(*autograd.Var, Context) *autograd.Var
		}{
			{"folded", m.Call},
			{"unfolded", func(x *autograd.Var, ctx Context) *autograd.Var { return callUnfolded(m, x, ctx) }},
		} {
			b.Run(fmt.Sprintf("batch=%d/%s", n, bc.name), func(b *testing.B) {
				for b.Loop() {
					out := bc.call(autograd.Constant(x), Context{})
					if err := out.Err(); err != nil {
						b.Fatal(err)
					}
					autograd.Release(out)
				}
			})
		}
	}
}

// TestFoldKeptUntilWeightsChange: inference keeps each chain's folded
// kernel and bias from call to call (same values, same bits out) and
// folds again once a weight it was made from changes (SetWeights marks
// it), matching the unfolded layers then too.
func TestFoldKeptUntilWeightsChange(t *testing.T) {
	m, _ := foldModel(t)
	x := tensor.Zeros(2, 9, 7, 3)
	x.RandUniform(tensor.NewRand(8), -1, 1)
	folds := func() map[*bnFolded]bool {
		seen := map[*bnFolded]bool{}
		for _, f := range m.folds {
			seen[f.bn.layer.(*BatchNormalization).fold.cur] = true
		}
		return seen
	}
	first := m.Call(autograd.Constant(x), Context{}).Value().Clone()
	before := folds()
	again := m.Call(autograd.Constant(x), Context{}).Value()
	if !maps.Equal(before, folds()) || len(before) != len(m.folds) {
		t.Fatalf("a second call folded again: %d folds, then %v and %v", len(m.folds), before, folds())
	}
	bitsEqualT(t, "second call", again.Data(), first.Data())

	w := weightsCopy(m)
	for name, v := range w {
		if hasSuffix(name, "/gamma") || hasSuffix(name, "/moving_variance") {
			for i := range v.Data() {
				v.Data()[i] *= 1.5
			}
		}
	}
	if err := m.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	got := m.Call(autograd.Constant(x), Context{}).Value().Data()
	for f := range folds() {
		if before[f] {
			t.Fatal("a fold made before SetWeights is still in use")
		}
	}
	want := callUnfolded(m, autograd.Constant(x), Context{}).Value().Data()
	foldClose(t, "output after SetWeights", false, got, want, 1e-5)
}

func bitsEqualT(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestFoldConcurrentCalls: inference calls from several goroutines share
// the folds (the first ones racing to make them) and give the bits of a
// call alone; run with -race.
func TestFoldConcurrentCalls(t *testing.T) {
	m, _ := foldModel(t)
	x := tensor.Zeros(2, 9, 7, 3)
	x.RandUniform(tensor.NewRand(10), -1, 1)
	outs := make([]*tensor.Tensor, 4)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() {
			y := m.Call(autograd.Constant(x), Context{})
			outs[i] = y.Value()
		})
	}
	wg.Wait()
	for i, y := range outs[1:] {
		bitsEqualT(t, fmt.Sprintf("call %d", i+1), y.Data(), outs[0].Data())
	}
}

// TestFoldJoin: at inference a residual join ReLU(Add(skip, conv → BN))
// runs as one convolution with the skip added in its epilogue, giving
// the unfolded layers' outputs and gradients within float32 rounding;
// in training the planned Add → ReLU runs as before.
func TestFoldJoin(t *testing.T) {
	conv := func(name string, bias bool) Layer {
		return NewConv2D(name, Conv2DConfig{Filters: 8, KernelSize: []int{3}, Padding: "SAME", NoBias: !bias, Seed: 5})
	}
	in := Input("x", 9, 7, 8)
	a := Apply(NewReLU("a_relu"), Apply(NewBatchNormalization("a_bn", BatchNormConfig{}), Apply(conv("a", true), in)))
	b := Apply(NewBatchNormalization("b_bn", BatchNormConfig{}), Apply(conv("b", false), a))
	out := Apply(NewReLU("join_relu"), ApplyN(NewAdd("join"), a, b)) // the fold is the Add's second input
	m, err := NewModel("join", []*Node{in}, []*Node{out})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.joins) != 1 || m.joins[out] == nil || m.joins[out].last != b {
		t.Fatalf("joins = %v, want the one at join_relu over b_bn", m.joins)
	}
	moveBNStats(m, 13)
	x := tensor.Zeros(2, 9, 7, 8)
	x.RandUniform(tensor.NewRand(14), -1, 1)
	run := func(call func(*autograd.Var, Context) *autograd.Var) (*autograd.Var, []float32, []*tensor.Tensor) {
		xv := autograd.Variable("x", x.Clone())
		y := call(xv, Context{})
		g, err := autograd.Gradient(autograd.ReduceSum(autograd.Mul(y, y)), append([]*autograd.Var{xv}, m.Variables()...)...)
		if err != nil {
			t.Fatal(err)
		}
		return y, y.Value().Data(), g
	}
	y, got, gotG := run(m.Call)
	if y.Name() != "Conv2DBiasAddRelu" {
		t.Errorf("the join ran as %s, want Conv2DBiasAddRelu", y.Name())
	}
	_, want, wantG := run(func(x *autograd.Var, ctx Context) *autograd.Var { return callUnfolded(m, x, ctx) })
	foldClose(t, "output", false, got, want, 1e-5)
	for i := range gotG {
		foldClose(t, "gradient", false, gotG[i].Data(), wantG[i].Data(), 1e-4)
	}
}

// moveBNStats sets the moving statistics, γ and β of m's batch norms away
// from their initial values, from seed, and marks them changed.
func moveBNStats(m Network, seed uint64) {
	r := tensor.NewRand(seed)
	for _, w := range m.AllWeights() {
		switch name := w.Name(); {
		case hasSuffix(name, "/moving_mean"), hasSuffix(name, "/beta"):
			fill(w.Value().Data(), r, -0.5, 0.5)
		case hasSuffix(name, "/moving_variance"), hasSuffix(name, "/gamma"):
			fill(w.Value().Data(), r, 0.3, 2)
		}
		w.Value().MarkChanged()
	}
}
