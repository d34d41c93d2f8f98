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
// phase. For a 3×3 stride-2 window with pad 0 before, phase 0 takes the
// taps {0, 2} (off −1), phase 1 the tap {1} (off 0); a 1×1 stride-2
// window has no tap in phase 1, whose cells are zero.
//
// Depth and height phases (rd, rh) are taken one at a time; the sw width
// phases are computed together, as the column blocks of one product, so
// that each line of the product is a whole row of dx. A width phase rw
// reads dy columns qw + off_rw … qw + off_rw + T_rw − 1: together they
// read a window of U columns from qw + umin, and a row phase is, in
// channels-last layout,
//
//	out[Qd·Qh·Qw, sw·C] = patches[Qd·Qh·Qw, Td·Th·U·F] · wsub[Td·Th·U·F, sw·C],
//	patches[(qd, qh, qw), (jd', jh', u, f)] = dy[qd+offd+jd', qh+offh+jh', qw+umin+u, f],
//	wsub[(jd', jh', u, f), (rw, c)] = w[kd, kh, kw, c, f] where u + umin = off_rw + jw'
//	(k = k0 + (T−1−j')·s on each axis), 0 where column u is no tap of phase rw,
//
// with Qw = ⌈W/sw⌉. Line (qd, qh) of out holds the cells
// iw = qw·sw + rw of dx row (qd·sd + rd, qh·sh + rh) in order: its first
// W·C values are that row, copied once. (3×3 stride 2: wsub is 2·2·F ×
// 2·C for rh = 0 and 1·2·F × 2·C for rh = 1, one F×C block of each zero.)
// A row phase without taps is written as zeros. So every cell of dx is
// written once, with no clear of dx and no scatter-add.
//
// The work is cut into pieces (row phase, run of lines over the batch,
// images one after the other), each gathered and multiplied by one worker
// with a serial GEMM against the row phase's sub-filter, packed once per
// call; the pieces depend on the geometry only, and a piece's values do
// not depend on which worker runs it.

