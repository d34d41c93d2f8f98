package autograd

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// positive returns values U[0.5, 2): inputs for Log, Sqrt, Rsqrt, Div.
func positive(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	t.RandUniform(tensor.NewRand(seed), 0.5, 2)
	return t
}

// kinkFree returns values ±[0.6, 3) clear of 0 and 6 (Relu6's
// kinks) and of ±2.5 (HardSigmoid's).
func kinkFree(seed uint64, shape ...int) *tensor.Tensor {
	t := awayFromZero(seed, shape...)
	for i, v := range t.Data() {
		t.Data()[i] = v * 3 // ±[0.6, 3): clear of 0, ±2.5 needs a look
		if d := t.Data()[i]; d > 2.3 && d < 2.7 || d < -2.3 && d > -2.7 {
			t.Data()[i] = d / 2
		}
	}
	return t
}

func TestFiniteDifferencesMore(t *testing.T) {
	one := func(f func(*Var) *Var) func(in []*Var) *Var { return func(in []*Var) *Var { return f(in[0]) } }
	tests := []struct {
		name   string
		build  func(in []*Var) *Var
		inputs []*tensor.Tensor
	}{
		{"Add broadcast row", func(in []*Var) *Var { return Add(in[0], in[1]) }, []*tensor.Tensor{uniform(1, 2, 3), uniform(2, 3)}},
		{"Sub broadcast col", func(in []*Var) *Var { return Sub(in[0], in[1]) }, []*tensor.Tensor{uniform(1, 2, 1), uniform(2, 1, 4)}},
		{"Mul scalar", func(in []*Var) *Var { return Mul(in[0], in[1]) }, []*tensor.Tensor{uniform(1), uniform(2, 2, 3)}},
		{"Div broadcast", func(in []*Var) *Var { return Div(in[0], in[1]) }, []*tensor.Tensor{uniform(1, 2, 3, 4), positive(2, 3, 1)}},
		{"Maximum", func(in []*Var) *Var { return Maximum(in[0], in[1]) }, []*tensor.Tensor{distinct(1, 2, 3), offLadder(2, 3)}},
		{"Minimum", func(in []*Var) *Var { return Minimum(in[0], in[1]) }, []*tensor.Tensor{distinct(3, 2, 3), offLadder(4, 2, 1)}},
		{"Neg", one(Neg), []*tensor.Tensor{uniform(1, 5)}},
		{"Abs", one(Abs), []*tensor.Tensor{awayFromZero(1, 5)}},
		{"Exp", one(Exp), []*tensor.Tensor{uniform(1, 5)}},
		{"Log", one(Log), []*tensor.Tensor{positive(1, 5)}},
		{"Sqrt", one(Sqrt), []*tensor.Tensor{positive(1, 5)}},
		{"Rsqrt", one(Rsqrt), []*tensor.Tensor{positive(1, 5)}},
		{"Square", one(Square), []*tensor.Tensor{uniform(1, 5)}},
		{"Pow", one(func(x *Var) *Var { return Pow(x, 2.5) }), []*tensor.Tensor{positive(1, 5)}},
		{"Relu6", one(Relu6), []*tensor.Tensor{kinkFree(1, 12)}},
		{"Elu", one(Elu), []*tensor.Tensor{awayFromZero(1, 8)}},
		{"Selu", one(Selu), []*tensor.Tensor{awayFromZero(1, 8)}},
		{"HardSigmoid", one(HardSigmoid), []*tensor.Tensor{kinkFree(2, 12)}},
		{"Softplus", one(Softplus), []*tensor.Tensor{uniform(1, 8)}},
		{"Softsign", one(Softsign), []*tensor.Tensor{awayFromZero(1, 8)}},
		{"Swish", one(Swish), []*tensor.Tensor{uniform(1, 8)}},
		{"Gelu", one(func(x *Var) *Var { return Gelu(x, false) }), []*tensor.Tensor{uniform(1, 8)}},
		{"Gelu tanh", one(func(x *Var) *Var { return Gelu(x, true) }), []*tensor.Tensor{uniform(1, 8)}},
		{"SoftmaxAxis 1", one(func(x *Var) *Var { return SoftmaxAxis(x, 1) }), []*tensor.Tensor{uniform(1, 2, 3, 4)}},
		{"LogSoftmaxAxis -3", one(func(x *Var) *Var { return LogSoftmaxAxis(x, -3) }), []*tensor.Tensor{uniform(1, 2, 3, 4)}},
		{"ReduceSumAxes", one(func(x *Var) *Var { return ReduceSumAxes(x, []int{0, -1}, false) }), []*tensor.Tensor{uniform(1, 2, 3, 4)}},
		{"ReduceMeanAxes keep", one(func(x *Var) *Var { return ReduceMeanAxes(x, []int{1}, true) }), []*tensor.Tensor{uniform(1, 2, 3, 4)}},
		{"ReduceMaxAxes", one(func(x *Var) *Var { return ReduceMaxAxes(x, []int{2}, false) }), []*tensor.Tensor{distinct(1, 2, 3, 4)}},
		{"BroadcastTo", one(func(x *Var) *Var { return BroadcastTo(x, 2, 3, 4) }), []*tensor.Tensor{uniform(1, 3, 1)}},
		{"Transpose", one(func(x *Var) *Var { return Transpose(x, 1, 2, 0) }), []*tensor.Tensor{uniform(1, 2, 3, 4)}},
		{"Transpose reversed", one(func(x *Var) *Var { return Transpose(x) }), []*tensor.Tensor{uniform(1, 2, 3, 4)}},
		{"Concat", func(in []*Var) *Var { return Concat(-1, in[0], in[1], in[0]) }, []*tensor.Tensor{uniform(1, 2, 3), uniform(2, 2, 1)}},
		{"Split", one(func(x *Var) *Var {
			p := Split(x, []int{1, -1}, 1)
			return Mul(p[1], sumLast(p[0]))
		}), []*tensor.Tensor{uniform(1, 2, 3)}},
		{"Slice", one(func(x *Var) *Var { return Slice(x, []int{0, 1}, []int{-1, 2}) }), []*tensor.Tensor{uniform(1, 2, 4)}},
		{"Pad CONSTANT", one(func(x *Var) *Var { return Pad(x, [][2]int{{1, 0}, {0, 2}}, "CONSTANT", 3) }), []*tensor.Tensor{uniform(1, 2, 3)}},
		{"Pad REFLECT", one(func(x *Var) *Var { return Pad(x, [][2]int{{1, 1}, {2, 2}}, "REFLECT", 0) }), []*tensor.Tensor{uniform(1, 2, 3)}},
		{"Pad SYMMETRIC", one(func(x *Var) *Var { return Pad(x, [][2]int{{2, 1}, {3, 0}}, "SYMMETRIC", 0) }), []*tensor.Tensor{uniform(1, 2, 3)}},
		{"Custom cube", one(cube), []*tensor.Tensor{uniform(1, 2, 3)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { fdCheck(t, tc.build, tc.inputs...) })
	}
}

// offLadder is distinct shifted by 0.05: against distinct's values (a
// ladder of step 0.1) every pair is at least 0.05 > ε apart, so Maximum
// and Minimum meet no ties.
func offLadder(seed uint64, shape ...int) *tensor.Tensor {
	t := distinct(seed, shape...)
	for i := range t.Data() {
		t.Data()[i] += 0.05
	}
	return t
}

// sumLast is x0 + x1 + … along the last axis kept as 1: a fan-out partner
// for Split's test.
func sumLast(x *Var) *Var { return ReduceSumAxes(x, []int{-1}, true) }

// cube is x³ as a Custom op: ∂/∂x = 3x²·g.
func cube(x *Var) *Var {
	xv := x.Value()
	y := tensor.Zeros(xv.Shape()...)
	for i, v := range xv.Data() {
		y.Data()[i] = v * v * v
	}
	return Custom("Cube", y, []*Var{x}, func(g *tensor.Tensor) ([]*tensor.Tensor, error) {
		dx := tensor.Zeros(xv.Shape()...)
		for i, v := range xv.Data() {
			dx.Data()[i] = 3 * v * v * g.Data()[i]
		}
		return []*tensor.Tensor{dx}, nil
	})
}

// TestBroadcastGradsByHand: d/da Σ(a + b) for a [2,3], b [3] is ones, and
// for b the column count 2; d/db Σ(a·b) is the column sums of a.
func TestBroadcastGradsByHand(t *testing.T) {
	a := Variable("a", tensor.Must(tensor.New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})))
	b := Variable("b", tensor.Must(tensor.New([]int{3}, []float32{1, -1, 2})))
	gs, err := Gradient(ReduceSum(Add(a, b)), a, b)
	if err != nil {
		t.Fatal(err)
	}
	expectData(t, "dΣ(a+b)/da", gs[0], 1, 1, 1, 1, 1, 1)
	expectData(t, "dΣ(a+b)/db", gs[1], 2, 2, 2)
	gs, err = Gradient(ReduceSum(Mul(a, b)), a, b)
	if err != nil {
		t.Fatal(err)
	}
	expectData(t, "dΣ(a·b)/da", gs[0], 1, -1, 2, 1, -1, 2)
	expectData(t, "dΣ(a·b)/db", gs[1], 5, 7, 9)
	c := Variable("c", tensor.Must(tensor.New([]int{2}, []float32{1, 3})))
	gs, err = Gradient(ReduceSum(Maximum(c, Constant(tensor.Full(1, 2)))), c) // tie at c[0]
	if err != nil {
		t.Fatal(err)
	}
	expectData(t, "tie goes to the first input", gs[0], 1, 1)
}

