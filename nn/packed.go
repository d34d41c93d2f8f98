package nn

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// Packed keeps the forms that ops prepare from one weight tensor w before
// multiplying by it, so that a model run again and again with the same
// weights (evaluation, serving, batch-1 latency) prepares them once:
//
//	MatMulPacked                        w [K, N] cut into column slabs of
//	                                    slabCols: slab s is the K×width block
//	                                    w[:, 64s : 64s+width], row-major and
//	                                    contiguous, which a product with few
//	                                    rows streams instead of striding
//	                                    across w's rows; for longer products
//	                                    w packed into Sgemm's B panels (per
//	                                    Sgemm implementation)
//	Conv2DPacked, Conv2DBiasReluPacked  the Winograd-transformed filter
//	                                    U_ξ [C, F] of each cell ξ, packed into
//	                                    Sgemm panels (per scheme and Sgemm
//	                                    implementation)
//
// Validity: each form records w.Version() when it is built and is rebuilt
// when the version has moved on, so code that changes w's values in place
// must call w.MarkChanged afterwards (the optimizers and SetWeights do). A
// form is built on the second call at one version, never on the first: a
// training step calls each op once per version of its weights and so never
// pays for packing, and the first call computes from w directly, with the
// same bits as the packed form gives.
//
// Ownership: the forms are the Packed's own memory, released with it by
// the garbage collector; nothing is handed back to a pool. A Packed is
// safe for concurrent use: a call holds the form it uses until it returns,
// and a rebuild while another call holds the form takes fresh memory
// instead of overwriting it. autograd makes one for each Variable.
type Packed struct {
	w *tensor.Tensor

	mu     sync.Mutex
	slabs  formSlot[[]float32]
	panels []*panelSlot
	wino   []*winoSlot

	memo atomic.Pointer[convMemo] // the last convolution geometry
}

// NewPacked returns an empty Packed for the weight tensor w.
func NewPacked(w *tensor.Tensor) *Packed { return &Packed{w: w} }

// Tensor returns the weight tensor the forms are prepared from.
func (p *Packed) Tensor() *tensor.Tensor { return p.w }

// form is one prepared form of a weight tensor: v computed from the
// weights at version, used by refs calls right now.
type form[T any] struct {
	version uint64
	refs    int
	v       T
}

// formSlot holds the current form of one kind and the version at which
// it was last asked for and not built.
type formSlot[T any] struct {
	cur      *form[T]
	asked    bool
	askedVer uint64
}

// acquire returns the slot's form for version ver with one more
// reference, building it on the second request at ver (build gets the
// value of a form nobody uses any more to reuse its memory, or the zero
// T), or nil on the first: the caller then computes from the weights.
// The caller holds the Packed's lock.
func (s *formSlot[T]) acquire(ver uint64, build func(reuse T) T) *form[T] {
	if f := s.cur; f != nil && f.version == ver {
		f.refs++
		return f
	}
	if !s.asked || s.askedVer != ver {
		s.asked, s.askedVer = true, ver
		return nil
	}
	var reuse T
	if s.cur != nil && s.cur.refs == 0 {
		reuse = s.cur.v
	}
	s.cur = &form[T]{version: ver, refs: 1, v: build(reuse)}
	return s.cur
}

// release drops the reference acquire gave.
func (p *Packed) release(refs *int) {
	p.mu.Lock()
	*refs--
	p.mu.Unlock()
}

// slabCols is the width of MatMulPacked's column slabs: the one-row
// product (kernels.Gemv) runs 64 columns in eight 8-wide accumulators,
// and 64 columns are two AVX-512 or four AVX2 Sgemm panels.
const slabCols = 64

// slabMaxRows is the most rows of a product MatMulPacked runs on the
// slabs; longer products amortise Sgemm's own packing of b and run as
// MatMul.
const slabMaxRows = 32

// slabMinPer is the fewest multiply-adds worth a goroutine of
// MatMulPacked's slab loop.
const slabMinPer = 1 << 18