import (
	"cmp"
	"fmt"
	"slices"
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

// inputPhase is one row phase (rd, rh) of a sub-pixel input gradient,
// with every width phase.
type inputPhase struct {
	ax [2]phaseAxis // depth and height
	w  []phaseAxis  // the sw width phases rw
	// The width window: dy columns qw + umin … qw + umin + u − 1.
	umin, u int
	// direct: one tap whose patches are whole rows of dy, read in place
	// (lda F) instead of gathered: a 1×1 window.
	direct bool
}

// taps is the number of taps of the row phase's patch: Td·Th·U.
func (ph *inputPhase) taps() int { return ph.ax[0].taps * ph.ax[1].taps * ph.u }

// lines is the number of (qd, qh) lines of the row phase in one image.
func (ph *inputPhase) lines() int { return ph.ax[0].q * ph.ax[1].q }

// phasePiece is lines [lo, hi) of row phase phase, counted over the
// batch: line n·lines() + l is line l of image n.
type phasePiece struct{ phase, lo, hi int }

// planPhases fills p for algoPhases over g (stride above 1 on some axis,
// dilation 1): the row phases that have input cells, their pieces of at
// most bytes of patches (whole lines, at least one), and the scratch the
// executor needs. It reports false, p then unusable, where one line's
// patches or products would take more than phaseLineMaxBytes (a very
// wide input): Col2im's chunks may cut lines, these may not.
func (p *convPlan) planPhases(g *kernels.ConvGeom, f, bytes int) bool {
	p.algo = algoPhases
	s := g.Stride
	// The width window spans the columns every width phase with cells
	// and taps reads (none: the row phases have no taps).
	var wph []phaseAxis
	umin, umax, seen := 0, 0, false
	for rw := 0; rw < s[2]; rw++ {
		a := newPhaseAxis(rw, g.In[2], s[2], g.Pad[2], g.K[2])
		wph = append(wph, a)
		if a.taps == 0 || a.q == 0 {
			continue
		}
		if !seen {
			umin, umax, seen = a.off, a.off+a.taps, true
		}
		umin, umax = min(umin, a.off), max(umax, a.off+a.taps)
	}
	qw := ceilDiv(g.In[2], s[2])
	p.phaseCols = s[2] * g.C
	for rd := 0; rd < s[0]; rd++ {
		for rh := 0; rh < s[1]; rh++ {
			ph := inputPhase{w: wph, umin: umin, u: umax - umin}
			ph.ax[0] = newPhaseAxis(rd, g.In[0], s[0], g.Pad[0], g.K[0])
			ph.ax[1] = newPhaseAxis(rh, g.In[1], s[1], g.Pad[1], g.K[1])
			if ph.lines() == 0 {
				continue // no input cells (input smaller than the stride)
			}
			a0, a1 := &ph.ax[0], &ph.ax[1]
			ph.direct = ph.taps() == 1 && a0.off == 0 && a0.q == g.Out[0] &&
				a1.off == 0 && a1.q == g.Out[1] && umin == 0 && qw == g.Out[2]
			i := len(p.phases)
			p.phases = append(p.phases, ph)
			k := ph.taps() * f
			p.subFloats += k * p.phaseCols
			lines := g.N * ph.lines()
			per := max(1, bytes/(4*qw*max(k, p.phaseCols)))
			if k > 0 && !ph.direct {
				p.patchFloats = max(p.patchFloats, min(per, lines)*qw*k)
			}
			for lo := 0; lo < lines; lo += per {
				hi := min(lo+per, lines)
				p.pieces = append(p.pieces, phasePiece{i, lo, hi})
				p.longest = max(p.longest, (hi-lo)*qw)
			}
		}
	}
	// Image by image: the pieces of every row phase that start in one
	// image run together, while its dy is in cache, and fill its dx.
	slices.SortStableFunc(p.pieces, func(a, b phasePiece) int {
		return cmp.Compare(a.lo/p.phases[a.phase].lines(), b.lo/p.phases[b.phase].lines())
	})
	return 4*max(p.patchFloats, p.longest*p.phaseCols) <= max(bytes, phaseLineMaxBytes)
}

// phaseLineMaxBytes bounds the scratch of one worker's piece of a
// sub-pixel input gradient, whole lines (16 MiB: a 3×3 stride-2 window
// over 128 channels reaches it at a width of about 16,000).
const phaseLineMaxBytes = 16 << 20

// phasesString describes the phases of p, e.g. "sub-pixel phases, rows
// of 2x2, 1x2 taps × 2 width phases, 100 pieces".
func (p *convPlan) phasesString() string {
	var taps []string
	widths := 0
	for _, ph := range p.phases {
		widths = len(ph.w)
		t := fmt.Sprintf("%dx%d", ph.ax[1].taps, ph.u)
		if ph.ax[0].taps != 1 {
			t = fmt.Sprintf("%dx%s", ph.ax[0].taps, t)
		}
		taps = append(taps, t)
	}
	return fmt.Sprintf("sub-pixel phases, rows of %s taps × %d width phases, %d pieces",
		strings.Join(taps, ", "), widths, len(p.pieces))
}

// convInputGradPhases computes dx [N, D, H, W, C] from w [KD, KH, KW, C, F]
// and dy [N, OD, OH, OW, F] by row phases (see the top of this file),
// writing every cell of dx once.
func convInputGradPhases(pl *convPlan, g *kernels.ConvGeom, f int, w, dy, dx, add []float32) {
	n := pl.phaseCols
	// The sub-filters stay until the products are done: a PackedB may
	// read its operand in place.
	packs := make([]*kernels.PackedB, len(pl.phases))
	sub := getScratch(pl.subFloats)
	at := 0
	for i := range pl.phases {
		ph := &pl.phases[i]
		k := ph.taps() * f
		if k == 0 {
			continue
		}
		subFilter(g, f, ph, w, (*sub)[at:at+k*n])
		packs[i] = kernels.PackB(false, k, n, (*sub)[at:], n)
		at += k * n
	}
	parallel.For(len(pl.pieces), 1, func(lo, hi int) {
		patches := getScratch(pl.patchFloats)
		out := getScratch(pl.longest * n)
		for _, pc := range pl.pieces[lo:hi] {
			ph := &pl.phases[pc.phase]
			if packs[pc.phase] == nil {
				writePhase(g, ph, nil, pc.lo, pc.hi, dx, add)
				continue
			}
			rows, k := (pc.hi-pc.lo)*ceilDiv(g.In[2], g.Stride[2]), ph.taps()*f
			a, lda := *patches, k
			if ph.direct {
				// Line l of image n reads dy row n·OD·OH·OW + l·OW.
				a, lda = dy[pc.lo*g.Out[2]*f:], f
			} else {
				gatherPhase(g, f, ph, dy, pc.lo, pc.hi, a)
			}
			kernels.SgemmPackedB(rows, 1, a, lda, packs[pc.phase], 0, *out, n)
			writePhase(g, ph, *out, pc.lo, pc.hi, dx, add)
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

// subFilter writes the row phase's flipped sub-filter wsub
// [Td·Th·U·F, sw·C] of w [KD, KH, KW, C, F] into dst, zero where a
// window column is no tap of a width phase.
func subFilter(g *kernels.ConvGeom, f int, ph *inputPhase, w, dst []float32) {
	c, sw := g.C, g.Stride[2]
	n := sw * c
	clear(dst[:ph.taps()*f*n])
	tap := func(a *phaseAxis, j, s int) int { return a.k0 + (a.taps-1-j)*s } // kernel index of flipped tap j
	row := 0
	for jd := 0; jd < ph.ax[0].taps; jd++ {
		kd := tap(&ph.ax[0], jd, g.Stride[0])
		for jh := 0; jh < ph.ax[1].taps; jh++ {
			kh := tap(&ph.ax[1], jh, g.Stride[1])
			for u := 0; u < ph.u; u++ {
				blk := dst[row*n : (row+f)*n]
				for rw := range ph.w {
					a := &ph.w[rw]
					j := u + ph.umin - a.off
					if a.q == 0 || j < 0 || j >= a.taps {
						continue
					}
					k := (kd*g.K[1]+kh)*g.K[2] + tap(a, j, sw)
					src := w[k*c*f : (k+1)*c*f] // [C, F]
					for ch := 0; ch < c; ch++ {
						for fi := 0; fi < f; fi++ {
							blk[fi*n+rw*c+ch] = src[ch*f+fi]
						}
					}
				}
				row += f
			}
		}
	}
}

// gatherPhase writes the patch rows of lines [lo, hi) of the row phase
// (counted over the batch), from dy [N, OD, OH, OW, F], into buf: row
// (line l of image n, qw) holds, for each (jd', jh'),
// dy[n, qd+offd+jd', qh+offh+jh', qw+umin … qw+umin+U−1, ·] with zeros
// outside dy.
func gatherPhase(g *kernels.ConvGeom, f int, ph *inputPhase, dy []float32, lo, hi int, buf []float32) {
	ad, ah := &ph.ax[0], &ph.ax[1]
	seg := ph.u * f // one (jd', jh') slice of a patch row
	k := ad.taps * ah.taps * seg
	outW := g.Out[2]
	qw := ceilDiv(g.In[2], g.Stride[2])
	lines, img := ph.lines(), g.Out[0]*g.Out[1]*outW*f
	for gl := lo; gl < hi; gl++ {
		n, l := gl/lines, gl%lines
		qd, qh := l/ah.q, l%ah.q
		line := buf[(gl-lo)*qw*k : (gl-lo+1)*qw*k]
		off := 0
		for jd := 0; jd < ad.taps; jd++ {
			od := qd + ad.off + jd
			for jh := 0; jh < ah.taps; jh++ {
				oh := qh + ah.off + jh
				if od < 0 || od >= g.Out[0] || oh < 0 || oh >= g.Out[1] {
					for q := 0; q < qw; q++ {
						clear(line[q*k+off : q*k+off+seg])
					}
					off += seg
					continue
				}
				row := dy[n*img+(od*g.Out[1]+oh)*outW*f : n*img+(od*g.Out[1]+oh+1)*outW*f]
				// Cells qLo … qHi−1 read their whole window inside the row,
				// the others in part or not at all.
				qLo := min(max(0, -ph.umin), qw)
				qHi := max(min(outW-ph.umin-ph.u+1, qw), qLo)
				if qHi > qLo {
					kernels.CopyRows(line[qLo*k+off:], k, row[(qLo+ph.umin)*f:], f, seg, qHi-qLo)
				}
				for q := range qw {
					if q >= qLo && q < qHi {
						continue
					}
					s := line[q*k+off : q*k+off+seg]
					ow0 := q + ph.umin
					jLo, jHi := max(0, -ow0), min(ph.u, outW-ow0)
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

// writePhase copies lines [lo, hi) of the row phase's product vals (each
// ⌈W/sw⌉·sw·C values, a dx row and then cells past its end; lines
// counted over the batch) into their rows of dx [N, D, H, W, C], or
// zeros when vals is nil; with add (dx's length), it writes those rows
// plus add's instead (Add's bits: a zero row plus add turns −0 into +0).
func writePhase(g *kernels.ConvGeom, ph *inputPhase, vals []float32, lo, hi int, dx, add []float32) {
	rowLen := g.In[2] * g.C
	lineLen := ceilDiv(g.In[2], g.Stride[2]) * g.Stride[2] * g.C
	ah := &ph.ax[1]
	lines := ph.lines()
	for gl := lo; gl < hi; gl++ {
		n, l := gl/lines, gl%lines
		qd, qh := l/ah.q, l%ah.q
		id, ih := qd*g.Stride[0]+ph.ax[0].r, qh*g.Stride[1]+ah.r
		at := ((n*g.In[0]+id)*g.In[1] + ih) * rowLen
		row := dx[at : at+rowLen]
		switch {
		case vals == nil:
			clear(row)
			if add != nil {
				kernels.Add(row, row, add[at:at+rowLen])
			}
		case add != nil:
			kernels.Add(row, vals[(gl-lo)*lineLen:][:rowLen], add[at:at+rowLen])
		default:
			copy(row, vals[(gl-lo)*lineLen:])
		}
	}
}
