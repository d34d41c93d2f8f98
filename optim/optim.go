// Package optim updates variables from their gradients: SGD, Momentum,
// RMSProp and Adam in TensorFlow 1's forms (tf.train.*Optimizer), and
// AdamW with Keras' decoupled weight decay.
//
// Each optimizer keeps per-variable state in slots named the way a TF1
// checkpoint names them, "<var>/<Slot>", e.g. "conv1/kernel/Adam" (first
// moment) and "conv1/kernel/Adam_1" (second moment), plus an iteration
// count. Slots and Iterations export that state and SetSlots and
// SetIterations restore it, so a run resumed from a checkpoint continues
// bit for bit as if it had not stopped.
//
// Variables are identified by Name(), which must be non-empty and unique
// among the params of a Step. Updates are in place, in float32, with the
// scalar coefficients computed once per step in float64 and rounded to
// float32 (TF keeps them as float32 variables). Large variables are split
// across goroutines with internal/parallel; every element is updated by
// the same expression whatever the split, so results do not depend on
// GOMAXPROCS.
package optim

import (
	"fmt"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// Optimizer applies one update per Step. Implementations: *SGD,
// *Momentum, *RMSProp, *Adam and *AdamW.
type Optimizer interface {
	// Step updates params[i].Value() in place from grads[i]; a nil grad
	// leaves its param (and its slots) untouched. Every Step counts as one
	// iteration. Nothing is modified when Step returns an error.
	Step(params []*autograd.Var, grads []*tensor.Tensor) error
	// Slots returns copies of the slot tensors keyed "<var>/<Slot>".
	Slots() map[string]*tensor.Tensor
	// SetSlots replaces all slots with copies of those given.
	SetSlots(map[string]*tensor.Tensor) error
	// Iterations returns the number of Steps applied (TF's iterations /
	// the t of Adam's bias correction).
	Iterations() int64
	// SetIterations sets that count, as when resuming.
	SetIterations(int64)
}

// minPerWorker is the smallest number of elements worth a goroutine.
const minPerWorker = 1 << 15

// state is the bookkeeping shared by all optimizers: slot tensors per
// variable name (one per suffix, in order) and the iteration count.
type state struct {
	kind     string    // optimizer name for errors, e.g. "Adam"
	suffixes []string  // slot suffixes, e.g. {"Adam", "Adam_1"}
	initial  []float32 // each slot's starting value (RMSProp's rms starts at 1)
	slots    map[string][]*tensor.Tensor
	iter     int64
}

func newState(kind string, suffixes []string, initial []float32) state {
	return state{kind: kind, suffixes: suffixes, initial: initial, slots: map[string][]*tensor.Tensor{}}
}

// Iterations returns the number of Steps applied so far.
func (s *state) Iterations() int64 { return s.iter }

// SetIterations sets the number of Steps applied so far, as when
// resuming from a checkpoint.
func (s *state) SetIterations(n int64) { s.iter = n }

// Slots returns a copy of every slot tensor keyed "<var>/<suffix>".
func (s *state) Slots() map[string]*tensor.Tensor {
	out := make(map[string]*tensor.Tensor, len(s.slots)*len(s.suffixes))
	for name, ts := range s.slots {
		for i, t := range ts {
			out[name+"/"+s.suffixes[i]] = t.Clone()
		}
	}
	return out
}

// SetSlots replaces the slots with copies of m. Every key must be
// "<var>/<suffix>" with one of this optimizer's suffixes, and every var
// must have all of its slots with one shape. Shapes are checked against
// the variables at the next Step.
func (s *state) SetSlots(m map[string]*tensor.Tensor) error {
	next := map[string][]*tensor.Tensor{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t := m[k]
		name, idx := s.split(k)
		if idx < 0 {
			return fmt.Errorf("optim: %s: slot %q is not \"<var>/%s\"", s.kind, k, strings.Join(s.suffixes, "\" or \"<var>/"))
		}
		if t == nil {
			return fmt.Errorf("optim: %s: slot %q is nil", s.kind, k)
		}
		if next[name] == nil {
			next[name] = make([]*tensor.Tensor, len(s.suffixes))
		}
		next[name][idx] = t.Clone()
	}
	for name, ts := range next {
		for i, t := range ts {
			if t == nil {
				return fmt.Errorf("optim: %s: variable %q has no slot %q", s.kind, name, name+"/"+s.suffixes[i])
			}
			if !tensor.SameShape(t.Shape(), ts[0].Shape()) {
				return fmt.Errorf("optim: %s: slots of %q have shapes %v (%s) and %v (%s)",
					s.kind, name, ts[0].Shape(), s.suffixes[0], t.Shape(), s.suffixes[i])
			}
		}
	}
	s.slots = next
	return nil
}

// split returns the variable name and suffix index of a slot key, or
// idx −1. The longest suffix wins, so "x/Adam_1" is never read as a
// variable "x/Adam_1" minus "Adam".
func (s *state) split(key string) (name string, idx int) {
	idx = -1
	best := 0
	for i, suf := range s.suffixes {
		if strings.HasSuffix(key, "/"+suf) && len(key) > len(suf)+1 && len(suf) > best {
			name, idx, best = key[:len(key)-len(suf)-1], i, len(suf)
		}
	}
	return name, idx
}

// prepare validates a Step's arguments and returns, for each param with a
// gradient, its slots (created at their initial value when missing).
// It modifies nothing visible until it succeeds.
func (s *state) prepare(params []*autograd.Var, grads []*tensor.Tensor) ([][]*tensor.Tensor, error) {
	if len(params) != len(grads) {
		return nil, fmt.Errorf("optim: %s: %d params but %d grads", s.kind, len(params), len(grads))
	}
	seen := make(map[string]bool, len(params))
	out := make([][]*tensor.Tensor, len(params))
	fresh := map[string][]*tensor.Tensor{}
	for i, p := range params {
		if p == nil {
			return nil, fmt.Errorf("optim: %s: param %d is nil", s.kind, i)
		}
		if p.Err() != nil {
			return nil, fmt.Errorf("optim: %s: param %d (%q): %w", s.kind, i, p.Name(), p.Err())
		}
		name := p.Name()
		if name == "" {
			return nil, fmt.Errorf("optim: %s: param %d has no name; slots are keyed by name", s.kind, i)
		}
		if seen[name] {
			return nil, fmt.Errorf("optim: %s: param name %q appears twice", s.kind, name)
		}
		seen[name] = true
		g := grads[i]
		if g == nil {
			continue
		}
		shape := p.Value().Shape()
		if !tensor.SameShape(g.Shape(), shape) {
			return nil, fmt.Errorf("optim: %s: gradient of %q has shape %v, want %v", s.kind, name, g.Shape(), shape)
		}
		ts, ok := s.slots[name]
		if !ok {
			ts = make([]*tensor.Tensor, len(s.suffixes))
			for k := range ts {
				ts[k] = tensor.Full(s.initial[k], shape...)
			}
			fresh[name] = ts
		} else if len(ts) > 0 && !tensor.SameShape(ts[0].Shape(), shape) {
			return nil, fmt.Errorf("optim: %s: slot %q has shape %v but variable %q has %v",
				s.kind, name+"/"+s.suffixes[0], ts[0].Shape(), name, shape)
		}
		out[i] = ts
	}
	for name, ts := range fresh {
		s.slots[name] = ts
	}
	return out, nil
}

// done ends a Step that updated every param with a gradient in place:
// it marks those values changed (tensor.MarkChanged, so that packed
// forms of the old weights are not used again) and advances the
// iteration count.
func (s *state) done(params []*autograd.Var, grads []*tensor.Tensor) {
	for i, p := range params {
		if grads[i] != nil {
			p.Value().MarkChanged()
		}
	}
	s.iter++
}

// each runs fn over [0, n) split across workers.
func each(n int, fn func(lo, hi int)) { parallel.For(n, minPerWorker, fn) }

// or returns v, or def when v is zero.
func or(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}
