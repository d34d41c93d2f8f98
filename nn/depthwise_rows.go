package nn

// The row path of DepthwiseConv2D's forward pass and filter gradient, for
// any strides, dilations and padding.
//
// Each input row that a window reads is expanded once into E: SW phase
// rows (SW the stride along W) of L = OW + ⌊(KW−1)·DW/SW⌋ pixels of C·M
// values each, with zero padding at both ends:
//
//	E[p, s, c·M + m] = x[n, ih, s·SW + p − PW, c]   (0 outside the image)
//
// Tap kw reads input column j·SW + kw·DW − PW for output column j, which
// is phase p = kw·DW mod SW at pixel j + ⌊kw·DW/SW⌋; so one tap (kh, kw)
// contributes E_kh[p, j + ⌊kw·DW/SW⌋, q]·w[kh, kw, q] to output
// y[n, oh, j, q], q = c·M + m: along a run of output pixels both factors
// are contiguous, the weights repeating with period C·M. At stride 1
// there is one phase of OW + (KW−1)·DW pixels.
// kernels.SumProducts then sums the taps of a run of rowRun pixels with
// the weights expanded to the run's length. A small cache of expanded
// rows per worker means that at stride 1 each input row is expanded
// once per worker however many output rows read it.

import (
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
)

// rowRun is the number of output pixels summed by one SumProducts call:
// KH expanded segments of rowRun + (KW−1)·DW pixels and KH·KW weight runs
// of rowRun pixels stay in L1 for the lecture's 3x3 RGB filters.
const rowRun = 64

// rowsChunk returns the run of output pixels and the number of taps per
// chunk for a window of taps taps over rows of ow pixels of cm values:
// run = min(rowRun, ow), per = taps while taps·run·cm ≤ tune.RowsScratchFloats;
// otherwise run and per shrink so that per·run·cm ≤ tune.RowsScratchFloats
// (per = run = 1 if one pixel's cm values alone exceed it).
func rowsChunk(taps, ow, cm int) (run, per int) {
	run = max(1, min(rowRun, ow, tune.RowsScratchFloats/cm))
	per = max(1, min(taps, tune.RowsScratchFloats/(run*cm)))
	return run, per
}

// depthwiseRowsApply reports whether depthwiseForwardRows handles g.
func depthwiseRowsApply(g *kernels.ConvGeom) bool {
	return g.OutPositions() > 0
}

// rowPhase returns the pixels per phase row of an expanded row, L =
// OW + ⌊(KW−1)·DW/SW⌋ (see the top of this file).
func rowPhase(g *kernels.ConvGeom) int {
	return g.Out[2] + (g.K[2]-1)*g.Dilation[2]/g.Stride[2]
}

// depthwiseForwardRows computes depthwiseForward's y from x and w. The
// taps t = kh·KW + kw are taken in chunks [t0, t1) of rowsChunk's size:
// the first chunk writes y, later ones add their sums to it, so a window
// that fits one chunk (all the usual ones) sums its taps in one
// SumProducts call per run as before, and a huge one keeps its scratch
// within tune.RowsScratchFloats (plus a row cache of the chunk's window rows).
func depthwiseForwardRows(g *kernels.ConvGeom, m int, x, w, y []float32) {
	oh, ow := g.Out[1], g.Out[2]
	kw := g.K[2]
	cm := g.C * m
	if cm == 0 {
		return
	}
	taps := g.K[1] * kw
	run, per := rowsChunk(taps, ow, cm)
	// wexp[(t−t0)·run·cm + p] = w[t·cm + p mod cm]: tap t's weights over a run.
	wexpBuf := getScratch(per * run * cm)
	wexp := *wexpBuf
	bOff := make([]int, per) // tap t0 + i's weights start at wexp[bOff[i]]
	for i := range bOff {
		bOff[i] = i * run * cm
	}
	for t0 := 0; t0 < taps; t0 += per {
		t1 := min(t0+per, taps)
		for t := t0; t < t1; t++ {
			dst := wexp[(t-t0)*run*cm : (t-t0+1)*run*cm]
			for p := 0; p < run; p++ {
				copy(dst[p*cm:(p+1)*cm], w[t*cm:(t+1)*cm])
			}
		}
		a0, a1 := t0/kw, (t1-1)/kw+1 // window rows the chunk reads
		parallel.For(g.N*oh, 1, func(lo, hi int) {
			rc := newRowCache(g, m, a0, a1)
			aOff, bOff := make([]int, t1-t0), bOff[:t1-t0]
			var sump *[]float32 // a later chunk's sums, added to y
			if t0 > 0 {
				sump = getScratch(run * cm)
			}
			for r := lo; r < hi; r++ {
				rowOf := rc.rows(x, r)
				yr := y[r*ow*cm : (r+1)*ow*cm]
				for j0 := 0; j0 < ow; j0 += run {
					nb := min(run, ow-j0)
					a, b := a0, t0%kw
					for i := range aOff {
						aOff[i] = rowOf[a-a0] + j0*cm + rc.tapOff(b)
						if b++; b == kw {
							a, b = a+1, 0
						}
					}
					out := yr[j0*cm : (j0+nb)*cm]
					if sump == nil {
						kernels.SumProducts(out, rc.buf, wexp, aOff, bOff)
						continue
					}
					sum := (*sump)[:nb*cm]
					kernels.SumProducts(sum, rc.buf, wexp, aOff, bOff)
					addRow(out, sum)
				}
			}
			putScratch(sump)
			rc.release()
		})
	}
	putScratch(wexpBuf)
}

