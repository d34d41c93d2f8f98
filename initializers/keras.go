package initializers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/tensor"
)

// VarianceScaling is Keras's VarianceScaling initializer, of which the
// Glorot, He and LeCun initializers are instances: with n = fan_in
// (Mode "fan_in" or ""), fan_out ("fan_out") or their mean ("fan_avg")
// from Fans, and σ² = Scale/n (Scale 0 means 1):
//
//	"truncated_normal" (or "")  N(0, σ²/0.8796²) truncated at ±2 of its
//	                            standard deviations, so the samples have
//	                            standard deviation σ
//	"untruncated_normal"        N(0, σ²)
//	"uniform"                   U[−√3·σ, √3·σ)
//
// An unknown Mode or Distribution fills t with NaN (ByName and layers
// validate names before they get here).
type VarianceScaling struct {
	Scale        float64
	Mode         string
	Distribution string
}

// Init fills t as described on VarianceScaling.
func (v VarianceScaling) Init(t *tensor.Tensor, r *rand.Rand) {
	in, out := Fans(t.Shape())
	var n float64
	switch v.Mode {
	case "fan_in", "":
		n = float64(in)
	case "fan_out":
		n = float64(out)
	case "fan_avg":
		n = float64(in+out) / 2
	default:
		t.Fill(float32(math.NaN()))
		return
	}
	scale := v.Scale
	if scale == 0 {
		scale = 1
	}
	sigma := math.Sqrt(scale / math.Max(1, n))
	switch v.Distribution {
	case "truncated_normal", "":
		t.RandTruncatedNormal(r, 0, sigma/truncatedStddev)
	case "untruncated_normal", "normal":
		t.RandNormal(r, 0, sigma)
	case "uniform":
		l := math.Sqrt(3) * sigma
		t.RandUniform(r, -l, l)
	default:
		t.Fill(float32(math.NaN()))
	}
}

// Keras's named initializers as VarianceScaling instances.
var (
	// GlorotNormal is Keras's glorot_normal: σ² = 2/(fan_in + fan_out), truncated.
	GlorotNormal = VarianceScaling{Scale: 1, Mode: "fan_avg", Distribution: "truncated_normal"}
	// HeUniform is Keras's he_uniform: U[−√(6/fan_in), √(6/fan_in)).
	HeUniform = VarianceScaling{Scale: 2, Mode: "fan_in", Distribution: "uniform"}
	// LecunNormal is Keras's lecun_normal: σ² = 1/fan_in, truncated.
	LecunNormal = VarianceScaling{Scale: 1, Mode: "fan_in", Distribution: "truncated_normal"}
	// LecunUniform is Keras's lecun_uniform: U[−√(3/fan_in), √(3/fan_in)).
	LecunUniform = VarianceScaling{Scale: 1, Mode: "fan_in", Distribution: "uniform"}
)

// byName holds Keras's initializer names with Keras's default arguments
// (random_normal and truncated_normal σ = 0.05, random_uniform ±0.05 —
// Keras's defaults, not TF1's).
var byName = map[string]Initializer{
	"zeros":            Zeros{},
	"ones":             Ones{},
	"glorot_uniform":   GlorotUniform{},
	"glorot_normal":    GlorotNormal,
	"he_normal":        HeNormal{},
	"he_uniform":       HeUniform,
	"lecun_normal":     LecunNormal,
	"lecun_uniform":    LecunUniform,
	"random_normal":    RandomNormal{Stddev: 0.05},
	"random_uniform":   RandomUniform{Min: -0.05, Max: 0.05},
	"truncated_normal": TruncatedNormal{Stddev: 0.05},
	"variance_scaling": VarianceScaling{},
}

// ByName returns the Keras initializer of that name with its Keras
// defaults: zeros, ones, glorot_uniform, glorot_normal, he_normal,
// he_uniform, lecun_normal, lecun_uniform, random_normal (σ 0.05),
// random_uniform (±0.05), truncated_normal (σ 0.05), variance_scaling
// (scale 1, fan_in, truncated normal). The camel-case names of TF.js
// (glorotUniform, heNormal, …) are accepted too.
func ByName(name string) (Initializer, error) {
	if i, ok := byName[snake(name)]; ok {
		return i, nil
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("initializers: unknown initializer %q, want one of %s", name, strings.Join(names, ", "))
}

// snake turns "glorotUniform" into "glorot_uniform".
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