// MatMulPacked returns MatMul(a, p.Tensor(), false, false): a [M, K] times
// the weights w [K, N], as [M, N]. Products of at most slabMaxRows rows
// run slab by slab over w's columns (kernels.Gemv for one row,
// kernels.SgemmSerial otherwise, the slabs shared out among the workers),
// reading the packed slabs from the second call at one version of w on.
// Longer products are MatMul's Sgemm, from the second call on with w's
// Sgemm panels kept (kernels.SgemmPackedBParallel) instead of packed
// anew. The values repeat bit for bit whether w is packed or not, and do
// not depend on the number of workers.
func MatMulPacked(a *tensor.Tensor, p *Packed) (*tensor.Tensor, error) {
	if p == nil {
		return nil, fmt.Errorf("nn: MatMulPacked: nil Packed")
	}
	b := p.w
	if a == nil || b == nil || a.Rank() != 2 || b.Rank() != 2 || a.Dim(1) != b.Dim(0) {
		return MatMul(a, b, false, false) // its error
	}
	m, k, n := a.Dim(0), a.Dim(1), b.Dim(1)
	if m == 0 || n == 0 || k == 0 {
		return MatMul(a, b, false, false)
	}
	if m > slabMaxRows {
		f := p.acquirePanels()
		if f == nil {
			return MatMul(a, b, false, false)
		}
		y := newResult(m, n)
		kernels.SgemmPackedBParallel(m, 1, a.Data(), k, f.v.pb, 0, y.Data(), n)
		p.release(&f.refs)
		return y, nil
	}
	p.mu.Lock()
	f := p.slabs.acquire(b.Version(), func(reuse []float32) []float32 {
		if cap(reuse) < k*n {
			reuse = make([]float32, k*n)
		}
		packSlabs(reuse[:k*n], b.Data(), k, n)
		return reuse[:k*n]
	})
	p.mu.Unlock()
	y := newResult(m, n)
	if f == nil {
		slabProduct(y.Data(), a.Data(), m, k, n, b.Data(), false)
		return y, nil
	}
	slabProduct(y.Data(), a.Data(), m, k, n, f.v, true)
	p.release(&f.refs)
	return y, nil
}

// packSlabs copies b [k, n] into dst slab by slab: column j0+j of slab
// j0/slabCols (width = min(slabCols, n − j0)) row p at
// dst[j0·k + p·width + j].
func packSlabs(dst, b []float32, k, n int) {
	for j0 := 0; j0 < n; j0 += slabCols {
		width := min(slabCols, n-j0)
		s := dst[j0*k : j0*k+k*width]
		for p := 0; p < k; p++ {
			copy(s[p*width:(p+1)*width], b[p*n+j0:])
		}
	}
}

// slabProduct computes y [m, n] = a [m, k] · b, slab by slab. b is
// [k, n] row-major, or with packed set b packed by packSlabs (the slab
// of columns [j0, j0+width) at b[j0·k:], row stride width).
func slabProduct(y, a []float32, m, k, n int, b []float32, packed bool) {
	slabs := ceilDiv(n, slabCols)
	minPer := max(1, slabMinPer/(m*k*slabCols))
	if parallel.Split(slabs, minPer) == 1 {
		slabRange(y, a, m, k, n, b, packed, 0, slabs) // no closure to allocate
		return
	}
	l := slabLoops.get()
	l.args = slabArgs{y: y, a: a, b: b, m: m, k: k, n: n, packed: packed}
	parallel.For(slabs, minPer, l.body)
	slabLoops.put(l)
}

// slabArgs are the arguments of a shared-out slabProduct (slabLoops).
type slabArgs struct {
	y, a, b []float32
	m, k, n int
	packed  bool
}

var slabLoops = loopPool[slabArgs]{run: func(l *slabArgs, lo, hi int) {
	slabRange(l.y, l.a, l.m, l.k, l.n, l.b, l.packed, lo, hi)
}}

// slabRange computes slabs [lo, hi) of slabProduct.
func slabRange(y, a []float32, m, k, n int, b []float32, packed bool, lo, hi int) {
	for s := lo; s < hi; s++ {
		j0 := s * slabCols
		width := min(slabCols, n-j0)
		bs, ldb := b[j0:], n
		if packed {
			bs, ldb = b[j0*k:], width
		}
		if m == 1 {
			kernels.Gemv(y[j0:j0+width], a, bs, k, ldb)
			continue
		}
		kernels.SgemmSerial(false, false, m, width, k, 1, a, k, bs, ldb, 0, y[j0:], n)
	}
}

// panelSlot holds w [K, N] packed into the Sgemm panels of one
// implementation.
type panelSlot struct {
	impl string
	formSlot[panels]
}

