package nn

// The input gradient of a strided convolution by sub-pixel phases
// (algoPhases), without Col2im.
//
// Shape legend as in conv.go. Along one spatial axis (input size I,
// stride s, pad before p, window K, output size O, dilation 1) the input
// cell i = q·s + r, r < s its phase, receives dy[o]·w[k] for every
// o·s − p + k = i, that is from the taps k ≡ r + p (mod s):
// k = k0 + j·s with k0 = (r + p) mod s and j < T = ⌈(K − k0)/s⌉, read at
// o = q + b − j, b = (r + p − k0)/s. With j' = T−1−j the cells of one
// phase are a stride-1 correlation of dy with a sub-filter of T taps,
//
//	dx[q·s + r] = Σ_{j'<T} dy[q + off + j'] · w[k0 + (T−1−j')·s],   off = b − (T−1),
//
// dy read as zero outside [0, O), for the Q = ⌈(I − r)/s⌉ cells of the
// phase. A phase of the three axes (rd, rh, rw) is then, in channels-last
// layout, the product
//
//	dx_phase[Qd·Qh·Qw, C] = patches[Qd·Qh·Qw, Td·Th·Tw·F] · wsub[Td·Th·Tw·F, C],
//	wsub[(jd', jh', jw', f), c] = w[kd, kh, kw, c, f],  k = k0 + (T−1−j')·s on each axis,
//
// the patches of dy gathered like Im2col's (a patch row holds the
// Td·Th·Tw F-vectors dy[qd+offd+jd', qh+offh+jh', qw+offw+jw', ·]). For a
// 3×3 stride-2 window with pad 0 before, rows of phase 0 take the taps
// {0, 2}, rows of phase 1 the tap {1}: sub-filters of 2×2, 2×1, 1×2 and
// 1×1 taps; a 1×1 stride-2 window has taps only in phase (0, 0), whose
// patches are dy itself, and every other phase is zero.
//
// Each phase's values go to their own dx cells, which no other phase
// touches: every cell is written once (a phase without taps is written as
// zeros), with no clear of dx and no scatter-add. The work is cut into
// pieces (image, phase, lines of the phase), each computed on one worker
// by a serial GEMM against the phase's sub-filter, packed once per call;
// a piece's values do not depend on which worker runs it.

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
)

// phaseAxis is phase r of one spatial axis: the q input cells q'·s + r
// (q' < q) take the taps k0, k0 + s, … (taps of them), the first of the
// flipped sub-filter reading dy at q' + off.
type phaseAxis struct{ r, q, k0, taps, off int }

// newPhaseAxis is phase r of an axis of input size in, stride s, pad
// before pad and window k (dilation 1).
func newPhaseAxis(r, in, s, pad, k int) phaseAxis {
	a := phaseAxis{r: r, k0: (r + pad) % s}
	if in > r {
		a.q = ceilDiv(in-r, s)
	}
	if a.k0 < k {
		a.taps = ceilDiv(k-a.k0, s)
	}
	a.off = (r+pad-a.k0)/s - (a.taps - 1)
	return a
}

// inputPhase is one phase (rd, rh, rw) of a sub-pixel input gradient.
type inputPhase struct {
	ax [3]phaseAxis
	// direct: a single tap whose patches are whole rows of dy, read in
	// place (lda F) instead of gathered: a 1×1 stride-s window.
	direct bool
}

// taps is the number of taps of the phase's sub-filter.
func (ph *inputPhase) taps() int { return ph.ax[0].taps * ph.ax[1].taps * ph.ax[2].taps }

// lines is the number of (qd, qh) lines of the phase, Qw cells each.
func (ph *inputPhase) lines() int { return ph.ax[0].q * ph.ax[1].q }

// phasePiece is lines [lo, hi) of phase phase of one image.
type phasePiece struct{ phase, lo, hi int }

