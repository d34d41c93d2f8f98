package autograd

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

func vec(vals ...float32) *tensor.Tensor {
	return tensor.Must(tensor.New([]int{len(vals)}, vals))
}

func approxEqual(t *testing.T, what string, got *tensor.Tensor, want []float64, tol float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil tensor, want %v", what, want)
	}
	if got.Len() != len(want) {
		t.Fatalf("%s: %d values (shape %v), want %d", what, got.Len(), got.Shape(), len(want))
	}
	for i, g := range got.Data() {
		if math.Abs(float64(g)-want[i]) > tol {
			t.Fatalf("%s[%d] = %g, want %g (all: %v)", what, i, g, want[i], got.Data())
		}
	}
}

// y = Σ(x·x + x) uses x three times; its gradient is 2x + 1.
func TestFanOut(t *testing.T) {
	x := Variable("x", vec(-2, 0.5, 3))
	loss := ReduceSum(Add(Mul(x, x), x))
	approxEqual(t, "loss", loss.Value(), []float64{4 - 2 + 0.25 + 0.5 + 9 + 3}, 1e-6)
	g, err := Gradient(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "dx", g[0], []float64{-3, 2, 7}, 1e-6)
}

// Hand-worked gradients of the inline ops, each reduced to a scalar.
func TestInlineOpsByHand(t *testing.T) {
	a := vec(1, -2, 3)
	b := vec(4, 5, -6)
	tests := []struct {
		name   string
		loss   func(a, b *Var) *Var
		value  float64
		da, db []float64
	}{
		{"Add", func(a, b *Var) *Var { return ReduceSum(Add(a, b)) }, 5, []float64{1, 1, 1}, []float64{1, 1, 1}},
		{"Sub", func(a, b *Var) *Var { return ReduceSum(Sub(a, b)) }, -1, []float64{1, 1, 1}, []float64{-1, -1, -1}},
		{"Mul", func(a, b *Var) *Var { return ReduceSum(Mul(a, b)) }, 4 - 10 - 18, []float64{4, 5, -6}, []float64{1, -2, 3}},
		{"Scale", func(a, b *Var) *Var { return ReduceSum(Scale(a, -0.5)) }, -1, []float64{-0.5, -0.5, -0.5}, nil},
		{"ReduceMean", func(a, b *Var) *Var { return ReduceMean(Mul(a, a)) }, 14.0 / 3, []float64{2.0 / 3, -4.0 / 3, 2}, nil},
		{"Reshape", func(a, b *Var) *Var {
			return ReduceSum(Mul(Reshape(a, 1, 3), Reshape(b, 1, -1)))
		}, -24, []float64{4, 5, -6}, []float64{1, -2, 3}},
		{"SubSelf", func(a, b *Var) *Var { return ReduceSum(Mul(Sub(a, a), b)) }, 0, []float64{0, 0, 0}, []float64{0, 0, 0}},
		{"AddSelfTwice", func(a, b *Var) *Var { return ReduceSum(Add(Add(a, a), a)) }, 6, []float64{3, 3, 3}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			va, vb := Variable("a", a), Variable("b", b)
			loss := tc.loss(va, vb)
			approxEqual(t, "loss", loss.Value(), []float64{tc.value}, 1e-5)
			g, err := Gradient(loss, va, vb)
			if err != nil {
				t.Fatal(err)
			}
			approxEqual(t, "da", g[0], tc.da, 1e-6)
			if tc.db == nil {
				if g[1] != nil {
					t.Fatalf("db = %v, want nil (b unused)", g[1])
				}
				return
			}
			approxEqual(t, "db", g[1], tc.db, 1e-6)
		})
	}
}

// A tiny dense layer worked by hand:
// x = [[1, 2]], W = [[1, -1], [0.5, 2]], b = [0.5, -4]
// z = x·W + b = [2+0.5, 3-4] = [2.5, -1]; r = relu(z) = [2.5, 0]
// loss = Σ r·[1, 3] = 2.5
// ∂/∂r = [1, 3]; ∂/∂z = [1, 0]; ∂/∂b = [1, 0];
// ∂/∂W = xᵀ·∂z = [[1, 0], [2, 0]]; ∂/∂x = ∂z·Wᵀ = [1, 0.5].
func TestDenseReluByHand(t *testing.T) {
	x := Variable("x", tensor.Must(tensor.New([]int{1, 2}, []float32{1, 2})))
	w := Variable("w", tensor.Must(tensor.New([]int{2, 2}, []float32{1, -1, 0.5, 2})))
	b := Variable("b", vec(0.5, -4))
	proj := Constant(tensor.Must(tensor.New([]int{1, 2}, []float32{1, 3})))
	r := Relu(BiasAdd(MatMul(x, w, false, false), b, ""))
	loss := ReduceSum(Mul(r, proj))
	if loss.Err() != nil {
		t.Fatal(loss.Err())
	}
	approxEqual(t, "relu", r.Value(), []float64{2.5, 0}, 1e-6)
	approxEqual(t, "loss", loss.Value(), []float64{2.5}, 1e-6)
	g, err := Gradient(loss, x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "dx", g[0], []float64{1, 0.5}, 1e-6)
	approxEqual(t, "dw", g[1], []float64{1, 0, 2, 0}, 1e-6)
	approxEqual(t, "db", g[2], []float64{1, 0}, 1e-6)
}

