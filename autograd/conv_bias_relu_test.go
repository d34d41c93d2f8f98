package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// TestConv2DBiasReluMatchesChain: the fused ops' values and their
// gradients with respect to input, filter and bias have the bits of
// Conv2D followed by BiasAddRelu (Conv2DBiasRelu) or BiasAdd
// (Conv2DBias), whose gradients the finite-difference tests check, on
// the Winograd path, the im2col path and channels-first, with the
// filter a Variable (packed forms) and an inner node.
func TestConv2DBiasReluMatchesChain(t *testing.T) {
	for i, tc := range []struct {
		name       string
		in, filter []int
		o          nn.ConvOptions
	}{
		{"winograd", []int{2, 6, 7, 8}, []int{5, 5, 8, 8}, nn.ConvOptions{Padding: "SAME"}},
		{"im2col strided", []int{2, 7, 6, 3}, []int{3, 3, 3, 4}, nn.ConvOptions{Padding: "VALID", Strides: []int{2}}},
		{"NCHW", []int{1, 3, 5, 4}, []int{3, 3, 3, 2}, nn.ConvOptions{Padding: "SAME", DataFormat: "NCHW"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tensor.NewRand(uint64(i + 1))
			xt, wt := tensor.Zeros(tc.in...), tensor.Zeros(tc.filter...)
			xt.RandNormal(r, 0, 1)
			wt.RandNormal(r, 0, 1)
			bt := tensor.Zeros(tc.filter[3])
			bt.RandNormal(r, 0, 1)
			format := tc.o.DataFormat
			// A loss that weighs every output differently.
			loss := func(y *Var) *Var {
				wts := tensor.Zeros(y.Value().Shape()...)
				wts.RandNormal(tensor.NewRand(99), 0, 1)
				return ReduceSum(Mul(y, Constant(wts)))
			}
			run := func(fused, relu, inner bool) (*tensor.Tensor, []*tensor.Tensor) {
				x, w, b := Variable("x", xt.Clone()), Variable("w", wt.Clone()), Variable("b", bt.Clone())
				wIn := w
				if inner {
					wIn = Scale(w, 1) // an inner node: no packed forms
				}
				var y *Var
				switch {
				case fused && relu:
					y = Conv2DBiasRelu(x, wIn, b, tc.o)
				case fused:
					y = Conv2DBias(x, wIn, b, tc.o)
				case relu:
					y = BiasAddRelu(Conv2D(x, wIn, tc.o), b, format)
				default:
					y = BiasAdd(Conv2D(x, wIn, tc.o), b, format)
				}
				grads, err := Gradient(loss(y), x, w, b)
				if err != nil {
					t.Fatal(err)
				}
				return y.Value(), grads
			}
			same := func(what string, a, b *tensor.Tensor) {
				t.Helper()
				for j, v := range a.Data() {
					if math.Float32bits(v) != math.Float32bits(b.Data()[j]) {
						t.Fatalf("%s[%d] = %v, chain gave %v", what, j, v, b.Data()[j])
					}
				}
			}
			for _, relu := range []bool{true, false} {
				for _, inner := range []bool{false, true} {
					y1, g1 := run(true, relu, inner)
					y0, g0 := run(false, relu, inner)
					what := fmt.Sprintf("relu=%v inner=%v ", relu, inner)
					same(what+"y", y1, y0)
					for k, name := range []string{"dx", "dw", "db"} {
						same(what+name, g1[k], g0[k])
					}
				}
			}
		})
	}
}

func TestConv2DBiasReluErrorsFlow(t *testing.T) {
	x := Variable("x", tensor.Zeros(1, 4, 4, 2))
	w := Variable("w", tensor.Zeros(3, 3, 2, 3))
	if err := Conv2DBiasRelu(x, w, Variable("b", tensor.Zeros(2)), nn.ConvOptions{}).Err(); err == nil {
		t.Fatal("a bias of the wrong length gave no error")
	}
	if err := Conv2DBiasRelu(x, w, nil, nn.ConvOptions{}).Err(); err == nil {
		t.Fatal("a nil bias gave no error")
	}
}

