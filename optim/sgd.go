package optim

import (
	"math"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// SGD is tf.train.GradientDescentOptimizer: w −= lr·g. It has no slots.
type SGD struct {
	state
	lr float32
}

// NewSGD returns plain gradient descent with learning rate lr.
func NewSGD(lr float64) *SGD {
	return &SGD{state: newState("SGD", nil, nil), lr: float32(lr)}
}

// Step applies w −= lr·g to every param with a gradient.
func (o *SGD) Step(params []*autograd.Var, grads []*tensor.Tensor) error {
	if _, err := o.prepare(params, grads); err != nil {
		return err
	}
	lr := o.lr
	for i, p := range params {
		if grads[i] == nil {
			continue
		}
		w, g := p.Value().Data(), grads[i].Data()
		each(len(w), func(lo, hi int) {
			w, g := w[lo:hi], g[lo:hi]
			for j := range w {
				w[j] -= lr * g[j]
			}
		})
	}
	o.done(params, grads)
	return nil
}

// Momentum is tf.train.MomentumOptimizer with slot "<var>/Momentum":
//
//	accum = momentum·accum + g
//	w −= lr·accum                      (classical)
//	w −= lr·g + lr·momentum·accum      (Nesterov, with the new accum)
type Momentum struct {
	state
	lr, momentum float32
	nesterov     bool
}

// NewMomentum returns the momentum optimizer; nesterov selects TF's
// use_nesterov form.
func NewMomentum(lr, momentum float64, nesterov bool) *Momentum {
	return &Momentum{state: newState("Momentum", []string{"Momentum"}, []float32{0}),
		lr: float32(lr), momentum: float32(momentum), nesterov: nesterov}
}

// Step applies one momentum update to every param with a gradient.
func (o *Momentum) Step(params []*autograd.Var, grads []*tensor.Tensor) error {
	slots, err := o.prepare(params, grads)
	if err != nil {
		return err
	}
	lr, mu, nesterov := o.lr, o.momentum, o.nesterov
	for i, p := range params {
		if grads[i] == nil {
			continue
		}
		w, g, acc := p.Value().Data(), grads[i].Data(), slots[i][0].Data()
		each(len(w), func(lo, hi int) {
			w, g, acc := w[lo:hi], g[lo:hi], acc[lo:hi]
			g, acc = g[:len(w)], acc[:len(w)]
			if nesterov {
				for j := range w {
					a := acc[j]*mu + g[j]
					acc[j] = a
					w[j] -= g[j]*lr + a*mu*lr
				}
				return
			}
			for j := range w {
				a := acc[j]*mu + g[j]
				acc[j] = a
				w[j] -= a * lr
			}
		})
	}
	o.done(params, grads)
	return nil
}

// RMSPropConfig holds RMSProp's hyperparameters. Zero fields take TF1's
// defaults: Decay 0.9, Epsilon 1e-10, and LR 0.001 (TF1 requires one;
// 0.001 is Keras' default). Momentum 0 means none.
type RMSPropConfig struct {
	LR, Decay, Momentum, Epsilon float64
	// Centered normalises by the variance estimate ms − mg² instead of
	// the second moment ms.
	Centered bool
}

// RMSProp is tf.train.RMSPropOptimizer. Slots, in TF1's creation order:
// "<var>/RMSProp" (ms, starting at 1 as in TF1), then when Centered
// "<var>/RMSProp_1" (mg, starting at 0), and last the momentum
// accumulator (starting at 0), "<var>/RMSProp_1" or "<var>/RMSProp_2"
// when centered. Per element (ρ = Decay):
//
//	ms  = ms + (g² − ms)·(1 − ρ)
//	mg  = mg + (g − mg)·(1 − ρ)                 (centered only)
//	den = ms + ε, or ms − mg² + ε when centered
//	mom = momentum·mom + lr·g/√den
//	w  −= mom
type RMSProp struct {
	state
	lr, decay, momentum, eps float32
	centered                 bool
}

// NewRMSProp returns RMSProp with c's hyperparameters (zeros → TF1 defaults).
func NewRMSProp(c RMSPropConfig) *RMSProp {
	suffixes, initial := []string{"RMSProp", "RMSProp_1"}, []float32{1, 0}
	if c.Centered {
		suffixes, initial = []string{"RMSProp", "RMSProp_1", "RMSProp_2"}, []float32{1, 0, 0}
	}
	return &RMSProp{state: newState("RMSProp", suffixes, initial),
		lr: float32(or(c.LR, 0.001)), decay: float32(or(c.Decay, 0.9)), momentum: float32(c.Momentum),
		eps: float32(or(c.Epsilon, 1e-10)), centered: c.Centered}
}

// Step applies one RMSProp update to every param with a gradient.
func (o *RMSProp) Step(params []*autograd.Var, grads []*tensor.Tensor) error {
	slots, err := o.prepare(params, grads)
	if err != nil {
		return err
	}
	lr, mu, eps := o.lr, o.momentum, o.eps
	oneMinusRho := float32(1 - float64(o.decay))
	for i, p := range params {
		if grads[i] == nil {
			continue
		}
		w, g, ms := p.Value().Data(), grads[i].Data(), slots[i][0].Data()
		if !o.centered {
			mom := slots[i][1].Data()
			each(len(w), func(lo, hi int) {
				w, g, ms, mom := w[lo:hi], g[lo:hi], ms[lo:hi], mom[lo:hi]
				for j := range w {
					gj := g[j]
					s := ms[j] + (gj*gj-ms[j])*oneMinusRho
					ms[j] = s
					m := mom[j]*mu + gj*lr/sqrt32(s+eps)
					mom[j] = m
					w[j] -= m
				}
			})
			continue
		}
		mg, mom := slots[i][1].Data(), slots[i][2].Data()
		each(len(w), func(lo, hi int) {
			w, g, ms, mg, mom := w[lo:hi], g[lo:hi], ms[lo:hi], mg[lo:hi], mom[lo:hi]
			for j := range w {
				gj := g[j]
				s := ms[j] + (gj*gj-ms[j])*oneMinusRho
				ms[j] = s
				a := mg[j] + (gj-mg[j])*oneMinusRho
				mg[j] = a
				m := mom[j]*mu + gj*lr/sqrt32(s-a*a+eps)
				mom[j] = m
				w[j] -= m
			}
		})
	}
	o.done(params, grads)
	return nil
}

// sqrt32 is the correctly rounded float32 square root.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