// planPhases fills p for algoPhases over g (stride above 1 on some axis,
// dilation 1): the s0·s1·s2 phases, and pieces of at most bytes of
// patches (whole lines, at least one).
func (p *convPlan) planPhases(g *kernels.ConvGeom, f, bytes int) {
	p.algo = algoPhases
	s := g.Stride
	for rd := 0; rd < s[0]; rd++ {
		for rh := 0; rh < s[1]; rh++ {
			for rw := 0; rw < s[2]; rw++ {
				var ph inputPhase
				for a, r := range [3]int{rd, rh, rw} {
					ph.ax[a] = newPhaseAxis(r, g.In[a], s[a], g.Pad[a], g.K[a])
				}
				if ph.lines() == 0 || ph.ax[2].q == 0 {
					continue // no input cells (input smaller than the stride)
				}
				ph.direct = ph.taps() == 1 && ph.ax[0].off >= 0 && ph.ax[0].q+ph.ax[0].off <= g.Out[0]
				for a := 1; a < 3; a++ {
					ph.direct = ph.direct && ph.ax[a].off == 0 && ph.ax[a].q == g.Out[a]
				}
				i := len(p.phases)
				p.phases = append(p.phases, ph)
				k := ph.taps() * f
				per := ph.lines() // a phase without taps is one piece
				if k > 0 && !ph.direct {
					per = max(1, bytes/(4*ph.ax[2].q*k))
					p.patchFloats = max(p.patchFloats, min(per, ph.lines())*ph.ax[2].q*k)
				}
				for lo := 0; lo < ph.lines(); lo += per {
					hi := min(lo+per, ph.lines())
					p.pieces = append(p.pieces, phasePiece{i, lo, hi})
					p.longest = max(p.longest, (hi-lo)*ph.ax[2].q)
				}
			}
		}
	}
}

// phasesString describes the phases of p, e.g. "4 phases of 2x2, 2x1,
// 1x2, 1x1 taps".
func (p *convPlan) phasesString() string {
	var taps []string
	for _, ph := range p.phases {
		t := fmt.Sprintf("%dx%d", ph.ax[1].taps, ph.ax[2].taps)
		if ph.ax[0].taps != 1 {
			t = fmt.Sprintf("%dx%s", ph.ax[0].taps, t)
		}
		taps = append(taps, t)
	}
	return fmt.Sprintf("sub-pixel phases, %d of %s taps, %d pieces per image", len(p.phases), strings.Join(taps, ", "), len(p.pieces))
}

// convInputGradPhases computes dx [N, D, H, W, C] from w [KD, KH, KW, C, F]
// and dy [N, OD, OH, OW, F] phase by phase (see the top of this file),
// writing every cell of dx once.
func convInputGradPhases(pl *convPlan, g *kernels.ConvGeom, f int, w, dy, dx []float32) {
	c := g.C
	// The phases share out the taps, so their sub-filters fill len(w)
	// floats. They stay until the products are done: a PackedB may read
	// its operand in place.
	packs := make([]*kernels.PackedB, len(pl.phases))
	sub := getScratch(len(w))
	at := 0
	for i := range pl.phases {
		ph := &pl.phases[i]
		if ph.taps() == 0 {
			continue
		}
		k := ph.taps() * f
		subFilter(g, f, ph, w, (*sub)[at:at+k*c])
		packs[i] = kernels.PackB(false, k, c, (*sub)[at:], c)
		at += k * c
	}
	imgIn := g.In[0] * g.In[1] * g.In[2] * c
	imgOut := g.Out[0] * g.Out[1] * g.Out[2] * f
	pieces := len(pl.pieces)
	parallel.For(g.N*pieces, 1, func(lo, hi int) {
		patches := getScratch(pl.patchFloats)
		out := getScratch(pl.longest * c)
		for t := lo; t < hi; t++ {
			n, pc := t/pieces, pl.pieces[t%pieces]
			ph := &pl.phases[pc.phase]
			x, y := dx[n*imgIn:(n+1)*imgIn], dy[n*imgOut:(n+1)*imgOut]
			if packs[pc.phase] == nil {
				writePhase(g, ph, nil, pc.lo, pc.hi, x)
				continue
			}
			rows, k := (pc.hi-pc.lo)*ph.ax[2].q, ph.taps()*f
			a, lda := *patches, k
			if ph.direct {
				a, lda = y[phaseRow(g, ph, pc.lo)*f:], f
			} else {
				gatherPhase(g, f, ph, y, pc.lo, pc.hi, a)
			}
			kernels.SgemmPackedB(rows, 1, a, lda, packs[pc.phase], 0, *out, c)
			writePhase(g, ph, *out, pc.lo, pc.hi, x)
		}
		putScratch(out)
		putScratch(patches)
	})
	for _, pb := range packs {
		if pb != nil {
			pb.Release()
		}
	}
	putScratch(sub)
}

