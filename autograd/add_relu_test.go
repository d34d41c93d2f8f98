package autograd

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestAddReluMatchesChain: AddRelu's value and gradients have the bits
// of Relu(Add(a, b)), for a residual join (the skip also read by a second
// branch), for an input used twice and for inputs reached again after
// the join, so that a later sum lands on the shared gradient.
func TestAddReluMatchesChain(t *testing.T) {
	shape := []int{3, 5, 7, 6}
	r := tensor.NewRand(5)
	at, bt := tensor.Zeros(shape...), tensor.Zeros(shape...)
	at.RandNormal(r, 0, 1)
	bt.RandNormal(r, 0, 1)
	at.Data()[3], bt.Data()[3] = float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))
	wts := tensor.Zeros(shape...)
	wts.RandNormal(tensor.NewRand(99), 0, 1)
	loss := func(y *Var) *Var { return ReduceSum(Mul(y, Constant(wts))) }
	for _, tc := range []struct {
		name  string
		graph func(join func(a, b *Var) *Var, a, b *Var) *Var
	}{
		{"join", func(join func(a, b *Var) *Var, a, b *Var) *Var { return join(a, b) }},
		{"skip read again", func(join func(a, b *Var) *Var, a, b *Var) *Var {
			return Add(join(Tanh(b), b), Mul(b, a))
		}},
		{"same input twice", func(join func(a, b *Var) *Var, a, b *Var) *Var { return join(a, a) }},
		{"two joins", func(join func(a, b *Var) *Var, a, b *Var) *Var {
			h := join(a, b)
			return join(join(h, a), Mul(h, b))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(fused bool) (*tensor.Tensor, []*tensor.Tensor) {
				a, b := Variable("a", at.Clone()), Variable("b", bt.Clone())
				join := func(x, y *Var) *Var { return Relu(Add(x, y)) }
				if fused {
					join = AddRelu
				}
				y := tc.graph(join, a, b)
				grads, err := Gradient(loss(y), a, b)
				if err != nil {
					t.Fatal(err)
				}
				return y.Value(), grads
			}
			y1, g1 := run(true)
			y0, g0 := run(false)
			same := func(what string, got, want *tensor.Tensor) {
				if (got == nil) != (want == nil) {
					t.Fatalf("%s = %v, chain gave %v", what, got, want)
				}
				if got == nil {
					return
				}
				for j, v := range got.Data() {
					if math.Float32bits(v) != math.Float32bits(want.Data()[j]) {
						t.Fatalf("%s[%d] = %v, chain gave %v", what, j, v, want.Data()[j])
					}
				}
			}
			same("y", y1, y0)
			same("da", g1[0], g0[0])
			same("db", g1[1], g0[1])
		})
	}
}

// A small case by hand: y = relu(a + b) = [0, 3, 0], and with loss
// Σ y·[1, 2, 3] both gradients are [0, 2, 0].
func TestAddReluByHand(t *testing.T) {
	a := Variable("a", tensor.Must(tensor.New([]int{3}, []float32{1, 2, -4})))
	b := Variable("b", tensor.Must(tensor.New([]int{3}, []float32{-1, 1, 3})))
	y := AddRelu(a, b)
	grads, err := Gradient(ReduceSum(Mul(y, Constant(tensor.Must(tensor.New([]int{3}, []float32{1, 2, 3}))))), a, b)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float32{0, 3, 0} {
		if got := y.Value().Data()[i]; got != want {
			t.Errorf("y[%d] = %v, want %v", i, got, want)
		}
	}
	for k, g := range grads {
		for i, want := range []float32{0, 2, 0} {
			if got := g.Data()[i]; got != want {
				t.Errorf("grad %d [%d] = %v, want %v", k, i, got, want)
			}
		}
	}
}

func TestAddReluShapes(t *testing.T) {
	y := AddRelu(Variable("a", tensor.Zeros(2, 3)), Variable("b", tensor.Zeros(3)))
	if err := y.Err(); err == nil || !strings.Contains(err.Error(), "[2 3]") || !strings.Contains(err.Error(), "[3]") {
		t.Fatalf("AddRelu of [2 3] and [3]: error %v, want one quoting both shapes", err)
	}
}
