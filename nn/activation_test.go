package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/tensor"
)

func opsT(shape []int, v ...float32) *tensor.Tensor { return tensor.Must(tensor.New(shape, v)) }

func TestActivationsByHand(t *testing.T) {
	x := opsT([]int{5}, -2, -0.5, 0, 0.5, 3)
	e := func(v float64) float32 { return float32(v) }
	for _, tc := range []struct {
		name string
		got  *tensor.Tensor
		want []float32
	}{
		{"Relu", Relu(x), []float32{0, 0, 0, 0.5, 3}},
		{"LeakyRelu 0.2", LeakyRelu(x, 0.2), []float32{-0.4, -0.1, 0, 0.5, 3}},
		{"Sigmoid", Sigmoid(x), []float32{e(1 / (1 + math.Exp(2))), e(1 / (1 + math.Exp(0.5))), 0.5, e(1 / (1 + math.Exp(-0.5))), e(1 / (1 + math.Exp(-3)))}},
		{"Tanh", Tanh(x), []float32{e(math.Tanh(-2)), e(math.Tanh(-0.5)), 0, e(math.Tanh(0.5)), e(math.Tanh(3))}},
		{"Sigmoid saturates without NaN", Sigmoid(opsT([]int{2}, -1000, 1000)), []float32{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tensor.SameShape(tc.got.Shape(), []int{len(tc.want)}) {
				t.Fatalf("shape %v", tc.got.Shape())
			}
			opsClose(t, tc.name, tc.got.Data(), tc.want, 1e-7)
		})
	}
	t.Run("Relu keeps NaN", func(t *testing.T) {
		if v := Relu(opsT([]int{1}, float32(math.NaN()))).Data()[0]; !math.IsNaN(float64(v)) {
			t.Errorf("Relu(NaN) = %v, want NaN as in TF", v)
		}
	})
	t.Run("grads", func(t *testing.T) {
		g := opsT([]int{5}, 1, 2, 3, 4, 5)
		rg, err := ReluGrad(g, x)
		if err != nil {
			t.Fatal(err)
		}
		opsClose(t, "ReluGrad", rg.Data(), []float32{0, 0, 0, 4, 5}, 0)
		lg, err := LeakyReluGrad(g, x, 0.2)
		if err != nil {
			t.Fatal(err)
		}
		opsClose(t, "LeakyReluGrad", lg.Data(), []float32{0.2, 0.4, 0.6, 4, 5}, 1e-7)
		sg, err := SigmoidGrad(opsT([]int{5}, 0.5, 0.5, 0.5, 0.5, 0.5), g)
		if err != nil {
			t.Fatal(err)
		}
		opsClose(t, "SigmoidGrad", sg.Data(), []float32{0.25, 0.5, 0.75, 1, 1.25}, 1e-7)
		tg, err := TanhGrad(opsT([]int{5}, 0, 0.5, -0.5, 1, 0), g)
		if err != nil {
			t.Fatal(err)
		}
		opsClose(t, "TanhGrad", tg.Data(), []float32{1, 1.5, 2.25, 0, 5}, 1e-7)
	})
}

func TestSoftmaxByHand(t *testing.T) {
	// softmax([1, 2, 3]) = [1, e, e²]/(1 + e + e²).
	s := 1 + math.E + math.E*math.E
	want := []float32{float32(1 / s), float32(math.E / s), float32(math.E * math.E / s)}
	logWant := []float32{float32(-math.Log(s)), float32(1 - math.Log(s)), float32(2 - math.Log(s))}
	for _, tc := range []struct {
		name   string
		logits *tensor.Tensor
		want   []float32
		log    []float32
	}{
		{"[1 2 3]", opsT([]int{3}, 1, 2, 3), want, logWant},
		{"shift invariant at 1000", opsT([]int{1, 3}, 1001, 1002, 1003), want, logWant},
		{"two rows of a rank 3", opsT([]int{2, 1, 3}, 1, 2, 3, -3, -2, -1), append(append([]float32{}, want...), want...), append(append([]float32{}, logWant...), logWant...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := Softmax(tc.logits)
			if err != nil {
				t.Fatal(err)
			}
			opsClose(t, "Softmax", y.Data(), tc.want, 1e-6)
			ly, err := LogSoftmax(tc.logits)
			if err != nil {
				t.Fatal(err)
			}
			opsClose(t, "LogSoftmax", ly.Data(), tc.log, 1e-6)
		})
	}
	t.Run("errors", func(t *testing.T) {
		if _, err := Softmax(tensor.Zeros()); err == nil || !strings.Contains(err.Error(), "[]") {
			t.Errorf("Softmax of a scalar: %v, want an error quoting the shape", err)
		}
		if _, err := SoftmaxGrad(tensor.Zeros(2, 3), tensor.Zeros(3, 2)); err == nil || !strings.Contains(err.Error(), "[3 2]") {
			t.Errorf("SoftmaxGrad of mismatched shapes: %v", err)
		}
		if _, err := LogSoftmaxGrad(tensor.Zeros(2, 3), nil); err == nil {
			t.Error("LogSoftmaxGrad with a nil grad succeeded")
		}
	})
}