// panels is w packed for Sgemm into buf.
type panels struct {
	buf []float32
	pb  *kernels.PackedB
}

// acquirePanels returns w's Sgemm panels for the implementation in use,
// or nil on the first call at this version (see formSlot.acquire). The
// caller releases them with p.release.
func (p *Packed) acquirePanels() *form[panels] {
	impl := kernels.Impl()
	p.mu.Lock()
	defer p.mu.Unlock()
	var slot *panelSlot
	for _, ps := range p.panels {
		if ps.impl == impl {
			slot = ps
		}
	}
	if slot == nil {
		slot = &panelSlot{impl: impl}
		p.panels = append(p.panels, slot)
	}
	return slot.acquire(p.w.Version(), func(reuse panels) panels {
		k, n := p.w.Dim(0), p.w.Dim(1)
		if size := kernels.PackedBLen(k, n); len(reuse.buf) != size {
			reuse.buf = make([]float32, size)
		}
		reuse.pb = kernels.PackBInto(reuse.buf, false, k, n, p.w.Data(), n)
		return reuse
	})
}

// winoSlot holds the Winograd form of a filter for one scheme and one
// Sgemm implementation (the panels' layout is the implementation's).
type winoSlot struct {
	scheme *kernels.WinoScheme
	impl   string
	formSlot[winoForm]
}

// winoForm is a filter's transform and its packed panels (winoFilters).
type winoForm struct {
	u, panels []float32
	packed    []*kernels.PackedB
}

// acquireWino returns the Winograd form of the filter (C input, F output
// channels) for scheme s, or nil on the first call at this version (see
// formSlot.acquire). The caller releases it with p.release.
func (p *Packed) acquireWino(s *kernels.WinoScheme, c, f int) *form[winoForm] {
	impl := kernels.Impl()
	p.mu.Lock()
	defer p.mu.Unlock()
	var slot *winoSlot
	for _, ws := range p.wino {
		if ws.scheme == s && ws.impl == impl {
			slot = ws
		}
	}
	if slot == nil {
		slot = &winoSlot{scheme: s, impl: impl}
		p.wino = append(p.wino, slot)
	}
	return slot.acquire(p.w.Version(), func(reuse winoForm) winoForm {
		ulen, plen := s.Cells()*c*f, max(1, s.Cells()*kernels.PackedBLen(c, f))
		if len(reuse.u) != ulen || len(reuse.panels) != plen {
			reuse.u, reuse.panels = make([]float32, ulen), make([]float32, plen)
		}
		if len(reuse.packed) != s.Cells() {
			reuse.packed = make([]*kernels.PackedB, s.Cells())
		}
		winoFilters(s, c, f, p.w.Data(), reuse.u, reuse.panels, reuse.packed)
		return reuse
	})
}

// Conv2DPacked is Conv2D(input, p.Tensor(), o), with the filter's
// Winograd transform (for the convolutions that take that path) kept in
// p from the second call at one version of the filter on. The values are
// those of Conv2D.
func Conv2DPacked(input *tensor.Tensor, p *Packed, o ConvOptions) (*tensor.Tensor, error) {
	if p == nil {
		return nil, fmt.Errorf("nn.Conv2D: nil Packed")
	}
	const op = "nn.Conv2D"
	if err := checkTensors(op, []string{"input", "filter"}, input, p.w); err != nil {
		return nil, err
	}
	s, pl, err := p.forwardSetup(op, input.Shape(), o)
	if err != nil {
		return nil, err
	}
	x, xb := s.lastLayout(input.Data(), s.in)
	y := s.result(s.out, func(y []float32) { p.convForward(pl, &s.g, s.f, x, p.w.Data(), y, epilogue{}) })
	putScratch(xb)
	return y, nil
}

// convForward is convForwardPlan following pl, the forward plan of g,
// for w = p.w's data, taking the Winograd filters from p.
func (p *Packed) convForward(pl *convPlan, g *kernels.ConvGeom, f int, x, w, y []float32, ep epilogue) {
	if pl.algo == algoWinograd {
		if fm := p.acquireWino(pl.scheme, g.C, f); fm != nil {
			winogradConvPacked(pl, g, f, x, fm.v.packed, y, ep, prologue{})
			p.release(&fm.refs)
			return
		}
	}
	convForwardPlan(pl, g, f, x, w, y, ep)
}