func expectData(t *testing.T, what string, got *tensor.Tensor, want ...float32) {
	t.Helper()
	if got == nil || got.Len() != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i, v := range want {
		if got.Data()[i] != v {
			t.Fatalf("%s: got %v, want %v", what, got.Data(), want)
		}
	}
}

func TestCustomErrors(t *testing.T) {
	x := Variable("x", tensor.Ones(2))
	for _, tc := range []struct {
		name, want string
		back       func(g *tensor.Tensor) ([]*tensor.Tensor, error)
	}{
		{"count", "returned 2 gradients for 1 inputs", func(g *tensor.Tensor) ([]*tensor.Tensor, error) { return []*tensor.Tensor{g, g}, nil }},
		{"shape", "gradient 0 has shape [3]", func(g *tensor.Tensor) ([]*tensor.Tensor, error) { return []*tensor.Tensor{tensor.Zeros(3)}, nil }},
		{"error", "Custom Op backward: boom", func(g *tensor.Tensor) ([]*tensor.Tensor, error) { return nil, errors.New("boom") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := Custom("Op", tensor.Ones(2), []*Var{x}, tc.back)
			_, err := Gradient(ReduceSum(y), x)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if y := Custom("Op", nil, []*Var{x}, nil); y.Err() == nil {
		t.Error("Custom with a nil value: no error")
	}
	bad := Add(x, Variable("z", tensor.Ones(3)))
	if y := Custom("Op", tensor.Ones(2), []*Var{bad}, nil); y.Err() == nil || !errors.Is(y.Err(), bad.Err()) && y.Err() != bad.Err() {
		t.Errorf("Custom of a failed input: err = %v, want the input's", y.Err())
	}
	// A nil gradient means none; fan-out still adds the other path.
	y := Custom("Half", tensor.Ones(2), []*Var{x, x}, func(g *tensor.Tensor) ([]*tensor.Tensor, error) {
		return []*tensor.Tensor{g, nil}, nil
	})
	gs, err := Gradient(ReduceSum(Add(y, x)), x)
	if err != nil {
		t.Fatal(err)
	}
	expectData(t, "nil gradient plus fan-out", gs[0], 2, 2)
}

func TestInputs(t *testing.T) {
	a, b := Variable("a", tensor.Ones(2)), Constant(tensor.Ones(2))
	s := Add(a, b)
	y := Relu(s)
	if in := y.Inputs(); len(in) != 1 || in[0] != s {
		t.Errorf("Relu inputs = %v", in)
	}
	if in := s.Inputs(); len(in) != 2 || in[0] != a || in[1] != b {
		t.Errorf("Add inputs = %v", in)
	}
	if in := a.Inputs(); len(in) != 0 {
		t.Errorf("leaf inputs = %v", in)
	}
	s.Inputs()[0] = nil // a copy: the graph is unchanged
	if s.Inputs()[0] != a {
		t.Error("Inputs exposes the graph's slice")
	}
}

func TestShapeOpErrorsAreSticky(t *testing.T) {
	x := Variable("x", tensor.Ones(2, 3))
	for _, tc := range []struct {
		name, want string
		v          *Var
	}{
		{"Transpose", "not a permutation", Transpose(x, 0, 0)},
		{"Concat", "tensor 1 has shape", Concat(0, x, Variable("y", tensor.Ones(2, 2)))},
		{"Split", "do not add up", Split(x, []int{1, 1}, 1)[1]},
		{"Slice", "want 0 ≤ begin", Slice(x, []int{0, 2}, []int{1, 2})},
		{"Pad", "for REFLECT", Pad(x, [][2]int{{2, 0}, {0, 0}}, "REFLECT", 0)},
		{"ReduceMaxAxes", "axis 2 out of range", ReduceMaxAxes(x, []int{2}, false)},
		{"SoftmaxAxis", "axis -3 out of range", SoftmaxAxis(x, -3)},
		{"Div", "do not broadcast", Div(x, Variable("y", tensor.Ones(2)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Gradient(ReduceSum(tc.v), x)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.name) {
				t.Fatalf("err = %v, want one naming %s and containing %q", err, tc.name, tc.want)
			}
		})
	}
}

// TestBinaryOneSidedGradients: when only one input of Add, Sub, Mul or
// Div needs a gradient, the backward computes that one alone; it must
// have the bits of the gradient computed with both inputs wanted, with
// and without broadcasting on either side.
func TestBinaryOneSidedGradients(t *testing.T) {
	ops := map[string]func(a, b *Var) *Var{"Add": Add, "Sub": Sub, "Mul": Mul, "Div": Div}
	shapes := [][2][]int{{{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{1, 4}, {3, 1}}, {{2, 3, 4}, {3, 1}}}
	for name, op := range ops {
		for _, sh := range shapes {
			t.Run(fmt.Sprintf("%s/%v_%v", name, sh[0], sh[1]), func(t *testing.T) {
				a, b := Variable("a", uniform(1, sh[0]...)), Variable("b", positive(2, sh[1]...))
				loss := func() *Var { // a weighted sum, so each output has its own gradient
					y := op(a, b)
					return ReduceSum(Mul(y, Constant(uniform(3, y.Shape()...))))
				}
				both, err := Gradient(loss(), a, b)
				if err != nil {
					t.Fatal(err)
				}
				onlyA, err := Gradient(loss(), a)
				if err != nil {
					t.Fatal(err)
				}
				onlyB, err := Gradient(loss(), b)
				if err != nil {
					t.Fatal(err)
				}
				if !bitsSame(onlyA[0].Data(), both[0].Data()) {
					t.Errorf("∂/∂a alone %v, with ∂/∂b %v", onlyA[0].Data(), both[0].Data())
				}
				if !bitsSame(onlyB[0].Data(), both[1].Data()) {
					t.Errorf("∂/∂b alone %v, with ∂/∂a %v", onlyB[0].Data(), both[1].Data())
				}
			})
		}
	}
}

// TestCustomWeight: a CustomWeight's value is the caller's (Release
// recycles the graph around it but not its storage), a convolution reads its filter
// through it, and its backward reaches the inputs.
func TestCustomWeight(t *testing.T) {
	const f = 2 * pool.RecycleMin              // a filter Release would recycle
	defer pool.SetPoison(pool.SetPoison(true)) // what is recycled turns NaN
	k := Variable("k", tensor.Zeros(1, 1, 1, f))
	w := tensor.Zeros(1, 1, 1, f) // 3·k, kept by the caller
	for j := range f {
		k.value.Data()[j] = float32(j)
		w.Data()[j] = float32(3 * j)
	}
	p := nn.NewPacked(w)
	x := Constant(tensor.Ones(1, 2, 2, 1))
	check := func(what string, got *tensor.Tensor, want func(j int) float32) {
		t.Helper()
		for i, v := range got.Data() {
			if v != want(i%f) {
				t.Fatalf("%s[%d] = %v, want %v", what, i, v, want(i%f))
			}
		}
	}
	for range 3 {
		wv := CustomWeight("triple", p, []*Var{k}, func(g *tensor.Tensor) ([]*tensor.Tensor, error) {
			d := g.Clone()
			for i := range d.Data() {
				d.Data()[i] *= 3
			}
			return []*tensor.Tensor{d}, nil
		})
		y := Conv2D(x, wv, nn.ConvOptions{Padding: "VALID"})
		check("conv with the kept filter", y.Value(), func(j int) float32 { return float32(3 * j) })
		gs, err := Gradient(ReduceSum(y), k)
		if err != nil {
			t.Fatal(err)
		}
		check("dΣy/dk", gs[0], func(int) float32 { return 12 })
		Release(y)
		check("the kept filter after Release", w, func(j int) float32 { return float32(3 * j) })
	}
	if v := CustomWeight("same", p, []*Var{k}, func(*tensor.Tensor) ([]*tensor.Tensor, error) { return nil, nil }); v.Value() != w {
		t.Error("CustomWeight's value is not the Packed's tensor")
	}
	if v := CustomWeight("nil", nil, []*Var{k}, nil); v.Err() == nil {
		t.Error("CustomWeight with a nil Packed: no error")
	}
}