func TestUnusedVarGetsNil(t *testing.T) {
	x := Variable("x", vec(1, 2))
	unused := Variable("unused", vec(3))
	other := Variable("other", vec(4, 5))
	_ = Mul(other, other) // a graph that does not feed the loss
	loss := ReduceSum(Scale(x, 2))
	g, err := Gradient(loss, unused, x, other)
	if err != nil {
		t.Fatal(err)
	}
	if g[0] != nil || g[2] != nil {
		t.Fatalf("gradients of unused vars = %v, %v; want nil, nil", g[0], g[2])
	}
	approxEqual(t, "dx", g[1], []float64{2, 2}, 0)
}

func TestStickyErrors(t *testing.T) {
	x := Variable("x", vec(1, 2, 3))
	y := Variable("y", vec(1, 2))
	bad := Add(x, y) // shapes [3] and [2]
	if bad.Err() == nil || bad.Value() != nil {
		t.Fatalf("Add of shapes [3], [2]: err %v, value %v; want an error and no value", bad.Err(), bad.Value())
	}
	for _, want := range []string{"Add", "[3]", "[2]"} {
		if !strings.Contains(bad.Err().Error(), want) {
			t.Errorf("error %q does not quote %q", bad.Err(), want)
		}
	}
	// Every op downstream carries the same error instead of panicking.
	chain := []*Var{
		Mul(bad, x), Relu(bad), Conv2D(bad, x, nn.ConvOptions{}), MaxPool(bad, nn.PoolOptions{}), MaxPoolWithArgmax(bad, nn.PoolOptions{}), BiasAddRelu(bad, x, ""),
		MatMul(x, bad, false, false), SoftmaxCrossEntropyWithLogits(vec(1), bad), Dropout(bad, 0.5, 1, true),
		SeparableConv2D(x, bad, y, nn.ConvOptions{}), Conv2DTranspose(bad, x, []int{1}, nn.ConvOptions{}),
		ReduceMean(Reshape(bad, -1)),
	}
	for _, v := range chain {
		if v.Err() != bad.Err() {
			t.Errorf("%s: err %v, want the sticky %v", v.Name(), v.Err(), bad.Err())
		}
	}
	loss := ReduceSum(Scale(Mul(bad, x), 2))
	if _, err := Gradient(loss, x); err == nil || err != bad.Err() {
		t.Fatalf("Gradient: err %v, want %v", err, bad.Err())
	}
}

func TestBadInputsAreErrors(t *testing.T) {
	x := Variable("x", vec(1, 2, 3))
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"NilVariable", func() error { return Variable("w", nil).Err() }, `"w"`},
		{"NilConstant", func() error { return Constant(nil).Err() }, "nil"},
		{"NilInput", func() error { return Add(x, nil).Err() }, "input 1 is nil"},
		{"ReshapeCount", func() error { return Reshape(x, 2, 2).Err() }, "[2 2]"},
		{"NilLabels", func() error { return SigmoidCrossEntropyWithLogits(nil, x).Err() }, "nil labels"},
		{"LossNotScalar", func() error { _, err := Gradient(x, x); return err }, "shape [3]"},
		{"NilLoss", func() error { _, err := Gradient(nil, x); return err }, "nil loss"},
		{"NilVar", func() error { _, err := Gradient(ReduceSum(x), x, nil); return err }, "var 1 is nil"},
		{"ZeroVarInput", func() error { return Relu(&Var{}).Err() }, "zero Var"},
		{"ZeroVarLoss", func() error { _, err := Gradient(&Var{}, x); return err }, "zero Var"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// Gradients must not alias each other or the values, and state must not
// leak from one Gradient call into the next.
func TestGradientsAreFreshAndRepeatable(t *testing.T) {
	x := Variable("x", vec(1, 2))
	r := Reshape(x, 2, 1)
	loss := ReduceSum(Add(r, r))
	g1, err := Gradient(loss, x, x, r)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "dx", g1[0], []float64{2, 2}, 0)
	approxEqual(t, "dx again", g1[1], []float64{2, 2}, 0)
	approxEqual(t, "dr", g1[2], []float64{2, 2}, 0)
	g1[0].Data()[0] = 100
	if g1[1].Data()[0] != 2 || g1[2].Data()[0] != 2 {
		t.Fatalf("writing one gradient changed another: %v %v", g1[1], g1[2])
	}
	g2, err := Gradient(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "dx second call", g2[0], []float64{2, 2}, 0)
	// The loss itself: its gradient is the seed, 1.
	g3, err := Gradient(loss, loss)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "dloss", g3[0], []float64{1}, 0)
}

