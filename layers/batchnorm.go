package layers

import (
	"math"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
)

// BatchNormConfig holds Keras BatchNormalization's arguments. The zero
// value of each field is Keras's default. The layer normalises the last
// axis (Keras axis=−1), the channels of NHWC data.
type BatchNormConfig struct {
	// Momentum of the moving statistics; 0 means 0.99 (write a tiny
	// value such as 1e-9 for a momentum of practically zero).
	Momentum float32
	// Epsilon is added to the variance; 0 means 1e-3.
	Epsilon float32
	// NoCenter drops β (Keras center=False); NoScale drops γ (scale=False).
	NoCenter, NoScale bool
	// Initializers of γ (default ones), β (zeros), the moving mean
	// (zeros) and the moving variance (ones).
	GammaInitializer, BetaInitializer                initializers.Initializer
	MovingMeanInitializer, MovingVarianceInitializer initializers.Initializer
	// Seed seeds the initializers.
	Seed uint64
}

// BatchNormalization is Keras's BatchNormalization on the last axis of
// x [N, …, C]:
//
//	training:  y = (x − μ_B)·γ/√(σ²_B + ε) + β, μ_B and σ²_B the batch's
//	           mean and biased variance over every axis but the last, and
//	           moving = moving·momentum + batch·(1 − momentum) for the mean
//	           and the variance
//	inference: y = (x − moving_mean)·γ/√(moving_variance + ε) + β
//
// The moving variance is fed the biased batch variance, as Keras 3 and
// TensorFlow.js do (TF's older fused kernel fed the Bessel-corrected
// one). Weights, in Keras order: name/gamma [C], name/beta [C] (trainable),
// name/moving_mean [C], name/moving_variance [C] (NonTrainable).
type BatchNormalization struct {
	Base
	cfg                     BatchNormConfig
	gamma, beta, mean, vari *autograd.Var
}

// NewBatchNormalization returns a BatchNormalization layer with scope name.
func NewBatchNormalization(name string, cfg BatchNormConfig) *BatchNormalization {
	return &BatchNormalization{Base: NewBase(name, cfg.Seed), cfg: cfg}
}

// Config returns the layer's configuration.
func (l *BatchNormalization) Config() BatchNormConfig { return l.cfg }

func (l *BatchNormalization) momentum() float32 {
	if l.cfg.Momentum == 0 {
		return 0.99
	}
	return l.cfg.Momentum
}

func (l *BatchNormalization) epsilon() float32 {
	if l.cfg.Epsilon == 0 {
		return 1e-3
	}
	return l.cfg.Epsilon
}

// OutputShape returns the input shape.
func (l *BatchNormalization) OutputShape(in []int) ([]int, error) {
	const kind = "BatchNormalization"
	if m := l.cfg.Momentum; !(m >= 0 && m <= 1) {
		return nil, l.errorf(kind, "momentum must be in [0, 1], got %v", m)
	}
	if e := l.cfg.Epsilon; !(e >= 0) || math.IsInf(float64(e), 0) {
		return nil, l.errorf(kind, "epsilon must be finite and ≥ 0, got %v", e)
	}
	if len(in) < 2 || in[len(in)-1] < 1 {
		return nil, l.errorf(kind, "input must be [N, …, C] with C > 0, got shape %v", in)
	}
	return append([]int(nil), in...), nil
}

// Build creates gamma, beta, moving_mean and moving_variance, all [C].
func (l *BatchNormalization) Build(in []int) error {
	return l.BuildOnce(in, func(in []int) error {
		if _, err := l.OutputShape(in); err != nil {
			return err
		}
		c := []int{in[len(in)-1]}
		or := func(i, def initializers.Initializer) initializers.Initializer {
			if i == nil {
				return def
			}
			return i
		}
		l.gamma, l.beta = nil, nil
		if !l.cfg.NoScale {
			l.gamma = l.AddWeight("gamma", c, or(l.cfg.GammaInitializer, initializers.Ones{}), true)
		}
		if !l.cfg.NoCenter {
			l.beta = l.AddWeight("beta", c, or(l.cfg.BetaInitializer, initializers.Zeros{}), true)
		}
		l.mean = l.AddWeight("moving_mean", c, or(l.cfg.MovingMeanInitializer, initializers.Zeros{}), false)
		l.vari = l.AddWeight("moving_variance", c, or(l.cfg.MovingVarianceInitializer, initializers.Ones{}), false)
		return nil
	})
}

// Call normalises x with the batch's statistics and updates the moving
// ones when ctx.Training, and with the moving statistics otherwise.
func (l *BatchNormalization) Call(x *autograd.Var, ctx Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if err := l.Build(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	if !ctx.Training {
		return autograd.BatchNormalization(x, l.mean.Value(), l.vari.Value(), l.beta, l.gamma, l.epsilon())
	}
	y, mean, variance := autograd.FusedBatchNorm(x, l.gamma, l.beta, l.epsilon())
	if y.Err() != nil {
		return y
	}
	m := l.momentum()
	// Keras's assign_moving_average: moving −= (moving − batch)·(1 − m).
	for _, s := range [][2][]float32{{l.mean.Value().Data(), mean.Data()}, {l.vari.Value().Data(), variance.Data()}} {
		mov, batch := s[0], s[1]
		for c := range mov {
			mov[c] -= (mov[c] - batch[c]) * (1 - m)
		}
	}
	l.mean.Value().MarkChanged()
	l.vari.Value().MarkChanged()
	return y
}
