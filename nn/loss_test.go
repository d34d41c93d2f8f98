package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/tensor"
)

func TestSoftmaxCrossEntropyByHand(t *testing.T) {
	// For logits [1 2 3]: log Σ exp = 1 + log(1 + e + e²) =: L.
	s := 1 + math.E + math.E*math.E
	L := 1 + math.Log(s)
	p := []float64{1 / s, math.E / s, math.E * math.E / s}
	logits := opsT([]int{2, 3}, 1, 2, 3, 1, 2, 3)
	labels := opsT([]int{2, 3}, 0, 0, 1, 0.5, 0.5, 0)
	loss, back, err := SoftmaxCrossEntropyWithLogits(labels, logits)
	if err != nil {
		t.Fatal(err)
	}
	wantLoss := []float32{float32(L - 3), float32(0.5*(L-1) + 0.5*(L-2))}
	wantBack := []float32{float32(p[0]), float32(p[1]), float32(p[2] - 1), float32(p[0] - 0.5), float32(p[1] - 0.5), float32(p[2])}
	if !tensor.SameShape(loss.Shape(), []int{2}) || !tensor.SameShape(back.Shape(), []int{2, 3}) {
		t.Fatalf("shapes %v, %v; want [2], [2 3]", loss.Shape(), back.Shape())
	}
	opsClose(t, "loss", loss.Data(), wantLoss, 1e-6)
	opsClose(t, "backprop", back.Data(), wantBack, 1e-6)

	sl, sb, err := SparseSoftmaxCrossEntropyWithLogits([]int{2, 0}, logits)
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "sparse loss", sl.Data(), []float32{float32(L - 3), float32(L - 1)}, 1e-6)
	opsClose(t, "sparse backprop", sb.Data(), []float32{float32(p[0]), float32(p[1]), float32(p[2] - 1), float32(p[0] - 1), float32(p[1]), float32(p[2])}, 1e-6)

	// Large logits do not overflow.
	big := opsT([]int{1, 2}, 1000, 0)
	bl, _, err := SparseSoftmaxCrossEntropyWithLogits([]int{1}, big)
	if err != nil || math.Abs(float64(bl.Data()[0])-1000) > 1e-3 {
		t.Errorf("loss of logits [1000 0] with label 1 = %v, %v; want 1000", bl.Data(), err)
	}
}

func TestSoftmaxCrossEntropyErrors(t *testing.T) {
	logits := tensor.Zeros(2, 5)
	for _, tc := range []struct {
		name  string
		err   func() error
		quote string
	}{
		{"label too large", func() error { _, _, err := SparseSoftmaxCrossEntropyWithLogits([]int{0, 7}, logits); return err }, "label 7"},
		{"negative label", func() error { _, _, err := SparseSoftmaxCrossEntropyWithLogits([]int{-1, 0}, logits); return err }, "label -1"},
		{"label count", func() error { _, _, err := SparseSoftmaxCrossEntropyWithLogits([]int{0}, logits); return err }, "1 labels"},
		{"sparse rank", func() error { _, _, err := SparseSoftmaxCrossEntropyWithLogits([]int{0}, tensor.Zeros(5)); return err }, "[5]"},
		{"dense shapes", func() error { _, _, err := SoftmaxCrossEntropyWithLogits(tensor.Zeros(2, 4), logits); return err }, "[2 4]"},
		{"dense rank", func() error {
			_, _, err := SoftmaxCrossEntropyWithLogits(tensor.Zeros(10), tensor.Zeros(10))
			return err
		}, "[10]"},
		{"sigmoid shapes", func() error { _, err := SigmoidCrossEntropyWithLogits(tensor.Zeros(5, 2), logits); return err }, "[5 2]"},
		{"sigmoid grad shapes", func() error {
			_, err := SigmoidCrossEntropyWithLogitsGrad(logits, logits, tensor.Zeros(1, 5))
			return err
		}, "[1 5]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || !strings.Contains(err.Error(), tc.quote) {
				t.Errorf("error %v, want one quoting %q", err, tc.quote)
			}
		})
	}
}

func TestSigmoidCrossEntropyByHand(t *testing.T) {
	x := []float32{0, 100, -100, 2, -3, 0.5}
	z := []float32{1, 1, 1, 0.3, 0, 0.5}
	want := make([]float32, len(x))
	for i := range x {
		xv, zv := float64(x[i]), float64(z[i])
		if math.Abs(xv) > 50 {
			// log σ(x) underflows in the naive form; use its limits.
			want[i] = float32(max(xv, 0) - xv*zv)
			continue
		}
		sg := 1 / (1 + math.Exp(-xv))
		want[i] = float32(-zv*math.Log(sg) - (1-zv)*math.Log(1-sg))
	}
	loss, err := SigmoidCrossEntropyWithLogits(opsT([]int{2, 3}, z...), opsT([]int{2, 3}, x...))
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "loss", loss.Data(), want, 1e-6)
	if got := loss.Data()[0]; math.Abs(float64(got)-math.Ln2) > 1e-7 {
		t.Errorf("loss(x=0, z=1) = %v, want log 2", got)
	}
	g, err := SigmoidCrossEntropyWithLogitsGrad(opsT([]int{2, 3}, z...), opsT([]int{2, 3}, x...), tensor.Full(2, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	// 2·(σ(x) − z): σ(0) = 0.5, σ(100) = 1, σ(−100) = 0.
	opsClose(t, "grad", g.Data()[:3], []float32{-1, 0, -2}, 1e-7)
}

func TestLossGradcheck(t *testing.T) {
	const n, c = 4, 5
	r := tensor.NewRand(3)
	soft := make([]float64, n*c) // rows of soft labels summing to 1
	for i := 0; i < n; i++ {
		var s float64
		for j := 0; j < c; j++ {
			soft[i*c+j] = r.Float64()
			s += soft[i*c+j]
		}
		for j := 0; j < c; j++ {
			soft[i*c+j] /= s
		}
	}
	sparse := []int{0, 4, 2, 2}
	for i, tc := range []struct {
		name string
		// loss returns the per-example (or per-element) loss and its
		// gradient with respect to x, before weighting by w.
		loss func(x []float64) (l, back []float64)
		nOut int
	}{
		{"SoftmaxCrossEntropyWithLogits", func(x []float64) ([]float64, []float64) {
			l, b := make([]float64, n), make([]float64, n*c)
			softmaxXentKernel(l, b, soft, x, c)
			return l, b
		}, n},
		{"SparseSoftmaxCrossEntropyWithLogits", func(x []float64) ([]float64, []float64) {
			l, b := make([]float64, n), make([]float64, n*c)
			sparseSoftmaxXentKernel(l, b, sparse, x, c)
			return l, b
		}, n},
		{"SigmoidCrossEntropyWithLogits", func(x []float64) ([]float64, []float64) {
			l, b := make([]float64, n*c), make([]float64, n*c)
			sigmoidXentKernel(l, soft, x)
			sigmoidXentGradKernel(b, soft, x, opsOnes(n*c))
			return l, b
		}, n * c},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := opsAwayFromZero(n*c, uint64(i)+7)
			w, f := gradcheck.Project(tc.nOut, uint64(i), func(x []float64) []float64 { l, _ := tc.loss(x); return l })
			_, back := tc.loss(x)
			grad := make([]float64, n*c)
			per := n * c / tc.nOut
			for j := range grad {
				grad[j] = w[j/per] * back[j]
			}
			if err := gradcheck.Check(f, x, grad, gradcheck.Options{}); err != nil {
				t.Error(err)
			}
		})
	}
}

func opsOnes(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}
