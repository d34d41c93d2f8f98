package nn

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestDropout(t *testing.T) {
	const n = 100000
	x := tensor.Must(tensor.New([]int{100, 1000}, opsRandom(n, 5)))
	for _, rate := range []float32{0.25, 0.5, 0.9} {
		t.Run(fmt.Sprintf("rate=%.2f", rate), func(t *testing.T) {
			y, mask, err := Dropout(x, rate, 42, true)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), x.Shape()) || !tensor.SameShape(mask.Shape(), x.Shape()) {
				t.Fatalf("shapes %v, %v; want %v", y.Shape(), mask.Shape(), x.Shape())
			}
			scale := 1 / (1 - rate)
			kept := 0
			for i, m := range mask.Data() {
				switch m {
				case scale:
					kept++
				case 0:
				default:
					t.Fatalf("mask[%d] = %v, want 0 or %v", i, m, scale)
				}
				if y.Data()[i] != x.Data()[i]*m {
					t.Fatalf("y[%d] = %v, want x·mask = %v", i, y.Data()[i], x.Data()[i]*m)
				}
			}
			// Binomial(n, 1−rate): 5 standard deviations.
			frac, sd := float64(kept)/n, math.Sqrt(float64(rate)*float64(1-rate)/n)
			if math.Abs(frac-float64(1-rate)) > 5*sd {
				t.Errorf("kept %.4f of the values, want %.4f ± %.4f", frac, 1-rate, 5*sd)
			}
			y2, mask2, _ := Dropout(x, rate, 42, true)
			opsClose(t, "same seed mask", mask2.Data(), mask.Data(), 0)
			opsClose(t, "same seed y", y2.Data(), y.Data(), 0)
			_, mask3, _ := Dropout(x, rate, 43, true)
			same := 0
			for i, m := range mask3.Data() {
				if m == mask.Data()[i] {
					same++
				}
			}
			if same == n {
				t.Error("seeds 42 and 43 gave the same mask")
			}

			g := tensor.Must(tensor.New(x.Shape(), opsRandom(n, 6)))
			dx, err := DropoutGrad(g, mask)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range dx.Data() {
				if v != g.Data()[i]*mask.Data()[i] {
					t.Fatalf("DropoutGrad[%d] = %v, want grad·mask = %v", i, v, g.Data()[i]*mask.Data()[i])
				}
			}
		})
	}
}

func TestDropoutIdentity(t *testing.T) {
	x := opsSeq(1, 2, 3)
	for _, tc := range []struct {
		name     string
		rate     float32
		training bool
	}{{"not training", 0.5, false}, {"rate 0", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			y, mask, err := Dropout(x, tc.rate, 1, tc.training)
			if err != nil {
				t.Fatal(err)
			}
			if mask != nil {
				t.Errorf("mask %v, want nil", mask.Data())
			}
			opsClose(t, "y", y.Data(), x.Data(), 0)
			y.Data()[0] = -1
			if x.Data()[0] != 1 {
				t.Error("y shares x's data")
			}
			dx, err := DropoutGrad(x, mask)
			if err != nil {
				t.Fatal(err)
			}
			opsClose(t, "DropoutGrad with nil mask", dx.Data(), x.Data(), 0)
		})
	}
}

func TestDropoutErrors(t *testing.T) {
	x := tensor.Zeros(2, 3)
	for _, rate := range []float32{1, -0.1, 1.5, float32(math.NaN())} {
		if _, _, err := Dropout(x, rate, 1, true); err == nil || !strings.Contains(err.Error(), "rate") {
			t.Errorf("Dropout(rate %v) error %v, want one about the rate", rate, err)
		}
	}
	if _, err := DropoutGrad(x, tensor.Zeros(3, 2)); err == nil || !strings.Contains(err.Error(), "[3 2]") {
		t.Errorf("DropoutGrad of mismatched shapes: %v", err)
	}
}

// TestDropoutDraws holds Dropout to its documented draws: value i is kept
// when the i-th tensor.NewRand(seed).Float32() is at least rate.
// The large case is split over the workers, each starting its generator
// at its range's first draw (pcgAt).
func TestDropoutDraws(t *testing.T) {
	small := tensor.Must(tensor.New([]int{7, 301}, opsRandom(7*301, 3)))
	large := tensor.Must(tensor.New([]int{3, dropoutMinPer + 5}, opsRandom(3*(dropoutMinPer+5), 4)))
	for _, tc := range []struct {
		name string
		x    *tensor.Tensor
		rate float32
		seed uint64
	}{
		{"rate 0.25 seed 1", small, 0.25, 1}, {"rate 0.6 seed 99", small, 0.6, 99}, {"rate 0.01 seed 0", small, 0.01, 0},
		{"split rate 0.25 seed 7", large, 0.25, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, mask, err := Dropout(tc.x, tc.rate, tc.seed, true)
			if err != nil {
				t.Fatal(err)
			}
			r := tensor.NewRand(tc.seed)
			for i, m := range mask.Data() {
				if kept := r.Float32() >= tc.rate; kept != (m != 0) {
					t.Fatalf("value %d: mask %v, but draw says kept=%v", i, m, kept)
				}
			}
		})
	}
}

// TestPCGAt holds pcgAt(seed1, seed2, n) to n draws of math/rand/v2's
// PCG: the states must match, and so must the next draws.
func TestPCGAt(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 3, 7, 64, 1000, 65537} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			want := rand.NewPCG(5, 5^0x9e3779b97f4a7c15)
			for range n {
				want.Uint64()
			}
			got := pcgAt(5, 5^0x9e3779b97f4a7c15, n)
			gb, _ := got.MarshalBinary()
			wb, _ := want.MarshalBinary()
			if !bytes.Equal(gb, wb) {
				t.Fatalf("state after %d draws: %x, want %x", n, gb, wb)
			}
			for i := range 3 {
				if g, w := got.Uint64(), want.Uint64(); g != w {
					t.Fatalf("draw %d after %d: %d, want %d", i, n, g, w)
				}
			}
		})
	}
}
