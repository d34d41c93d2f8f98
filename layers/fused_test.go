package layers

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// A network whose ReLUs the layers fuse with the bias (autograd.Relu
// given directly) and the same network with the ReLU hidden in a closure
// (not fused) give the same bits: outputs and every gradient, training
// (argmax pooling) and not.
func TestFusedPathsMatchUnfused(t *testing.T) {
	hidden := func(v *autograd.Var) *autograd.Var { return autograd.Relu(v) }
	build := func(act Activation) *Sequential {
		return NewSequential(
			NewConv2D("c1", Conv2DConfig{Filters: 5, KernelSize: []int{3}, Padding: "SAME", Activation: act, Seed: 3}),
			NewMaxPooling2D("p1", PoolConfig{PoolSize: []int{2}, Padding: "SAME"}),
			NewFlatten("f"),
			NewDense("d1", DenseConfig{Units: 7, Activation: act, Seed: 3}),
			NewDense("d2", DenseConfig{Units: 3, Seed: 3}),
		)
	}
	x := tensor.Zeros(4, 7, 9, 2)
	x.RandUniform(tensor.NewRand(5), -1, 1)
	sameBitsAsUnfused(t, x, func(fused bool) model {
		if fused {
			return build(autograd.Relu)
		}
		return build(hidden)
	})
}

// model is what sameBitsAsUnfused needs of a Sequential or a Model.
type model interface {
	Call(x *autograd.Var, ctx Context) *autograd.Var
	Variables() []*autograd.Var
}

// sameBitsAsUnfused runs build(true) and build(false) on x, training
// and not, and fails unless their outputs and the gradients of Σ y² with
// respect to their variables (paired by name: the two graphs may list
// their layers in different orders) have the same bits.
func sameBitsAsUnfused(t *testing.T, x *tensor.Tensor, build func(fused bool) model) {
	t.Helper()
	for _, training := range []bool{false, true} {
		var outs [2][]float32
		var grads [2][]*tensor.Tensor
		for i, fused := range []bool{true, false} {
			m := build(fused)
			y := m.Call(autograd.Constant(x), Context{Training: training})
			loss := autograd.ReduceSum(autograd.Mul(y, y))
			vs := m.Variables()
			g, err := autograd.Gradient(loss, vs...)
			if err != nil {
				t.Fatal(err)
			}
			order := make([]int, len(vs))
			for k := range order {
				order[k] = k
			}
			slices.SortFunc(order, func(a, b int) int { return strings.Compare(vs[a].Name(), vs[b].Name()) })
			for _, k := range order {
				grads[i] = append(grads[i], g[k])
			}
			outs[i] = y.Value().Data()
		}
		if len(grads[0]) != len(grads[1]) {
			t.Fatalf("training %v: %d variables fused, %d unfused", training, len(grads[0]), len(grads[1]))
		}
		same := func(what string, a, b []float32) {
			t.Helper()
			for j := range a {
				if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
					t.Fatalf("training %v: %s[%d]: fused %v, unfused %v", training, what, j, a[j], b[j])
				}
			}
		}
		same("output", outs[0], outs[1])
		for k := range grads[0] {
			same("gradient", grads[0][k].Data(), grads[1][k].Data())
		}
	}
}

// A residual network whose Add → ReLU joins run fused (planAddRelu) and
// the same network with a linear activation between each Add and its
// ReLU (not fused) give the same bits: outputs and every gradient,
// training and not. The first join adds three inputs, one of them read
// again after it.
func TestAddReluJoinsMatchUnfused(t *testing.T) {
	build := func(fused bool) *Model {
		join := func(name string, xs ...*Node) *Node {
			s := ApplyN(NewAdd(name+"_add"), xs...)
			if !fused {
				s = Apply(NewActivation(name+"_lin", "linear"), s)
			}
			return Apply(NewReLU(name+"_relu"), s)
		}
		conv := func(name string, x *Node) *Node {
			return Apply(NewConv2D(name, Conv2DConfig{Filters: 4, KernelSize: []int{3}, Padding: "SAME", Seed: 7}), x)
		}
		in := Input("x", 6, 5, 4)
		a := conv("a", in)
		h := join("j1", a, conv("b", a), in)
		h = join("j2", h, conv("c", h))
		out := Apply(NewDense("d", DenseConfig{Units: 3, Seed: 7}), Apply(NewFlatten("f"), join("j3", h, a)))
		m, err := NewModel("res", []*Node{in}, []*Node{out})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 3, false: 0}[fused]; len(m.addRelu) != want {
			t.Fatalf("fused %v: %d Add → ReLU joins planned, want %d", fused, len(m.addRelu), want)
		}
		return m
	}
	x := tensor.Zeros(3, 6, 5, 4)
	x.RandUniform(tensor.NewRand(5), -1, 1)
	sameBitsAsUnfused(t, x, func(fused bool) model { return build(fused) })
}

