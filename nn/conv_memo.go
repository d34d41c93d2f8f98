package nn

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
)

// A convolution's validation (newConvSpec) and its plan (planConv) cost
// a dozen small allocations, which a batch-1 forward pass would pay on
// every call: every allocation between two garbage collections lands on
// memory the heap has not used before, and a virtual machine faults
// each such page in at tens of microseconds. A Packed filter therefore
// keeps the spec and forward plan of its last geometry in a convMemo,
// used again while the input shape, the options and everything the plan
// reads (tune, the worker count, the Sgemm implementation) are the same.
// The spec and plan are read-only once built, so concurrent calls share
// them; a call with another geometry builds its own and replaces the
// memo (atomically: no lock).

// convMemo is the spec and forward plan of one convolution geometry.
type convMemo struct {
	op        string
	in        [5]int
	rank      int
	strides   optInts
	dilations optInts
	padding   string
	format    string
	tune      tuning
	workers   int
	impl      string

	spec *convSpec
	plan *convPlan
}

// optInts is a Strides or Dilations option (at most 5 values) by value.
type optInts struct {
	v [5]int
	n int
}

// optIntsOf returns v as an optInts, or false when v is too long to be
// valid (such options are not memoised; newConvSpec rejects them).
func optIntsOf(v []int) (optInts, bool) {
	var o optInts
	if len(v) > len(o.v) {
		return o, false
	}
	o.n = copy(o.v[:], v)
	return o, true
}

// same reports whether o holds exactly v.
func (o *optInts) same(v []int) bool {
	if len(v) != o.n {
		return false
	}
	for i, x := range v {
		if o.v[i] != x {
			return false
		}
	}
	return true
}

// matches reports whether m is the memo of op on an input of shape in
// with options o, under the current tuning, workers and implementation.
func (m *convMemo) matches(op string, in []int, o ConvOptions) bool {
	if m.op != op || len(in) != m.rank || len(o.ExplicitPaddings) != 0 ||
		o.Padding != m.padding || o.DataFormat != m.format ||
		!m.strides.same(o.Strides) || !m.dilations.same(o.Dilations) {
		return false
	}
	for i, d := range in {
		if m.in[i] != d {
			return false
		}
	}
	return m.tune == tune && m.workers == parallel.Workers() && m.impl == kernels.Impl()
}

// forwardSetup returns the spec and forward plan of the 2-D convolution
// op of input shape in with p's filter, from p's memo when it matches,
// else built (and memoised when the options allow).
func (p *Packed) forwardSetup(op string, in []int, o ConvOptions) (*convSpec, *convPlan, error) {
	if m := p.memo.Load(); m != nil && m.matches(op, in, o) {
		if w := planLog.Load(); w != nil {
			// A memo made before ExplainPlans was planned unexplained.
			explainOnce(*w, passForward, &m.spec.g, m.spec.f, m.plan)
		}
		return m.spec, m.plan, nil
	}
	s, err := newConvSpec(op, 2, in, p.w.Shape(), o, false)
	if err != nil {
		return nil, nil, err
	}
	pl := planConv(passForward, &s.g, s.f)
	strides, ok1 := optIntsOf(o.Strides)
	dilations, ok2 := optIntsOf(o.Dilations)
	if ok1 && ok2 && len(o.ExplicitPaddings) == 0 && len(in) <= 5 {
		m := &convMemo{op: op, rank: len(in), strides: strides, dilations: dilations,
			padding: o.Padding, format: o.DataFormat, tune: tune,
			workers: parallel.Workers(), impl: kernels.Impl(), spec: s, plan: pl}
		copy(m.in[:], in)
		p.memo.Store(m)
	}
	return s, pl, nil
}
