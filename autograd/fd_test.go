package autograd

import (
	"math/rand/v2"
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Finite-difference checks through the whole graph: for every wrapped op,
// loss = Σ_j w_j·op(inputs)_j with fixed N(0,1) weights w (so every output
// element matters), differentiated by Gradient, against float64 central
// differences of the same loss.
//
// Tolerances. The forward pass runs in float32 (unit roundoff u = 2^-24
// ≈ 6e-8); the projection is accumulated in float64. An output that sums
// k ≲ 100 products of O(1) values carries an absolute error of about
// √k·u·|y| ≲ 1e-6, and Σ w·y over n ≲ 200 outputs about √n times that,
// ≲ 2e-5. Central differences divide the difference of two such values by
// 2ε, so with ε = 2^-6 the numeric derivative is off by up to ~1e-3 from
// roundoff alone; the truncation error ε²/6·|f”'| is ≲ 1e-4 for the smooth
// ops here and zero for the (bi)linear ones. Hence Atol 3e-3 and Rtol 1e-2
// (the analytic side is exact up to float32 roundoff, ≲ 1e-5). ε is a
// power of two so x ± ε is exact or within one float32 ulp, negligible
// against ε. A wrong gradient (a transposed filter, a missed fan-out term,
// a dropped stride) is off by O(1) and fails by orders of magnitude.
var fdOptions = gradcheck.Options{Eps: 1.0 / 64, Atol: 3e-3, Rtol: 1e-2}

// uniform returns a tensor of shape with values U[-1, 1) from seed.
func uniform(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	t.RandUniform(tensor.NewRand(seed), -1, 1)
	return t
}

// awayFromZero returns values ±U[0.2, 1): no element within 0.2 of the
// ReLU kink, far more than a perturbation of ε = 2^-6 can cross.
func awayFromZero(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	r := tensor.NewRand(seed)
	for i := range t.Data() {
		v := 0.2 + 0.8*r.Float64()
		if r.IntN(2) == 0 {
			v = -v
		}
		t.Data()[i] = float32(v)
	}
	return t
}

// smallBias returns [c] values 0.01, 0.02, …: added to awayFromZero
// values they keep every sum at least 0.1 from the ReLU kink.
func smallBias(c int) *tensor.Tensor {
	t := tensor.Zeros(c)
	for i := range t.Data() {
		t.Data()[i] = 0.01 * float32(i+1)
	}
	return t
}

// distinct returns a shuffled ladder of values 0.1 apart, so no max-pool
// window holds two values closer than 0.1 > 2ε: no ties, and no
// perturbation can change a window's argmax.
func distinct(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	d := t.Data()
	r := tensor.NewRand(seed)
	for i, j := range r.Perm(len(d)) {
		d[i] = float32(j-len(d)/2) * 0.1
	}
	return t
}

// fdCheck builds build(inputs) with every input a Variable, checks that
// it succeeds, and compares Gradient of Σ w·y with central differences
// for every element of every input.
func fdCheck(t *testing.T, build func(in []*Var) *Var, inputs ...*tensor.Tensor) {
	t.Helper()
	vars := make([]*Var, len(inputs))
	for i, x := range inputs {
		vars[i] = Variable("in", x)
	}
	y := build(vars)
	if y.Err() != nil {
		t.Fatalf("forward: %v", y.Err())
	}
	w := tensor.Zeros(y.Value().Shape()...)
	w.RandNormal(rand.New(rand.NewPCG(7, 11)), 0, 1)
	loss := ReduceSum(Mul(y, Constant(w)))
	grads, err := Gradient(loss, vars...)
	if err != nil {
		t.Fatalf("Gradient: %v", err)
	}
	for i, x := range inputs {
		if grads[i] == nil {
			t.Fatalf("input %d: nil gradient", i)
		}
		if !tensor.SameShape(grads[i].Shape(), x.Shape()) {
			t.Fatalf("input %d: gradient shape %v, want %v", i, grads[i].Shape(), x.Shape())
		}
		f := func(xi []float64) float64 {
			consts := make([]*Var, len(inputs))
			for k, in := range inputs {
				consts[k] = Constant(in)
			}
			p := tensor.Must(tensor.FromFloat64(x.Shape(), xi))
			consts[i] = Constant(p)
			out := build(consts)
			if out.Err() != nil {
				t.Fatalf("forward at a perturbed point: %v", out.Err())
			}
			var s float64
			for j, v := range out.Value().Data() {
				s += float64(w.Data()[j]) * float64(v)
			}
			return s
		}
		if err := gradcheck.Check(f, toFloat64(x.Data()), toFloat64(grads[i].Data()), fdOptions); err != nil {
			t.Errorf("input %d (shape %v): %v", i, x.Shape(), err)
		}
	}
}

func toFloat64(d []float32) []float64 {
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}

func TestFiniteDifferences(t *testing.T) {
	same2 := nn.ConvOptions{Strides: []int{2}, Padding: "SAME"}
	tests := []struct {
		name   string
		build  func(in []*Var) *Var
		inputs []*tensor.Tensor
	}{
		{"Add", func(in []*Var) *Var { return Add(in[0], in[1]) }, []*tensor.Tensor{uniform(1, 2, 3), uniform(2, 2, 3)}},
		{"Sub", func(in []*Var) *Var { return Sub(in[0], in[1]) }, []*tensor.Tensor{uniform(1, 2, 3), uniform(2, 2, 3)}},
		{"Mul", func(in []*Var) *Var { return Mul(in[0], in[1]) }, []*tensor.Tensor{uniform(1, 2, 3), uniform(2, 2, 3)}},
		{"MulSelf", func(in []*Var) *Var { return Mul(in[0], in[0]) }, []*tensor.Tensor{uniform(1, 5)}},
		{"Scale", func(in []*Var) *Var { return Scale(in[0], -1.5) }, []*tensor.Tensor{uniform(1, 4)}},
		{"ReduceSum", func(in []*Var) *Var { return ReduceSum(in[0]) }, []*tensor.Tensor{uniform(1, 2, 2)}},
		{"ReduceMean", func(in []*Var) *Var { return ReduceMean(in[0]) }, []*tensor.Tensor{uniform(1, 2, 3)}},
		{"Reshape", func(in []*Var) *Var { return Reshape(in[0], 3, -1) }, []*tensor.Tensor{uniform(1, 2, 3)}},

		{"Conv1D/SAME-stride2", func(in []*Var) *Var { return Conv1D(in[0], in[1], same2) },
			[]*tensor.Tensor{uniform(1, 2, 7, 3), uniform(2, 3, 3, 2)}},
		{"Conv2D/SAME-stride2", func(in []*Var) *Var { return Conv2D(in[0], in[1], same2) },
			[]*tensor.Tensor{uniform(1, 2, 5, 6, 3), uniform(2, 3, 3, 3, 2)}},
		{"Conv2D/VALID-dilated", func(in []*Var) *Var {
			return Conv2D(in[0], in[1], nn.ConvOptions{Padding: "VALID", Dilations: []int{2}})
		}, []*tensor.Tensor{uniform(1, 1, 6, 5, 2), uniform(2, 2, 2, 2, 3)}},
		{"Conv2D/EXPLICIT", func(in []*Var) *Var {
			return Conv2D(in[0], in[1], nn.ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{1, 0}, {2, 1}}})
		}, []*tensor.Tensor{uniform(1, 1, 4, 4, 2), uniform(2, 3, 2, 2, 2)}},
		{"Conv2D/NCHW", func(in []*Var) *Var {
			return Conv2D(in[0], in[1], nn.ConvOptions{Padding: "SAME", DataFormat: "NCHW"})
		}, []*tensor.Tensor{uniform(1, 1, 2, 4, 3), uniform(2, 3, 3, 2, 2)}},
		{"Conv3D/SAME", func(in []*Var) *Var { return Conv3D(in[0], in[1], nn.ConvOptions{Padding: "SAME"}) },
			[]*tensor.Tensor{uniform(1, 1, 3, 4, 3, 2), uniform(2, 2, 3, 2, 2, 2)}},
		{"DepthwiseConv2D/SAME-stride2", func(in []*Var) *Var { return DepthwiseConv2D(in[0], in[1], same2) },
			[]*tensor.Tensor{uniform(1, 2, 5, 5, 2), uniform(2, 3, 3, 2, 2)}},
		{"SeparableConv2D/SAME", func(in []*Var) *Var {
			return SeparableConv2D(in[0], in[1], in[2], nn.ConvOptions{Padding: "SAME"})
		}, []*tensor.Tensor{uniform(1, 1, 4, 5, 2), uniform(2, 3, 3, 2, 2), uniform(3, 1, 1, 4, 3)}},
		{"Conv2DTranspose/SAME-stride2", func(in []*Var) *Var {
			return Conv2DTranspose(in[0], in[1], []int{2, 6, 5, 2}, same2)
		}, []*tensor.Tensor{uniform(1, 2, 3, 3, 3), uniform(2, 3, 3, 2, 3)}},
		{"Conv2DTranspose/VALID", func(in []*Var) *Var {
			return Conv2DTranspose(in[0], in[1], []int{1, 5, 4, 2}, nn.ConvOptions{Padding: "VALID"})
		}, []*tensor.Tensor{uniform(1, 1, 3, 2, 3), uniform(2, 3, 3, 2, 3)}},

		{"MaxPool/2D-SAME", func(in []*Var) *Var {
			return MaxPool(in[0], nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"})
		}, []*tensor.Tensor{distinct(1, 2, 5, 5, 3)}},
		{"MaxPool/2D-VALID-overlap", func(in []*Var) *Var {
			return MaxPool(in[0], nn.PoolOptions{KSize: []int{3}, Strides: []int{1}, Padding: "VALID"})
		}, []*tensor.Tensor{distinct(2, 1, 4, 5, 2)}},
		{"MaxPool/1D", func(in []*Var) *Var {
			return MaxPool(in[0], nn.PoolOptions{KSize: []int{3}, Strides: []int{2}, Padding: "SAME"})
		}, []*tensor.Tensor{distinct(3, 2, 7, 2)}},
		{"MaxPool/3D", func(in []*Var) *Var {
			return MaxPool(in[0], nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"})
		}, []*tensor.Tensor{distinct(4, 1, 4, 4, 2, 2)}},
		{"BiasAddRelu/NHWC", func(in []*Var) *Var {
			return BiasAddRelu(in[0], in[1], "")
		}, []*tensor.Tensor{awayFromZero(1, 2, 3, 2, 4), smallBias(4)}},
		{"BiasAddRelu/NCHW", func(in []*Var) *Var {
			return BiasAddRelu(in[0], in[1], "NCHW")
		}, []*tensor.Tensor{awayFromZero(3, 2, 3, 2, 4), smallBias(3)}},
		{"MaxPoolWithArgmax/2D-SAME", func(in []*Var) *Var {
			return MaxPoolWithArgmax(in[0], nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"})
		}, []*tensor.Tensor{distinct(1, 2, 5, 5, 3)}},
		{"MaxPoolWithArgmax/2D-VALID-overlap-NCHW", func(in []*Var) *Var {
			return MaxPoolWithArgmax(in[0], nn.PoolOptions{KSize: []int{3}, Strides: []int{1}, Padding: "VALID", DataFormat: "NCHW"})
		}, []*tensor.Tensor{distinct(2, 2, 2, 4, 5)}},
		{"AvgPool/2D-SAME", func(in []*Var) *Var {
			return AvgPool(in[0], nn.PoolOptions{KSize: []int{3}, Strides: []int{2}, Padding: "SAME"})
		}, []*tensor.Tensor{uniform(1, 2, 5, 4, 3)}},
		{"AvgPool/3D-VALID", func(in []*Var) *Var {
			return AvgPool(in[0], nn.PoolOptions{KSize: []int{2}, Strides: []int{1}, Padding: "VALID"})
		}, []*tensor.Tensor{uniform(1, 1, 3, 3, 3, 2)}},

		{"MatMul/NN", func(in []*Var) *Var { return MatMul(in[0], in[1], false, false) }, []*tensor.Tensor{uniform(1, 3, 4), uniform(2, 4, 2)}},
		{"MatMul/NT", func(in []*Var) *Var { return MatMul(in[0], in[1], false, true) }, []*tensor.Tensor{uniform(1, 3, 4), uniform(2, 2, 4)}},
		{"MatMul/TN", func(in []*Var) *Var { return MatMul(in[0], in[1], true, false) }, []*tensor.Tensor{uniform(1, 4, 3), uniform(2, 4, 2)}},
		{"MatMul/TT", func(in []*Var) *Var { return MatMul(in[0], in[1], true, true) }, []*tensor.Tensor{uniform(1, 4, 3), uniform(2, 2, 4)}},
		{"BiasAdd/NHWC", func(in []*Var) *Var { return BiasAdd(in[0], in[1], "") }, []*tensor.Tensor{uniform(1, 2, 2, 3, 4), uniform(2, 4)}},
		{"BiasAdd/NCHW", func(in []*Var) *Var { return BiasAdd(in[0], in[1], "NCHW") }, []*tensor.Tensor{uniform(1, 2, 4, 3, 2), uniform(2, 4)}},

		{"Relu", func(in []*Var) *Var { return Relu(in[0]) }, []*tensor.Tensor{awayFromZero(1, 3, 5)}},
		{"LeakyRelu", func(in []*Var) *Var { return LeakyRelu(in[0], 0.2) }, []*tensor.Tensor{awayFromZero(1, 3, 5)}},
		{"Sigmoid", func(in []*Var) *Var { return Sigmoid(in[0]) }, []*tensor.Tensor{uniform(1, 3, 5)}},
		{"Tanh", func(in []*Var) *Var { return Tanh(in[0]) }, []*tensor.Tensor{uniform(1, 3, 5)}},
		{"Softmax", func(in []*Var) *Var { return Softmax(in[0]) }, []*tensor.Tensor{uniform(1, 3, 5)}},
		{"LogSoftmax", func(in []*Var) *Var { return LogSoftmax(in[0]) }, []*tensor.Tensor{uniform(1, 3, 5)}},
		{"SoftmaxCrossEntropyWithLogits", func(in []*Var) *Var {
			return SoftmaxCrossEntropyWithLogits(softLabels(3, 4), in[0])
		}, []*tensor.Tensor{uniform(1, 3, 4)}},
		{"SparseSoftmaxCrossEntropyWithLogits", func(in []*Var) *Var {
			return SparseSoftmaxCrossEntropyWithLogits([]int{2, 0, 3}, in[0])
		}, []*tensor.Tensor{uniform(1, 3, 4)}},
		{"SigmoidCrossEntropyWithLogits", func(in []*Var) *Var {
			labels := uniform(9, 3, 4)
			for i, v := range labels.Data() {
				labels.Data()[i] = (v + 1) / 2 // in [0, 1]
			}
			return SigmoidCrossEntropyWithLogits(labels, in[0])
		}, []*tensor.Tensor{uniform(1, 3, 4)}},
		{"Dropout/training", func(in []*Var) *Var { return Dropout(in[0], 0.4, 42, true) }, []*tensor.Tensor{uniform(1, 4, 5)}},
		{"Dropout/inference", func(in []*Var) *Var { return Dropout(in[0], 0.4, 42, false) }, []*tensor.Tensor{uniform(1, 4, 5)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { fdCheck(t, tc.build, tc.inputs...) })
	}
}

// softLabels returns [n,c] rows of a probability distribution.
func softLabels(n, c int) *tensor.Tensor {
	t := uniform(5, n, c)
	d := t.Data()
	for i := 0; i < n; i++ {
		row := d[i*c : (i+1)*c]
		var s float32
		for j := range row {
			row[j] = row[j] + 1.5
			s += row[j]
		}
		for j := range row {
			row[j] /= s
		}
	}
	return t
}

// TestFiniteDifferencesNetwork checks a small version of the lecture's
// network end to end: conv → ReLU → max-pool → flatten → dense → ReLU →
// dropout → dense → mean sparse cross-entropy, against every parameter.
// Kinks: central differences are only meaningful where no ±ε perturbation
// changes a ReLU's sign or a pooling window's argmax, so the test uses the
// first seed for which that holds at every one of the points gradcheck
// will evaluate (it checks them all, which costs ~250 tiny forward passes
// per seed).
func TestFiniteDifferencesNetwork(t *testing.T) {
	const (
		n, h, w, c = 2, 4, 4, 1
		k          = 3 // conv channels
		hidden     = 4
		classes    = 3
	)
	labels := []int{1, 2}
	// build returns the loss and a fingerprint of every kink decision:
	// the signs of both pre-activations and each pooling window's argmax.
	build := func(in []*Var) (*Var, string) {
		x, k1, b1, w2, b2, w3 := in[0], in[1], in[2], in[3], in[4], in[5]
		pre1 := BiasAdd(Conv2D(x, k1, nn.ConvOptions{Padding: "SAME"}), b1, "")
		p := MaxPool(Relu(pre1), nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"})
		pre2 := BiasAdd(MatMul(Reshape(p, n, -1), w2, false, false), b2, "")
		d := Dropout(Relu(pre2), 0.25, 3, true)
		logits := MatMul(d, w3, false, false)
		loss := ReduceMean(SparseSoftmaxCrossEntropyWithLogits(labels, logits))
		if loss.Err() != nil {
			return loss, ""
		}
		return loss, signs(pre1.Value()) + signs(pre2.Value()) + poolArgmax(pre1.Value().Data(), n, h, w, k)
	}
	var inputs []*tensor.Tensor
	found := false
	for seed := uint64(1); seed < 50 && !found; seed++ {
		inputs = []*tensor.Tensor{
			uniform(seed*10+1, n, h, w, c), uniform(seed*10+2, 3, 3, c, k), uniform(seed*10+3, k),
			uniform(seed*10+4, (h/2)*(w/2)*k, hidden), uniform(seed*10+5, hidden), uniform(seed*10+6, hidden, classes),
		}
		loss, base := build(constants(inputs))
		if loss.Err() != nil {
			t.Fatal(loss.Err())
		}
		found = stableUnderPerturbation(inputs, base, func(in []*Var) string { _, fp := build(in); return fp })
	}
	if !found {
		t.Fatal("no seed below 50 keeps every ±ε point on the same side of all ReLU and max-pool kinks")
	}
	fdCheck(t, func(in []*Var) *Var { l, _ := build(in); return l }, inputs...)
}

func constants(ts []*tensor.Tensor) []*Var {
	vs := make([]*Var, len(ts))
	for i, x := range ts {
		vs[i] = Constant(x)
	}
	return vs
}

// stableUnderPerturbation reports whether fingerprint(inputs with one
// element moved by ±ε) equals base for every element of every input.
func stableUnderPerturbation(inputs []*tensor.Tensor, base string, fingerprint func([]*Var) string) bool {
	for i, x := range inputs {
		for j := range x.Data() {
			for _, e := range []float32{float32(fdOptions.Eps), -float32(fdOptions.Eps)} {
				p := x.Clone()
				p.Data()[j] += e
				vs := constants(inputs)
				vs[i] = Constant(p)
				if fingerprint(vs) != base {
					return false
				}
			}
		}
	}
	return true
}

// signs returns '+' or '-' per element (zero counts as '-').
func signs(t *tensor.Tensor) string {
	b := make([]byte, t.Len())
	for i, v := range t.Data() {
		b[i] = '-'
		if v > 0 {
			b[i] = '+'
		}
	}
	return string(b)
}

// poolArgmax returns, for every 2x2/2 window of relu(pre) [n,h,w,k], the
// position (0-3) of its first largest value.
func poolArgmax(pre []float32, n, h, w, k int) string {
	var b []byte
	for bi := 0; bi < n; bi++ {
		for i := 0; i < h; i += 2 {
			for j := 0; j < w; j += 2 {
				for ch := 0; ch < k; ch++ {
					best, arg := float32(-1), 0
					for q := 0; q < 4; q++ {
						v := max(pre[((bi*h+i+q/2)*w+j+q%2)*k+ch], 0)
						if v > best {
							best, arg = v, q
						}
					}
					b = append(b, byte('0'+arg))
				}
			}
		}
	}
	return string(b)
}