// rowCache holds one worker's expanded input rows for the window rows
// [a0, a1): min(a1−a0, H) slots (an output row reads at most that many
// distinct rows of the image) and a row of zeros (rows outside the
// image) in one buffer, which SumProducts and MulAdd read by offset.
type rowCache struct {
	g      *kernels.ConvGeom
	m      int
	a0, a1 int // window rows served
	phase  int // pixels per phase row (rowPhase)
	rowLen int // SW phase rows of phase pixels of C·M values
	bufp   *[]float32
	buf    []float32
	cached []int // n·H + ih held by each slot; −1 empty
	rowOf  []int // buffer offset of the row each kh in [a0, a1) reads, for the current output row
}

func newRowCache(g *kernels.ConvGeom, m, a0, a1 int) *rowCache {
	slots := min(a1-a0, g.In[1])
	ph := rowPhase(g)
	rc := &rowCache{g: g, m: m, a0: a0, a1: a1, phase: ph, rowLen: g.Stride[2] * ph * g.C * m,
		cached: make([]int, slots), rowOf: make([]int, a1-a0)}
	rc.bufp = getScratch((slots + 1) * rc.rowLen)
	rc.buf = *rc.bufp
	clear(rc.buf[slots*rc.rowLen:])
	for i := range rc.cached {
		rc.cached[i] = -1
	}
	return rc
}

func (rc *rowCache) release() { putScratch(rc.bufp) }

// tapOff is the offset, within an expanded row, of the value that
// window column kw reads for output column 0: phase kw·DW mod SW, pixel
// ⌊kw·DW/SW⌋.
func (rc *rowCache) tapOff(kw int) int {
	off, sw := kw*rc.g.Dilation[2], rc.g.Stride[2]
	return (off%sw*rc.phase + off/sw) * rc.g.C * rc.m
}

// rows returns, for output row r (n, oh), the buffer offset of the
// expanded input row each window row kh in [a0, a1) reads (at index
// kh − a0), expanding rows of x that are not cached yet.
func (rc *rowCache) rows(x []float32, r int) []int {
	g := rc.g
	h, wd, c := g.In[1], g.In[2], g.C
	oh := g.Out[1]
	n, i := r/oh, r%oh
	zero := len(rc.cached) * rc.rowLen
	rowOf := rc.rowOf
	for a := rc.a0; a < rc.a1; a++ {
		ih := i*g.Stride[1] - g.Pad[1] + a*g.Dilation[1]
		rowOf[a-rc.a0] = -1
		if ih < 0 || ih >= h {
			rowOf[a-rc.a0] = zero
			continue
		}
		for s, k := range rc.cached {
			if k == n*h+ih {
				rowOf[a-rc.a0] = s * rc.rowLen
			}
		}
	}
	for a := rc.a0; a < rc.a1; a++ {
		if rowOf[a-rc.a0] >= 0 {
			continue
		}
		ih := i*g.Stride[1] - g.Pad[1] + a*g.Dilation[1]
		s := freeSlot(rc.cached, rowOf, rc.rowLen)
		rc.cached[s] = n*h + ih
		rowOf[a-rc.a0] = s * rc.rowLen
		e, xr := rc.buf[s*rc.rowLen:(s+1)*rc.rowLen], x[(n*h+ih)*wd*c:(n*h+ih+1)*wd*c]
		if sw := g.Stride[2]; sw > 1 {
			expandRowStrided(e, xr, c, rc.m, g.Pad[2], sw)
		} else {
			expandRow(e, xr, c, rc.m, g.Pad[2])
		}
	}
	return rowOf
}

// freeSlot returns a cache slot that no row of the current output row
// uses (rowOf holds the buffer offsets in use, −1 for those not placed
// yet); there is one, since the output row's distinct rows inside the
// image, at most min(a1−a0, H), fill at most that many slots.
func freeSlot(cached, rowOf []int, rowLen int) int {
	for s := range cached {
		used := false
		for _, o := range rowOf {
			if o == s*rowLen {
				used = true
			}
		}
		if !used {
			return s
		}
	}
	panic("nn: depthwise row cache has no free slot")
}

// expandRow fills e (span pixels of c·m values) from the input row xr
// (W pixels of c values): e[s, ch·m + k] = xr[s − pad, ch], zero outside.
func expandRow(e, xr []float32, c, m, pad int) {
	cm := c * m
	span := len(e) / cm
	wd := len(xr) / c
	s0, s1 := min(max(pad, 0), span), min(max(pad+wd, 0), span) // pixels inside the image
	clear(e[:s0*cm])
	clear(e[s1*cm:])
	if m == 1 {
		copy(e[s0*c:s1*c], xr[(s0-pad)*c:])
		return
	}
	kernels.Repeat(e[s0*cm:s1*cm], xr[(s0-pad)*c:(s1-pad)*c], c, m)
}

