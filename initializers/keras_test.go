package initializers

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestByName(t *testing.T) {
	const truncSD = truncatedStddev
	// A [40, 60] kernel: fan_in 40, fan_out 60, fan_avg 50.
	for _, tc := range []struct {
		name   string
		std    float64 // of the samples
		lo, hi float64 // support
	}{
		{"zeros", 0, 0, 0},
		{"ones", 0, 1, 1},
		{"glorot_uniform", math.Sqrt(6.0/100) / math.Sqrt(3), -math.Sqrt(6.0 / 100), math.Sqrt(6.0 / 100)},
		{"glorotNormal", math.Sqrt(1.0 / 50), -2 * math.Sqrt(1.0/50) / truncSD, 2 * math.Sqrt(1.0/50) / truncSD},
		{"he_normal", math.Sqrt(2.0 / 40), -2 * math.Sqrt(2.0/40) / truncSD, 2 * math.Sqrt(2.0/40) / truncSD},
		{"he_uniform", math.Sqrt(2.0 / 40), -math.Sqrt(6.0 / 40), math.Sqrt(6.0 / 40)},
		{"lecun_normal", math.Sqrt(1.0 / 40), -2 * math.Sqrt(1.0/40) / truncSD, 2 * math.Sqrt(1.0/40) / truncSD},
		{"lecun_uniform", math.Sqrt(1.0 / 40), -math.Sqrt(3.0 / 40), math.Sqrt(3.0 / 40)},
		{"random_normal", 0.05, math.Inf(-1), math.Inf(1)},
		{"random_uniform", 0.1 / math.Sqrt(12), -0.05, 0.05},
		{"truncated_normal", 0.05 * truncSD, -0.1, 0.1},
		{"variance_scaling", math.Sqrt(1.0 / 40), -2 * math.Sqrt(1.0/40) / truncSD, 2 * math.Sqrt(1.0/40) / truncSD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			init, err := ByName(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			// Many draws of the same [40, 60] shape for the statistics.
			var all []float32
			r := tensor.NewRand(5)
			for range 40 {
				x := tensor.Zeros(40, 60)
				init.Init(x, r)
				all = append(all, x.Data()...)
			}
			_, std, lo, hi := moments(all)
			if tc.std == 0 {
				if lo != tc.lo || hi != tc.hi {
					t.Errorf("values span [%v, %v], want %v", lo, hi, tc.lo)
				}
				return
			}
			if math.Abs(std/tc.std-1) > 0.02 {
				t.Errorf("std %.5f, want %.5f ± 2%%", std, tc.std)
			}
			slack := 1e-6
			if lo < tc.lo-slack || hi > tc.hi+slack {
				t.Errorf("values span [%.6f, %.6f], outside [%.6f, %.6f]", lo, hi, tc.lo, tc.hi)
			}
		})
	}
	if _, err := ByName("glorot_uniformish"); err == nil || !strings.Contains(err.Error(), `"glorot_uniformish"`) {
		t.Errorf("unknown name: %v", err)
	}
}