// TestPoolTakesConvBiasReluGradient: a max pool that alone reads a
// Conv2DBiasRelu's output takes the ReLU's and the bias's gradients into
// its own pass (fuse), and the gradients of input, filter and bias keep
// the bits of the ops one by one: the same graph with the convolution's
// output also requested (so that it needs its own gradient) and the
// chain Conv2D → BiasAddRelu → MaxPoolWithArgmax. When a second op reads
// the output, the pool does not fuse, and the gradient is the sum of
// both paths.
func TestPoolTakesConvBiasReluGradient(t *testing.T) {
	co := nn.ConvOptions{Padding: "SAME"}
	po := nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}
	r := tensor.NewRand(5)
	xt, wt, bt := tensor.Zeros(3, 9, 8, 4), tensor.Zeros(5, 5, 4, 16), tensor.Zeros(16)
	xt.RandNormal(r, 0, 1)
	wt.RandNormal(r, 0, 1)
	bt.RandNormal(r, 0, 1)
	wts := tensor.Zeros(3, 5, 4, 16)
	wts.RandNormal(r, 0, 1)
	type result struct {
		grads []*tensor.Tensor
		fused bool
	}
	run := func(how string) result {
		x, w, b := Variable("x", xt.Clone()), Variable("w", wt.Clone()), Variable("b", bt.Clone())
		var y *Var
		if how == "chain" {
			y = BiasAddRelu(Conv2D(x, w, co), b, "")
		} else {
			y = Conv2DBiasRelu(x, w, b, co)
		}
		p := MaxPoolWithArgmax(y, po)
		loss := ReduceSum(Mul(p, Constant(wts)))
		if how == "two uses" {
			loss = Add(loss, ReduceSum(Scale(y, 0.5)))
		}
		vars := []*Var{x, w, b}
		if how == "requested" {
			vars = append(vars, y)
		}
		grads, err := Gradient(loss, vars...)
		if err != nil {
			t.Fatal(err)
		}
		return result{grads[:3], p.backward.(*argmaxPoolVar).fuse}
	}
	same := func(what string, a, b []*tensor.Tensor) {
		t.Helper()
		for i := range a {
			for j, v := range a[i].Data() {
				if w := b[i].Data()[j]; math.Float32bits(v) != math.Float32bits(w) {
					t.Fatalf("%s: gradient %d [%d] = %v, want %v", what, i, j, v, w)
				}
			}
		}
	}
	fused, requested, chain := run("fused"), run("requested"), run("chain")
	if !fused.fused || requested.fused || chain.fused {
		t.Fatalf("fuse = %v (alone), %v (output requested), %v (chain); want true, false, false", fused.fused, requested.fused, chain.fused)
	}
	same("fused vs requested", fused.grads, requested.grads)
	same("fused vs chain", fused.grads, chain.grads)

	two := run("two uses")
	if two.fused {
		t.Fatal("fuse set although a second op reads the convolution's output")
	}
	// The bias gradient of the two paths: the pool's part plus 0.5 at
	// every positive output.
	y, err := nn.Conv2DBiasRelu(xt, wt, bt, co)
	if err != nil {
		t.Fatal(err)
	}
	var extra [16]float64
	for i, v := range y.Data() {
		if v > 0 {
			extra[i%16] += 0.5
		}
	}
	for c, g := range two.grads[2].Data() {
		if want := float64(fused.grads[2].Data()[c]) + extra[c]; !(math.Abs(float64(g)-want) <= 1e-3*max(1, math.Abs(want))) { // NaN fails too
			t.Fatalf("two uses: ∂/∂b[%d] = %v, want %v", c, g, want)
		}
	}
}