// expandRowStrided fills e (sw phase rows of equal length, each of
// pixels of c·m values) from the input row xr (W pixels of c values):
// e[p, s, ch·m + k] = xr[s·sw + p − pad, ch], zero outside.
func expandRowStrided(e, xr []float32, c, m, pad, sw int) {
	cm := c * m
	span := len(e) / (sw * cm)
	wd := len(xr) / c
	for p := range sw {
		ep := e[p*span*cm : (p+1)*span*cm]
		for s := range span {
			d := ep[s*cm : (s+1)*cm]
			iw := s*sw + p - pad
			if iw < 0 || iw >= wd {
				clear(d)
				continue
			}
			xs := xr[iw*c : (iw+1)*c]
			if m == 1 {
				copy(d, xs)
				continue
			}
			kernels.Repeat(d, xs, c, m)
		}
	}
}

// depthwiseBackpropInputFlipped computes the input gradient of a
// stride-1 depthwise convolution with multiplier 1 as the forward
// convolution of dy with the spatially flipped filter, on the row path:
// input cell i is read by output o = i + pad − k·d, i.e. o = i − pad' +
// k'·d with k' = K−1−k and pad' = (K−1)·d − pad (as convBackpropInput
// does for dense convolutions).
func depthwiseBackpropInputFlipped(g *kernels.ConvGeom, w, dy, dx []float32) {
	c := g.C
	taps := g.K[1] * g.K[2]
	flipped := getScratch(len(w))
	wf := *flipped
	for k := 0; k < taps; k++ {
		copy(wf[(taps-1-k)*c:(taps-k)*c], w[k*c:(k+1)*c])
	}
	back := flippedGeom(g, c)
	depthwiseForwardRows(&back, 1, dy, wf, dx)
	putScratch(flipped)
}

// depthwiseBackpropFilterRows computes the filter gradient on the row
// path: dw[t, q] = Σ_{rows, j} E_kh[p, j + ⌊kw·DW/SW⌋, q]·dy[row, j, q]
// for tap t = (kh, kw), q = c·M + m. Each tap's products are accumulated
// elementwise over runs of output pixels (kernels.MulAdd) and folded to
// C·M sums per group of rows; the groups are a fixed split of the rows
// (maxGroups, as in depthwiseBackpropFilter), added in order, so results
// do not depend on the worker count. The taps are taken in chunks of
// rowsChunk's size, which bounds the accumulators; each tap's sums are
// formed in the same order whatever the chunk.
func depthwiseBackpropFilterRows(g *kernels.ConvGeom, m int, x, dy, dw []float32) {
	oh, ow := g.Out[1], g.Out[2]
	kw := g.K[2]
	cm := g.C * m
	taps := g.K[1] * kw
	size := taps * cm
	clear(dw)
	rows := g.N * oh
	if rows == 0 || ow == 0 || size == 0 {
		return
	}
	run, per := rowsChunk(taps, ow, cm)
	groups := min(rows, maxGroups)
	partp := getScratch(groups * size)
	part := *partp
	for t0 := 0; t0 < taps; t0 += per {
		t1 := min(t0+per, taps)
		a0, a1 := t0/kw, (t1-1)/kw+1 // window rows the chunk reads
		parallel.For(groups, 1, func(lo, hi int) {
			rc := newRowCache(g, m, a0, a1)
			accp := getScratch((t1 - t0) * run * cm)
			acc := *accp
			for grp := lo; grp < hi; grp++ {
				clear(acc)
				for r := grp * rows / groups; r < (grp+1)*rows/groups; r++ {
					rowOf := rc.rows(x, r)
					dyr := dy[r*ow*cm : (r+1)*ow*cm]
					for j0 := 0; j0 < ow; j0 += run {
						nb := min(run, ow-j0)
						a, b := a0, t0%kw
						for i := 0; i < t1-t0; i++ {
							kernels.MulAdd(acc[i*run*cm:i*run*cm+nb*cm], rc.buf[rowOf[a-a0]+j0*cm+rc.tapOff(b):], dyr[j0*cm:])
							if b++; b == kw {
								a, b = a+1, 0
							}
						}
					}
				}
				dst := part[grp*size+t0*cm : grp*size+t1*cm]
				clear(dst)
				for i := 0; i < t1-t0; i++ {
					d := dst[i*cm : (i+1)*cm]
					for p := 0; p < run; p++ {
						addRow(d, acc[(i*run+p)*cm:(i*run+p+1)*cm])
					}
				}
			}
			putScratch(accp)
			rc.release()
		})
	}
	copy(dw, part[:size])
	for grp := 1; grp < groups; grp++ {
		addRow(dw, part[grp*size:(grp+1)*size])
	}
	putScratch(partp)
}
