package optim

import (
	"math"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// AdamConfig holds Adam's hyperparameters; zero fields take TF1's
// defaults: LR 0.001, Beta1 0.9, Beta2 0.999, Epsilon 1e-8.
type AdamConfig struct {
	LR, Beta1, Beta2, Epsilon float64
}

func (c AdamConfig) withDefaults() AdamConfig {
	return AdamConfig{LR: or(c.LR, 0.001), Beta1: or(c.Beta1, 0.9), Beta2: or(c.Beta2, 0.999), Epsilon: or(c.Epsilon, 1e-8)}
}

// Adam is tf.train.AdamOptimizer (TF1's form, "Adam: A Method for
// Stochastic Optimization", section 2 with the ε-hat variant). Slots:
// "<var>/Adam" holds m, "<var>/Adam_1" holds v, both starting at 0. At
// step t = Iterations()+1, per element:
//
//	lr_t = lr·√(1 − β2^t)/(1 − β1^t)
//	m    = m + (g − m)·(1 − β1)
//	v    = v + (g² − v)·(1 − β2)
//	w   −= lr_t·m/(√v + ε)
//
// β^t is computed in float64 from t (TF keeps a running float32 product),
// so a resumed run needs only the slots and the iteration count.
type Adam struct {
	state
	c AdamConfig
}

// NewAdam returns Adam with c's hyperparameters (zeros → TF1 defaults).
func NewAdam(c AdamConfig) *Adam {
	return &Adam{state: newState("Adam", []string{"Adam", "Adam_1"}, []float32{0, 0}), c: c.withDefaults()}
}

// Step applies one Adam update to every param with a gradient and
// advances the iteration count.
func (o *Adam) Step(params []*autograd.Var, grads []*tensor.Tensor) error {
	slots, err := o.prepare(params, grads)
	if err != nil {
		return err
	}
	k := adamCoefficients(o.c, o.iter+1)
	for i, p := range params {
		if grads[i] != nil {
			k.apply(p.Value().Data(), grads[i].Data(), slots[i][0].Data(), slots[i][1].Data())
		}
	}
	o.done(params, grads)
	return nil
}

// adamStep holds one step's float32 coefficients.
type adamStep struct {
	lrT, oneMinusB1, oneMinusB2, eps float32
}

func adamCoefficients(c AdamConfig, t int64) adamStep {
	tf := float64(t)
	lrT := c.LR * math.Sqrt(1-math.Pow(c.Beta2, tf)) / (1 - math.Pow(c.Beta1, tf))
	return adamStep{lrT: float32(lrT), oneMinusB1: float32(1 - c.Beta1), oneMinusB2: float32(1 - c.Beta2), eps: float32(c.Epsilon)}
}

// apply updates w, m and v in place from g with kernels.AdamUpdate (the
// formulas above, vectorised, each operation rounded to float32 in
// order), split across the workers.
func (k adamStep) apply(w, g, m, v []float32) {
	each(len(w), func(lo, hi int) {
		kernels.AdamUpdate(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], k.lrT, k.oneMinusB1, k.oneMinusB2, k.eps)
	})
}

// AdamWConfig holds AdamW's hyperparameters. Zero fields take Keras
// AdamW's defaults: LR 0.001, Beta1 0.9, Beta2 0.999, Epsilon 1e-7,
// WeightDecay 0.004. Variables whose name contains one of Exclude (e.g.
// "bias") are not decayed, like Keras' exclude_from_weight_decay.
type AdamWConfig struct {
	LR, Beta1, Beta2, Epsilon, WeightDecay float64
	Exclude                                []string
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), in
// the form of Keras' AdamW: each step first shrinks the variable,
//
//	w −= lr·wd·w
//
// (lr the base rate, not lr_t), then applies exactly Adam's update above
// from the unchanged gradient g. Slots: "<var>/AdamW" (m) and
// "<var>/AdamW_1" (v).
type AdamW struct {
	state
	c       AdamConfig
	wd      float32
	exclude []string
}

// NewAdamW returns AdamW with c's hyperparameters (zeros → Keras defaults).
func NewAdamW(c AdamWConfig) *AdamW {
	return &AdamW{
		state:   newState("AdamW", []string{"AdamW", "AdamW_1"}, []float32{0, 0}),
		c:       AdamConfig{LR: or(c.LR, 0.001), Beta1: or(c.Beta1, 0.9), Beta2: or(c.Beta2, 0.999), Epsilon: or(c.Epsilon, 1e-7)},
		wd:      float32(or(c.WeightDecay, 0.004)),
		exclude: append([]string(nil), c.Exclude...),
	}
}

// Step applies the weight decay and then one Adam update to every param
// with a gradient, and advances the iteration count.
func (o *AdamW) Step(params []*autograd.Var, grads []*tensor.Tensor) error {
	slots, err := o.prepare(params, grads)
	if err != nil {
		return err
	}
	k := adamCoefficients(o.c, o.iter+1)
	shrink := float32(o.c.LR) * o.wd
	for i, p := range params {
		if grads[i] == nil {
			continue
		}
		w := p.Value().Data()
		if o.decays(p.Name()) {
			each(len(w), func(lo, hi int) {
				w := w[lo:hi]
				for j := range w {
					w[j] -= w[j] * shrink
				}
			})
		}
		k.apply(w, grads[i].Data(), slots[i][0].Data(), slots[i][1].Data())
	}
	o.done(params, grads)
	return nil
}

func (o *AdamW) decays(name string) bool {
	for _, e := range o.exclude {
		if strings.Contains(name, e) {
			return false
		}
	}
	return true
}