// TestPoolLeavesConvBiasAlone: a max pool reading a Conv2DBias (no ReLU)
// or a Conv2DBiasAddRelu (a skip) does not take its gradient into its own
// pass, which assumes a ReLU and no skip, and the gradients keep the
// bits of the ops in turn → pool.
func TestPoolLeavesConvBiasAlone(t *testing.T) {
	co := nn.ConvOptions{Padding: "SAME"}
	po := nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}
	r := tensor.NewRand(6)
	xt, wt, bt, st := tensor.Zeros(2, 8, 8, 8), tensor.Zeros(3, 3, 8, 16), tensor.Zeros(16), tensor.Zeros(2, 8, 8, 16)
	for _, v := range []*tensor.Tensor{xt, wt, bt, st} {
		v.RandNormal(r, 0, 1)
	}
	for _, join := range []bool{false, true} {
		run := func(fused bool) ([]*tensor.Tensor, bool) {
			x, w, b, s := Variable("x", xt.Clone()), Variable("w", wt.Clone()), Variable("b", bt.Clone()), Variable("s", st.Clone())
			var y *Var
			switch {
			case fused && join:
				y = Conv2DBiasAddRelu(x, w, b, s, co)
			case fused:
				y = Conv2DBias(x, w, b, co)
			case join:
				y = Relu(Add(BiasAdd(Conv2D(x, w, co), b, ""), s))
			default:
				y = BiasAdd(Conv2D(x, w, co), b, "")
			}
			p := MaxPoolWithArgmax(y, po)
			vars := []*Var{x, w, b}
			if join {
				vars = append(vars, s)
			}
			grads, err := Gradient(ReduceSum(Mul(p, p)), vars...)
			if err != nil {
				t.Fatal(err)
			}
			return grads, p.backward.(*argmaxPoolVar).fuse
		}
		got, fuse := run(true)
		want, _ := run(false)
		if fuse {
			t.Fatalf("join=%v: the pool fused the convolution's gradient", join)
		}
		for i := range want {
			for j, v := range got[i].Data() {
				if w := want[i].Data()[j]; math.Float32bits(v) != math.Float32bits(w) {
					t.Fatalf("join=%v: gradient %d [%d] = %v, chain gave %v", join, i, j, v, w)
				}
			}
		}
	}
}

// TestConv2DBiasAddReluMatchesChain: the residual join's value and the
// gradients of input, filter, bias and skip have the bits of Conv2D,
// BiasAdd, Add and Relu in turn, with the filter a Variable and an inner
// node, and with the skip also read elsewhere (its gradient a sum).
func TestConv2DBiasAddReluMatchesChain(t *testing.T) {
	co := nn.ConvOptions{Padding: "SAME"}
	r := tensor.NewRand(7)
	xt, wt, bt, st := tensor.Zeros(2, 9, 7, 8), tensor.Zeros(3, 3, 8, 16), tensor.Zeros(16), tensor.Zeros(2, 9, 7, 16)
	for _, v := range []*tensor.Tensor{xt, wt, bt, st} {
		v.RandNormal(r, 0, 1)
	}
	wts := tensor.Zeros(2, 9, 7, 16)
	wts.RandNormal(r, 0, 1)
	run := func(fused, inner, twice bool) (*tensor.Tensor, []*tensor.Tensor) {
		x, w, b, s := Variable("x", xt.Clone()), Variable("w", wt.Clone()), Variable("b", bt.Clone()), Variable("s", st.Clone())
		wIn := w
		if inner {
			wIn = Scale(w, 1)
		}
		skip := Scale(s, 2) // an inner node, so that its gradient is handed on
		var y *Var
		if fused {
			y = Conv2DBiasAddRelu(x, wIn, b, skip, co)
		} else {
			y = Relu(Add(BiasAdd(Conv2D(x, wIn, co), b, ""), skip))
		}
		loss := ReduceSum(Mul(y, Constant(wts)))
		if twice {
			loss = Add(loss, ReduceSum(Mul(skip, skip)))
		}
		grads, err := Gradient(loss, x, w, b, s)
		if err != nil {
			t.Fatal(err)
		}
		return y.Value(), grads
	}
	for _, inner := range []bool{false, true} {
		for _, twice := range []bool{false, true} {
			y1, g1 := run(true, inner, twice)
			y0, g0 := run(false, inner, twice)
			what := fmt.Sprintf("inner=%v twice=%v ", inner, twice)
			for k, pair := range [][2]*tensor.Tensor{{y1, y0}, {g1[0], g0[0]}, {g1[1], g0[1]}, {g1[2], g0[2]}, {g1[3], g0[3]}} {
				for j, v := range pair[0].Data() {
					if math.Float32bits(v) != math.Float32bits(pair[1].Data()[j]) {
						t.Fatalf("%s%s[%d] = %v, chain gave %v", what, []string{"y", "dx", "dw", "db", "ds"}[k], j, v, pair[1].Data()[j])
					}
				}
			}
		}
	}
	if err := Conv2DBiasAddRelu(Variable("x", xt), Variable("w", wt), Variable("b", bt), Variable("s", tensor.Zeros(2, 9, 7, 8)), co).Err(); err == nil {
		t.Error("a skip of the wrong shape: no error")
	}
}
