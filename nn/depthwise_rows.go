package nn

// The row path of DepthwiseConv2D's forward pass, for stride 1 along W
// (any stride along H, any dilations, any padding).
//
// Each input row that a window reads is expanded once into E, of
// OW + (KW−1)·DW pixels of C·M values with zero padding at both ends:
//
//	E[s, c·M + m] = x[n, ih, s − PW, c]   (0 outside the image)
//
// so that one tap (kh, kw) contributes E_kh[j + kw·DW, q]·w[kh, kw, q]
// to output y[n, oh, j, q], q = c·M + m: along a run of output pixels
// both factors are contiguous, the weights repeating with period C·M.
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

// depthwiseRowsApply reports whether depthwiseForwardRows handles g.
func depthwiseRowsApply(g *kernels.ConvGeom) bool {
	return g.Stride[2] == 1 && g.OutPositions() > 0
}

// depthwiseForwardRows computes depthwiseForward's y from x and w.
func depthwiseForwardRows(g *kernels.ConvGeom, m int, x, w, y []float32) {
	h, wd, c := g.In[1], g.In[2], g.C
	oh, ow := g.Out[1], g.Out[2]
	kh, kw := g.K[1], g.K[2]
	dh, dw := g.Dilation[1], g.Dilation[2]
	cm := c * m
	if cm == 0 {
		return
	}
	taps := kh * kw
	run := min(rowRun, ow)
	// wexp[t·run·cm + p] = w[t·cm + p mod cm]: tap t's weights over a run.
	wexpBuf := getScratch(taps * run * cm)
	wexp := *wexpBuf
	for t := 0; t < taps; t++ {
		dst := wexp[t*run*cm : (t+1)*run*cm]
		for p := 0; p < run; p++ {
			copy(dst[p*cm:(p+1)*cm], w[t*cm:(t+1)*cm])
		}
	}
	span := ow + (kw-1)*dw // pixels of an expanded row
	rowLen := span * cm
	parallel.For(g.N*oh, 1, func(lo, hi int) {
		// kh cached expanded rows, then one row of zeros (rows outside
		// the image), in one buffer that SumProducts reads by offset.
		bufp := getScratch((kh + 1) * rowLen)
		buf := *bufp
		clear(buf[kh*rowLen:])
		cached := make([]int, kh) // n·H + ih of each cache slot; −1 empty
		for i := range cached {
			cached[i] = -1
		}
		rowOf := make([]int, kh) // buffer offset of the row read by each kh
		aOff, bOff := make([]int, taps), make([]int, taps)
		for t := range bOff {
			bOff[t] = t * run * cm
		}
		for r := lo; r < hi; r++ {
			n, i := r/oh, r%oh
			for a := 0; a < kh; a++ {
				ih := i*g.Stride[1] - g.Pad[1] + a*dh
				rowOf[a] = -1
				if ih < 0 || ih >= h {
					rowOf[a] = kh * rowLen
					continue
				}
				key := n*h + ih
				for s, k := range cached {
					if k == key {
						rowOf[a] = s * rowLen
					}
				}
			}
			for a := 0; a < kh; a++ {
				if rowOf[a] >= 0 {
					continue
				}
				ih := i*g.Stride[1] - g.Pad[1] + a*dh
				s := freeSlot(cached, rowOf, rowLen)
				cached[s] = n*h + ih
				rowOf[a] = s * rowLen
				expandRow(buf[s*rowLen:(s+1)*rowLen], x[(n*h+ih)*wd*c:(n*h+ih+1)*wd*c], c, m, g.Pad[2])
			}
			yr := y[r*ow*cm : (r+1)*ow*cm]
			for j0 := 0; j0 < ow; j0 += run {
				nb := min(run, ow-j0)
				for a := 0; a < kh; a++ {
					for b := 0; b < kw; b++ {
						aOff[a*kw+b] = rowOf[a] + (j0+b*dw)*cm
					}
				}
				kernels.SumProducts(yr[j0*cm:(j0+nb)*cm], buf, wexp, aOff, bOff)
			}
		}
		putScratch(bufp)
	})
	putScratch(wexpBuf)
}

// freeSlot returns a cache slot that no row of the current output row
// uses (rowOf holds the buffer offsets in use, −1 for those not placed
// yet); there is one, since the kh rows fill at most kh slots.
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