func TestElementwiseShapeErrors(t *testing.T) {
	a, b := tensor.Zeros(2, 3), tensor.Zeros(3, 2)
	for name, f := range map[string]func() (*tensor.Tensor, error){
		"ReluGrad":      func() (*tensor.Tensor, error) { return ReluGrad(a, b) },
		"LeakyReluGrad": func() (*tensor.Tensor, error) { return LeakyReluGrad(a, b, 0.1) },
		"SigmoidGrad":   func() (*tensor.Tensor, error) { return SigmoidGrad(a, b) },
		"TanhGrad":      func() (*tensor.Tensor, error) { return TanhGrad(a, b) },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f()
			if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "[2 3]") || !strings.Contains(err.Error(), "[3 2]") {
				t.Errorf("error %v, want one naming %s and both shapes", err, name)
			}
		})
	}
}

// opsAwayFromZero returns n float64 values in ±[0.1, 2), clear of the
// kinks of Relu-like functions.
func opsAwayFromZero(n int, seed uint64) []float64 {
	r := tensor.NewRand(seed)
	x := make([]float64, n)
	for i := range x {
		x[i] = 0.1 + 1.9*r.Float64()
		if r.IntN(2) == 0 {
			x[i] = -x[i]
		}
	}
	return x
}

// The float64 instances of the kernels the exported ops run, checked
// against central differences of a random projection.
func TestActivationGradcheck(t *testing.T) {
	const rows, l = 3, 7
	n := rows * l
	apply := func(k func(dst, x []float64)) func([]float64) []float64 {
		return func(x []float64) []float64 { y := make([]float64, len(x)); k(y, x); return y }
	}
	for i, tc := range []struct {
		name string
		fwd  func([]float64) []float64
		// back returns the input gradient from x, y = fwd(x) and the output gradient w.
		back func(x, y, w []float64) []float64
	}{
		{"Relu", apply(reluKernel[float64]), func(x, _, w []float64) []float64 { d := make([]float64, n); reluGradKernel(d, w, x); return d }},
		{"LeakyRelu", apply(func(d, x []float64) { leakyReluKernel(d, x, 0.2) }), func(x, _, w []float64) []float64 {
			d := make([]float64, n)
			leakyReluGradKernel(d, w, x, 0.2)
			return d
		}},
		{"Sigmoid", apply(sigmoidKernel[float64]), func(_, y, w []float64) []float64 { d := make([]float64, n); sigmoidGradKernel(d, y, w); return d }},
		{"Tanh", apply(tanhKernel[float64]), func(_, y, w []float64) []float64 { d := make([]float64, n); tanhGradKernel(d, y, w); return d }},
		{"Softmax", apply(func(d, x []float64) { softmaxKernel(d, x, l) }), func(_, y, w []float64) []float64 {
			d := make([]float64, n)
			softmaxGradKernel(d, y, w, l)
			return d
		}},
		{"LogSoftmax", apply(func(d, x []float64) { logSoftmaxKernel(d, x, l) }), func(_, y, w []float64) []float64 {
			d := make([]float64, n)
			logSoftmaxGradKernel(d, y, w, l)
			return d
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := opsAwayFromZero(n, uint64(i))
			w, f := gradcheck.Project(n, uint64(i)+50, tc.fwd)
			if err := gradcheck.Check(f, x, tc.back(x, tc.fwd(x), w), gradcheck.Options{}); err != nil {
				t.Error(err)
			}
		})
	}
}

// Relu and its gradient on the lecture's first conv output, [128, 28, 28, 32].
func BenchmarkReluLecture(b *testing.B) {
	shape := []int{128, 28, 28, 32}
	x := tensor.Must(tensor.New(shape, opsRandom(tensor.Size(shape), 1)))
	g := tensor.Must(tensor.New(shape, opsRandom(tensor.Size(shape), 2)))
	b.Run("Relu", func(b *testing.B) {
		b.SetBytes(int64(8 * x.Len()))
		for b.Loop() {
			Relu(x)
		}
	})
	b.Run("ReluGrad", func(b *testing.B) {
		b.SetBytes(int64(12 * x.Len()))
		for b.Loop() {
			if _, err := ReluGrad(g, x); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestAddRelu: AddRelu gives the bits of Relu(Add(a, b)) (NaN, ±0,
// ±Inf included) at lengths around its block and the workers' split.
func TestAddRelu(t *testing.T) {
	for _, n := range []int{1, 17, addReluBlock + 3, 3*elemMinPer + 5} {
		r := tensor.NewRand(uint64(n))
		a, b := tensor.Zeros(n), tensor.Zeros(n)
		a.RandNormal(r, 0, 1)
		b.RandNormal(r, 0, 1)
		if n > 4 {
			a.Data()[1], b.Data()[1] = float32(math.Inf(1)), float32(math.Inf(-1))
			a.Data()[2], b.Data()[2] = float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))
			a.Data()[3] = float32(math.NaN())
			a.Data()[4] = float32(math.Inf(1))
		}
		got, err := AddRelu(a, b)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := Add(a, b)
		if err != nil {
			t.Fatal(err)
		}
		want := Relu(sum)
		for i, v := range got.Data() {
			if math.Float32bits(v) != math.Float32bits(want.Data()[i]) {
				t.Fatalf("n=%d: AddRelu[%d] = %v, Relu(Add) = %v", n, i, v, want.Data()[i])
			}
		}
	}
	if _, err := AddRelu(tensor.Zeros(2, 3), tensor.Zeros(3, 2)); err == nil {
		t.Fatal("AddRelu of [2 3] and [3 2] gave no error")
	}
}
