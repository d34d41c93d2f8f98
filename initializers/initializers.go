// Package initializers fills weight tensors the way TensorFlow and Keras
// do: truncated and plain normals, uniforms, constants, Glorot (Xavier)
// uniform and He normal.
//
// Every initializer draws from the *rand.Rand it is given (see
// tensor.NewRand), never from a global source, so a seed fixes the
// result. Fans follow Keras' compute_fans (see Fans).
//
// The samples are not bit-identical to TensorFlow's: TF uses Philox and
// its own normal sampler, this package uses Go's PCG and NormFloat64.
// Only the distributions match.
package initializers

import (
	"math"
	"math/rand/v2"

	"github.com/convnet-go/convnet/tensor"
)

// Initializer fills t in place with values drawn from r.
type Initializer interface {
	Init(t *tensor.Tensor, r *rand.Rand)
}

// truncatedStddev is the standard deviation of a unit normal truncated to
// [−2, 2]. Keras divides by it so that a truncated sample ends up with
// the intended standard deviation.
const truncatedStddev = 0.87962566103423978

// TruncatedNormal is tf.truncated_normal_initializer: N(Mean, Stddev²)
// with every sample farther than 2·Stddev from Mean redrawn. The zero
// Stddev means 1.0, TF's default. (The samples' actual standard deviation
// is ≈ 0.88·Stddev because of the truncation.)
type TruncatedNormal struct {
	Mean, Stddev float64
}

// Init fills t from N(Mean, Stddev²) truncated at ±2·Stddev.
func (i TruncatedNormal) Init(t *tensor.Tensor, r *rand.Rand) {
	s := i.Stddev
	if s == 0 {
		s = 1
	}
	t.RandTruncatedNormal(r, i.Mean, s)
}

// RandomNormal is tf.random_normal_initializer: N(Mean, Stddev²). The
// zero Stddev means 1.0, TF's default.
type RandomNormal struct {
	Mean, Stddev float64
}

// Init fills t from N(Mean, Stddev²).
func (i RandomNormal) Init(t *tensor.Tensor, r *rand.Rand) {
	s := i.Stddev
	if s == 0 {
		s = 1
	}
	t.RandNormal(r, i.Mean, s)
}

// RandomUniform is tf.random_uniform_initializer: U[Min, Max). The zero
// value (Min = Max = 0) means U[0, 1), TF1's default.
type RandomUniform struct {
	Min, Max float64
}

// Init fills t from U[Min, Max).
func (i RandomUniform) Init(t *tensor.Tensor, r *rand.Rand) {
	lo, hi := i.Min, i.Max
	if lo == 0 && hi == 0 {
		hi = 1
	}
	t.RandUniform(r, lo, hi)
}

// Constant fills every element with Value; it draws nothing from r.
type Constant struct {
	Value float32
}

// Init sets every element of t to Value.
func (i Constant) Init(t *tensor.Tensor, _ *rand.Rand) { t.Fill(i.Value) }

// Zeros fills with 0 (tf.zeros_initializer).
type Zeros struct{}

// Init sets every element of t to 0.
func (Zeros) Init(t *tensor.Tensor, _ *rand.Rand) { t.Fill(0) }

// Ones fills with 1 (tf.ones_initializer).
type Ones struct{}

// Init sets every element of t to 1.
func (Ones) Init(t *tensor.Tensor, _ *rand.Rand) { t.Fill(1) }

// GlorotUniform is Keras' glorot_uniform (Xavier uniform), the default
// kernel initializer of tf.layers and Keras: U[−limit, limit) with
// limit = √(6/(fan_in + fan_out)), fans from Fans.
type GlorotUniform struct{}

// Init fills t from U[−limit, limit), limit = √(6/(fan_in+fan_out)).
func (GlorotUniform) Init(t *tensor.Tensor, r *rand.Rand) {
	in, out := Fans(t.Shape())
	limit := math.Sqrt(6 / math.Max(1, float64(in+out)))
	t.RandUniform(r, -limit, limit)
}

// HeNormal is Keras' he_normal, VarianceScaling(scale 2, fan_in,
// truncated_normal): a normal truncated at two (pre-truncation) standard
// deviations with pre-truncation stddev √(2/fan_in)/0.87962566103423978,
// so that the truncated samples have standard deviation √(2/fan_in).
type HeNormal struct{}

// Init fills t with the truncated normal described on HeNormal.
func (HeNormal) Init(t *tensor.Tensor, r *rand.Rand) {
	in, _ := Fans(t.Shape())
	s := math.Sqrt(2/math.Max(1, float64(in))) / truncatedStddev
	t.RandTruncatedNormal(r, 0, s)
}

// Fans returns the fan-in and fan-out of a weight of the given shape as
// Keras computes them: a scalar has (1, 1); a vector [n] has (n, n); a
// dense kernel [in, out] has (in, out); a convolution kernel
// [..spatial.., in, out] (WIO, HWIO, DHWIO, or a depthwise [KH,KW,C,M])
// has receptive = product of the spatial dims, fan_in = in·receptive and
// fan_out = out·receptive.
func Fans(shape []int) (fanIn, fanOut int) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return shape[0], shape[0]
	case 2:
		return shape[0], shape[1]
	}
	receptive := 1
	for _, d := range shape[:len(shape)-2] {
		receptive *= d
	}
	return shape[len(shape)-2] * receptive, shape[len(shape)-1] * receptive
}