// Gradients flow only toward requested vars: the constant's branch is
// never differentiated, which matters for the first conv of a network.
func TestOnlyNeededBranchesRun(t *testing.T) {
	c := Constant(vec(1, 2))
	x := Variable("x", vec(3, 4))
	calls := 0
	spy := &Var{value: c.value, name: "spy", parents: []*Var{c}, backward: backFunc(func(*tensor.Tensor) error {
		calls++
		return nil
	})}
	loss := ReduceSum(Mul(spy, x))
	g, err := Gradient(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "dx", g[0], []float64{1, 2}, 0)
	if calls != 0 {
		t.Fatalf("backward of a branch with no requested var ran %d times", calls)
	}
}

// A deep chain must not overflow the stack in the topological sort.
func TestDeepChain(t *testing.T) {
	x := Variable("x", vec(1))
	y := x
	const depth = 100000
	for range depth {
		y = Add(y, x)
	}
	g, err := Gradient(ReduceSum(y), x)
	if err != nil {
		t.Fatal(err)
	}
	approxEqual(t, "dx", g[0], []float64{depth + 1}, 0)
}

func TestFailedCarriesItsError(t *testing.T) {
	want := errors.New("layer conv9: 3 input channels, kernel built for 1")
	x := Variable("x", tensor.Ones(2))
	y := ReduceSum(Mul(Failed(want), x))
	if !errors.Is(y.Err(), want) {
		t.Fatalf("Err() = %v, want %v", y.Err(), want)
	}
	if _, err := Gradient(y, x); !errors.Is(err, want) {
		t.Fatalf("Gradient error = %v, want %v", err, want)
	}
}

// TestAccumulateWritesOnlyOwnedStorage covers the four cases of
// accumulate: the sum is right, it lands in an owned operand when there
// is one, and a shared operand (a gradient another Var also holds) is
// never written.
func TestAccumulateWritesOnlyOwnedStorage(t *testing.T) {
	n := 2 * 4096 // above pool.RecycleMin, so an owned g may be recycled
	fill := func(v float32) *tensor.Tensor {
		return tensor.Full(v, n)
	}
	for _, tc := range []struct {
		name                    string
		firstShared, nextShared bool
		wantInFirst, wantInNext bool // which operand's storage holds the sum
	}{
		{"owned+owned", false, false, true, false},
		{"owned+shared", false, true, true, false},
		{"shared+owned", true, false, false, true},
		{"shared+shared", true, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, next := fill(1.5), fill(2.25)
			v := &Var{}
			accumulate(v, first, tc.firstShared)
			accumulate(v, next, tc.nextShared)
			for i, x := range v.grad.Data() {
				if x != 3.75 {
					t.Fatalf("sum[%d] = %v, want 3.75", i, x)
				}
			}
			if v.gradShared {
				t.Errorf("gradShared = true after a sum, want false")
			}
			if got := sameData(v.grad, first); got != tc.wantInFirst {
				t.Errorf("sum in first operand's storage = %v, want %v", got, tc.wantInFirst)
			}
			if !tc.wantInNext && !tc.nextShared {
				return // next was recycled: its contents are the pool's now
			}
			if got := sameData(v.grad, next); got != tc.wantInNext {
				t.Errorf("sum in next operand's storage = %v, want %v", got, tc.wantInNext)
			}
			if tc.firstShared && first.Data()[0] != 1.5 {
				t.Errorf("shared first operand was written: %v", first.Data()[0])
			}
			if tc.nextShared && next.Data()[0] != 2.25 {
				t.Errorf("shared next operand was written: %v", next.Data()[0])
			}
		})
	}
}