// A residual network whose batch norms before an Add → ReLU join train
// as one op with the skip (planBNJoins) and the same network with a
// linear activation after each such batch norm (not joined) give the
// same bits: outputs and every gradient, training and not. One join has
// its batch norm as the Add's second input, one a batch-normed
// projection as its skip.
func TestBNJoinsMatchUnfused(t *testing.T) {
	build := func(fused bool) *Model {
		bn := func(name string, x *Node) *Node {
			y := Apply(NewBatchNormalization(name, BatchNormConfig{}), x)
			if !fused {
				y = Apply(NewActivation(name+"_lin", "linear"), y)
			}
			return y
		}
		conv := func(name string, filters int, x *Node) *Node {
			return Apply(NewConv2D(name, Conv2DConfig{Filters: filters, KernelSize: []int{3}, Padding: "SAME", NoBias: true, Seed: 7}), x)
		}
		join := func(name string, xs ...*Node) *Node {
			return Apply(NewReLU(name+"_relu"), ApplyN(NewAdd(name+"_add"), xs...))
		}
		in := Input("x", 6, 5, 4)
		h := join("j1", bn("bn1", conv("c1", 4, in)), in)
		h = join("j2", h, bn("bn2", conv("c2", 4, h)))
		proj := Apply(NewBatchNormalization("bnp", BatchNormConfig{}), conv("p", 8, h))
		h = join("j3", bn("bn3", conv("c3", 8, h)), proj)
		out := Apply(NewDense("d", DenseConfig{Units: 3, Seed: 7}), Apply(NewFlatten("f"), h))
		m, err := NewModel("res", []*Node{in}, []*Node{out})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 3, false: 1}[fused]; len(m.bnJoins) != want {
			t.Fatalf("fused %v: %d batch-norm joins planned, want %d", fused, len(m.bnJoins), want)
		}
		return m
	}
	x := tensor.Zeros(3, 6, 5, 4)
	x.RandUniform(tensor.NewRand(5), -1, 1)
	sameBitsAsUnfused(t, x, func(fused bool) model { return build(fused) })
}

// Networks whose batch norm → ReLU → Conv2D (no bias) chains train as
// one op (planBNReluConv, seqBNReluConv) and the same networks with a
// linear activation between each such ReLU and its convolution give
// the same bits: outputs and every gradient, training and not. The
// functional one is two residual blocks (16 channels, 3×3: the Winograd
// path), the second convolution of each fused; the Sequential has a
// strided and a biased convolution too, the first fused and the second
// not.
func TestBNReluConvMatchesUnfused(t *testing.T) {
	lin := func(fused bool, name string, x *Node) *Node {
		if fused {
			return x
		}
		return Apply(NewActivation(name+"_lin", "linear"), x)
	}
	buildModel := func(fused bool) *Model {
		conv := func(name string, x *Node) *Node {
			return Apply(NewConv2D(name, Conv2DConfig{Filters: 16, KernelSize: []int{3}, Padding: "SAME", NoBias: true, Seed: 7}), x)
		}
		bnRelu := func(name string, x *Node) *Node {
			return Apply(NewReLU(name+"_relu"), Apply(NewBatchNormalization(name, BatchNormConfig{}), x))
		}
		in := Input("x", 12, 12, 16)
		h := in
		for _, b := range []string{"b1", "b2"} {
			y := lin(fused, b+"r1", bnRelu(b+"bn1", conv(b+"c1", h)))
			y = Apply(NewBatchNormalization(b+"bn2", BatchNormConfig{}), conv(b+"c2", y))
			h = Apply(NewReLU(b+"_relu"), ApplyN(NewAdd(b+"_add"), y, h))
		}
		out := Apply(NewDense("d", DenseConfig{Units: 3, Seed: 7}), Apply(NewGlobalAveragePooling2D("gap"), h))
		m, err := NewModel("res", []*Node{in}, []*Node{out})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 2, false: 0}[fused]; len(m.bnReluConv) != want {
			t.Fatalf("fused %v: %d batch norm → ReLU → convolution chains planned, want %d", fused, len(m.bnReluConv), want)
		}
		return m
	}
	x := tensor.Zeros(3, 12, 12, 16)
	x.RandUniform(tensor.NewRand(5), -1, 1)
	sameBitsAsUnfused(t, x, func(fused bool) model { return buildModel(fused) })

	buildSeq := func(fused bool) *Sequential {
		ls := []Layer{
			NewConv2D("c1", Conv2DConfig{Filters: 16, KernelSize: []int{3}, Padding: "SAME", NoBias: true, Seed: 7}),
			NewBatchNormalization("bn1", BatchNormConfig{}), NewReLU("r1"),
		}
		if !fused {
			ls = append(ls, NewActivation("r1_lin", "linear"))
		}
		ls = append(ls,
			NewConv2D("c2", Conv2DConfig{Filters: 8, KernelSize: []int{3}, Strides: []int{2}, Padding: "SAME", NoBias: true, Seed: 7}),
			NewBatchNormalization("bn2", BatchNormConfig{}), NewReLU("r2"),
			NewConv2D("c3", Conv2DConfig{Filters: 8, KernelSize: []int{3}, Padding: "SAME", Seed: 7}),
			NewFlatten("f"), NewDense("d", DenseConfig{Units: 3, Seed: 7}))
		return NewSequential(ls...)
	}
	if !seqBNReluConv(buildSeq(true).layers[1:]) || seqBNReluConv(buildSeq(true).layers[5:]) {
		t.Fatal("the Sequential's plan: want bn1 → r1 → c2 fused, bn2 → r2 → c3 (a bias) not")
	}
	x = tensor.Zeros(2, 9, 9, 4)
	x.RandUniform(tensor.NewRand(6), -1, 1)
	sameBitsAsUnfused(t, x, func(fused bool) model { return buildSeq(fused) })
}