// phaseRow is the dy row (od·OH + oh)·OW + ow the first tap of line l's
// first cell reads.
func phaseRow(g *kernels.ConvGeom, ph *inputPhase, l int) int {
	qd, qh := l/ph.ax[1].q, l%ph.ax[1].q
	return ((qd+ph.ax[0].off)*g.Out[1]+qh+ph.ax[1].off)*g.Out[2] + ph.ax[2].off
}

// subFilter writes the phase's flipped sub-filter wsub [Td·Th·Tw·F, C]
// of w [KD, KH, KW, C, F] into dst.
func subFilter(g *kernels.ConvGeom, f int, ph *inputPhase, w, dst []float32) {
	c := g.C
	tap := func(a, j int) int { // kernel index of flipped tap j on axis a
		return ph.ax[a].k0 + (ph.ax[a].taps-1-j)*g.Stride[a]
	}
	row := 0
	for jd := 0; jd < ph.ax[0].taps; jd++ {
		for jh := 0; jh < ph.ax[1].taps; jh++ {
			for jw := 0; jw < ph.ax[2].taps; jw++ {
				k := (tap(0, jd)*g.K[1]+tap(1, jh))*g.K[2] + tap(2, jw)
				src := w[k*c*f : (k+1)*c*f] // [C, F]
				blk := dst[row*c : (row+f)*c]
				for ch := 0; ch < c; ch++ {
					for j := 0; j < f; j++ {
						blk[j*c+ch] = src[ch*f+j]
					}
				}
				row += f
			}
		}
	}
}

// gatherPhase writes the patch rows of lines [lo, hi) of the phase, from
// one image's dy [OD, OH, OW, F], into buf: row (l, qw) holds, for each
// tap (jd', jh', jw'), dy[qd+offd+jd', qh+offh+jh', qw+offw+jw', ·] or
// zeros outside dy.
func gatherPhase(g *kernels.ConvGeom, f int, ph *inputPhase, dy []float32, lo, hi int, buf []float32) {
	ad, ah, aw := &ph.ax[0], &ph.ax[1], &ph.ax[2]
	seg := aw.taps * f // one (jd', jh') slice of a patch row
	k := ad.taps * ah.taps * seg
	outW := g.Out[2]
	for l := lo; l < hi; l++ {
		qd, qh := l/ah.q, l%ah.q
		line := buf[(l-lo)*aw.q*k : (l-lo+1)*aw.q*k]
		off := 0
		for jd := 0; jd < ad.taps; jd++ {
			od := qd + ad.off + jd
			for jh := 0; jh < ah.taps; jh++ {
				oh := qh + ah.off + jh
				if od < 0 || od >= g.Out[0] || oh < 0 || oh >= g.Out[1] {
					for qw := 0; qw < aw.q; qw++ {
						clear(line[qw*k+off : qw*k+off+seg])
					}
					off += seg
					continue
				}
				row := dy[(od*g.Out[1]+oh)*outW*f : (od*g.Out[1]+oh+1)*outW*f]
				for qw := 0; qw < aw.q; qw++ {
					s := line[qw*k+off : qw*k+off+seg]
					ow0 := qw + aw.off
					jLo, jHi := max(0, -ow0), min(aw.taps, outW-ow0)
					if jHi <= jLo {
						clear(s)
						continue
					}
					clear(s[:jLo*f])
					copy(s[jLo*f:jHi*f], row[(ow0+jLo)*f:(ow0+jHi)*f])
					clear(s[jHi*f:])
				}
				off += seg
			}
		}
	}
}

// writePhase copies the phase values vals [(hi−lo)·Qw, C] of lines
// [lo, hi) into their cells of one image's dx [D, H, W, C], or zeros
// when vals is nil.
func writePhase(g *kernels.ConvGeom, ph *inputPhase, vals []float32, lo, hi int, dx []float32) {
	c, sw := g.C, g.Stride[2]
	ah, aw := &ph.ax[1], &ph.ax[2]
	for l := lo; l < hi; l++ {
		qd, qh := l/ah.q, l%ah.q
		id, ih := qd*g.Stride[0]+ph.ax[0].r, qh*g.Stride[1]+ah.r
		row := dx[((id*g.In[1]+ih)*g.In[2]+aw.r)*c:]
		if vals == nil {
			for qw := 0; qw < aw.q; qw++ {
				clear(row[qw*sw*c : qw*sw*c+c])
			}
			continue
		}
		src := vals[(l-lo)*aw.q*c:]
		for qw := 0; qw < aw.q; qw++ {
			copy(row[qw*sw*c:qw*sw*c+c], src[qw*c:(qw+1)*c])
		}
	}
}
