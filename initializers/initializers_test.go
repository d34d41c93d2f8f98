package initializers

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestFans(t *testing.T) {
	tests := []struct {
		name    string
		shape   []int
		in, out int
	}{
		{"scalar", nil, 1, 1},
		{"bias", []int{10}, 10, 10},
		{"dense", []int{3136, 1024}, 3136, 1024},
		{"conv1d WIO", []int{3, 4, 8}, 12, 24},
		{"conv2d HWIO", []int{5, 5, 32, 64}, 800, 1600},
		{"conv3d DHWIO", []int{2, 3, 3, 4, 5}, 72, 90},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, out := Fans(tc.shape)
			if in != tc.in || out != tc.out {
				t.Fatalf("Fans(%v) = %d, %d; want %d, %d", tc.shape, in, out, tc.in, tc.out)
			}
		})
	}
}

// moments returns the mean, standard deviation, minimum and maximum.
func moments(d []float32) (mean, std, lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range d {
		mean += float64(v)
		lo = math.Min(lo, float64(v))
		hi = math.Max(hi, float64(v))
	}
	mean /= float64(len(d))
	for _, v := range d {
		std += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, math.Sqrt(std / float64(len(d))), lo, hi
}

// TestDistributions draws 2^17 samples per initializer and compares the
// sample moments with the distribution's: the mean within 5 standard
// errors (σ/√n ≈ 0.0028σ), the standard deviation within 2% (its
// standard error is ≈ σ/√(2n) ≈ 0.002σ), and every value inside the
// support. A wrong formula (a missing √, the wrong fan, no truncation
// correction) misses by far more.
func TestDistributions(t *testing.T) {
	const truncSD = truncatedStddev // std of N(0,1) truncated to [−2, 2]
	tests := []struct {
		name      string
		init      Initializer
		shape     []int
		mean, std float64 // of the samples
		lo, hi    float64 // support
	}{
		{"TruncatedNormal default", TruncatedNormal{}, []int{1 << 17}, 0, truncSD, -2, 2},
		{"TruncatedNormal 0.5±0.1", TruncatedNormal{Mean: 0.5, Stddev: 0.1}, []int{1 << 17}, 0.5, 0.1 * truncSD, 0.3, 0.7},
		{"RandomNormal default", RandomNormal{}, []int{1 << 17}, 0, 1, math.Inf(-1), math.Inf(1)},
		{"RandomNormal -1±3", RandomNormal{Mean: -1, Stddev: 3}, []int{1 << 17}, -1, 3, math.Inf(-1), math.Inf(1)},
		{"RandomUniform default", RandomUniform{}, []int{1 << 17}, 0.5, 1 / math.Sqrt(12), 0, 1},
		{"RandomUniform -3..1", RandomUniform{Min: -3, Max: 1}, []int{1 << 17}, -1, 4 / math.Sqrt(12), -3, 1},
		// Glorot: limit = √(6/(800+1600)) = 0.05; std of U[−l,l] is l/√3.
		{"GlorotUniform conv", GlorotUniform{}, []int{5, 5, 32, 64}, 0, 0.05 / math.Sqrt(3), -0.05, 0.05},
		// limit = √(6/(3136+1024))
		{"GlorotUniform dense", GlorotUniform{}, []int{3136, 64}, 0, math.Sqrt(6.0/3200) / math.Sqrt(3), -math.Sqrt(6.0 / 3200), math.Sqrt(6.0 / 3200)},
		// He: fan_in 800, sample std √(2/800) = 0.05, support ±2·0.05/0.8796.
		{"HeNormal conv", HeNormal{}, []int{5, 5, 32, 164}, 0, 0.05, -0.1 / truncSD, 0.1 / truncSD},
		{"HeNormal dense", HeNormal{}, []int{512, 256}, 0, 0.0625, -0.125 / truncSD, 0.125 / truncSD},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := tensor.Zeros(tc.shape...)
			tc.init.Init(x, tensor.NewRand(1))
			mean, std, lo, hi := moments(x.Data())
			n := float64(x.Len())
			if math.Abs(mean-tc.mean) > 5*tc.std/math.Sqrt(n) {
				t.Errorf("mean %.5f, want %.5f ± %.5f", mean, tc.mean, 5*tc.std/math.Sqrt(n))
			}
			if math.Abs(std/tc.std-1) > 0.02 {
				t.Errorf("std %.5f, want %.5f ± 2%%", std, tc.std)
			}
			// float32 rounding may land a value one ulp outside.
			slack := 1e-6 * math.Max(1, math.Abs(tc.hi))
			if lo < tc.lo-slack || hi > tc.hi+slack {
				t.Errorf("values span [%.6f, %.6f], outside the support [%.6f, %.6f]", lo, hi, tc.lo, tc.hi)
			}
		})
	}
}

func TestConstants(t *testing.T) {
	tests := []struct {
		name string
		init Initializer
		want float32
	}{
		{"Zeros", Zeros{}, 0},
		{"Ones", Ones{}, 1},
		{"Constant", Constant{Value: -0.25}, -0.25},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := tensor.Full(7, 3, 2)
			tc.init.Init(x, nil)
			for i, v := range x.Data() {
				if v != tc.want {
					t.Fatalf("element %d = %g, want %g", i, v, tc.want)
				}
			}
		})
	}
}

func TestDeterministicBySeed(t *testing.T) {
	inits := map[string]Initializer{
		"TruncatedNormal": TruncatedNormal{}, "RandomNormal": RandomNormal{}, "RandomUniform": RandomUniform{},
		"GlorotUniform": GlorotUniform{}, "HeNormal": HeNormal{},
	}
	for name, init := range inits {
		t.Run(name, func(t *testing.T) {
			draw := func(seed uint64) []float32 {
				x := tensor.Zeros(3, 3, 2, 4)
				init.Init(x, tensor.NewRand(seed))
				return x.Data()
			}
			a, b, c := draw(5), draw(5), draw(6)
			differs := false
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("same seed, element %d: %g vs %g", i, a[i], b[i])
				}
				differs = differs || a[i] != c[i]
			}
			if !differs {
				t.Fatal("seeds 5 and 6 gave identical tensors")
			}
		})
	}
}
