package kernels

// ConvGeom is the geometry of a convolution over three spatial dimensions
// (D, H, W; lower-rank convolutions use size-1 leading dimensions) on
// channels-last data:
//
//	input x  [N, In[0], In[1], In[2], C]
//	output   [N, Out[0], Out[1], Out[2], ·]
//
// Output cell o of dimension i reads input cells o·Stride[i] − Pad[i] +
// k·Dilation[i] for k in [0, K[i]); cells outside [0, In[i]) are zeros.
//
// The patch matrix ("im2col") has one row per output position, numbered
// r = ((n·Out[0] + od)·Out[1] + oh)·Out[2] + ow, and PatchLen() =
// K[0]·K[1]·K[2]·C columns ordered (kd, kh, kw, c) — the row-major
// order of a DHWIO filter's leading four dimensions, so that
// output = patches · filter[P, F] is a plain matrix product.
type ConvGeom struct {
	N, C                  int
	In, K, Out            [3]int
	Stride, Dilation, Pad [3]int
}

// PatchLen returns the number of columns of the patch matrix, K[0]·K[1]·K[2]·C.
func (g *ConvGeom) PatchLen() int { return g.K[0] * g.K[1] * g.K[2] * g.C }

// OutPositions returns the number of rows of the patch matrix, N·Out[0]·Out[1]·Out[2].
func (g *ConvGeom) OutPositions() int { return g.N * g.Out[0] * g.Out[1] * g.Out[2] }

// decode splits a patch-matrix row into (n, od, oh, ow).
func (g *ConvGeom) decode(r int) (n, od, oh, ow int) {
	ow = r % g.Out[2]
	r /= g.Out[2]
	oh = r % g.Out[1]
	r /= g.Out[1]
	od = r % g.Out[0]
	n = r / g.Out[0]
	return
}

// Im2col writes rows [lo, hi) of the patch matrix of x (see ConvGeom)
// into cols, which holds (hi−lo)·PatchLen() values, row-major. Padding
// cells are written as zeros.
//
// It works one output line (n, od, oh) at a time, so the input row of each
// (kd, kh) is found once for all the line's positions. Where a line's
// windows read every column of their input rows, it prefetches the rows
// of the line im2colAhead lines on.
func Im2col(g *ConvGeom, x []float32, lo, hi int, cols []float32) {
	c, kw := g.C, g.K[2]
	seg := kw * c // one (kd, kh) slice of a patch row
	p := g.PatchLen()
	sw, pw, dw, inW := g.Stride[2], g.Pad[2], g.Dilation[2], g.In[2]
	ahead := dw == 1 && sw <= kw
	for r := lo; r < hi; {
		n, od, oh, ow0 := g.decode(r)
		ow1 := min(g.Out[2], ow0+hi-r)
		if ahead {
			prefetchLine(g, x, r/g.Out[2]+im2colAhead)
		}
		line := cols[(r-lo)*p : (r-lo+ow1-ow0)*p]
		off := 0
		for kd := 0; kd < g.K[0]; kd++ {
			id := od*g.Stride[0] - g.Pad[0] + kd*g.Dilation[0]
			for kh := 0; kh < g.K[1]; kh++ {
				ih := oh*g.Stride[1] - g.Pad[1] + kh*g.Dilation[1]
				if id < 0 || id >= g.In[0] || ih < 0 || ih >= g.In[1] {
					for j := 0; j < ow1-ow0; j++ {
						zero(line[j*p+off : j*p+off+seg])
					}
					off += seg
					continue
				}
				base := ((n*g.In[0]+id)*g.In[1] + ih) * inW * c
				row := x[base : base+inW*c]
				if seg < shortRun {
					im2colColumns(line, row, p, off, ow1-ow0, ow0*sw-pw, sw, dw, kw, c)
					off += seg
					continue
				}
				// With adjacent cells (dw = 1), the positions whose whole
				// window is inside the row, [in0, in1), are one strided
				// copy of their segments: position ow's starts at input
				// column ow·sw − pw.
				in0, in1 := ow0, ow0
				if dw == 1 {
					in0 = max(ow0, ceilDiv(pw, sw))
					if last := inW + pw - kw; last >= 0 {
						in1 = min(ow1, last/sw+1)
					}
					if in1 > in0 {
						CopyRows(line[(in0-ow0)*p+off:], p, row[(in0*sw-pw)*c:], sw*c, seg, in1-in0)
					}
				}
				for ow := ow0; ow < ow1; ow++ {
					if ow >= in0 && ow < in1 {
						continue // copied above
					}
					s := line[(ow-ow0)*p+off : (ow-ow0)*p+off+seg]
					iw0 := ow*sw - pw
					if dw == 1 {
						// The window's cells are adjacent: one copy of the in-range run.
						kLo, kHi := max(0, -iw0), min(kw, inW-iw0)
						if kHi <= kLo {
							zero(s)
							continue
						}
						zero(s[:kLo*c])
						move(s[kLo*c:kHi*c], row[(iw0+kLo)*c:(iw0+kHi)*c])
						zero(s[kHi*c:])
						continue
					}
					for k := 0; k < kw; k++ {
						iw := iw0 + k*dw
						if iw < 0 || iw >= inW {
							zero(s[k*c : (k+1)*c])
						} else {
							move(s[k*c:(k+1)*c], row[iw*c:(iw+1)*c])
						}
					}
				}
				off += seg
			}
		}
		r += ow1 - ow0
	}
}

// Col2im is the adjoint of Im2col: it adds rows [lo, hi) of a patch
// matrix cols back into the input-shaped dx, each value onto the input
// cell it was read from (padding cells are dropped), row by row in order.
func Col2im(g *ConvGeom, cols []float32, lo, hi int, dx []float32) {
	c, kw := g.C, g.K[2]
	seg := kw * c
	p := g.PatchLen()
	sw, pw, dw, inW := g.Stride[2], g.Pad[2], g.Dilation[2], g.In[2]
	for r := lo; r < hi; r++ {
		src := cols[(r-lo)*p : (r-lo+1)*p]
		n, od, oh, ow := g.decode(r)
		iw0 := ow*sw - pw
		off := 0
		for kd := 0; kd < g.K[0]; kd++ {
			id := od*g.Stride[0] - g.Pad[0] + kd*g.Dilation[0]
			for kh := 0; kh < g.K[1]; kh++ {
				ih := oh*g.Stride[1] - g.Pad[1] + kh*g.Dilation[1]
				s := src[off : off+seg]
				off += seg
				if id < 0 || id >= g.In[0] || ih < 0 || ih >= g.In[1] {
					continue
				}
				base := ((n*g.In[0]+id)*g.In[1] + ih) * inW * c
				row := dx[base : base+inW*c]
				if dw == 1 {
					kLo, kHi := max(0, -iw0), min(kw, inW-iw0)
					if kHi > kLo {
						d := row[(iw0+kLo)*c : (iw0+kHi)*c]
						Add(d, d, s[kLo*c:kHi*c])
					}
					continue
				}
				for k := 0; k < kw; k++ {
					iw := iw0 + k*dw
					if iw >= 0 && iw < inW {
						d := row[iw*c : (iw+1)*c]
						Add(d, d, s[k*c:(k+1)*c])
					}
				}
			}
		}
	}
}

// im2colColumns fills the columns off … off+kw·c−1 of nOw patch rows
// (row stride p) from one input row, when those are too few values per
// patch row to copy as a run: column (k, ch) of patch row j reads
// row[(iw0 + j·sw + k·dw)·c + ch], or 0 outside the row.
func im2colColumns(line, row []float32, p, off, nOw, iw0, sw, dw, kw, c int) {
	inW := len(row) / c
	for k := 0; k < kw; k++ {
		// Tap k is inside the row for 0 ≤ iw0 + j·sw + k·dw < inW.
		t := -(iw0 + k*dw)
		jLo := min(max(-floorDiv(-t, sw), 0), nOw)
		jHi := min(max(floorDiv(inW-1+t, sw)+1, jLo), nOw)
		for ch := 0; ch < c; ch++ {
			col := off + k*c + ch
			for j := 0; j < jLo; j++ {
				line[j*p+col] = 0
			}
			src := (iw0+jLo*sw+k*dw)*c + ch
			for j := jLo; j < jHi; j++ {
				line[j*p+col] = row[src]
				src += sw * c
			}
			for j := jHi; j < nOw; j++ {
				line[j*p+col] = 0
			}
		}
	}
}

// floorDiv is ⌊a/b⌋ for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// shortRun is the length below which a plain loop beats a call to
// memmove or memclr, and below which Im2col fills a (kd, kh) slice of KW·C
// values column by column (a variable so that tests can force either way).
var shortRun = 16

// move copies src into dst (equal lengths).
func move(dst, src []float32) {
	if len(dst) >= shortRun {
		copy(dst, src)
		return
	}
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = v
	}
}

// zero sets s to zeros.
func zero(s []float32) {
	if len(s) >= shortRun {
		clear(s)
		return
	}
	for i := range s {
		s[i] = 0
	}
}

// im2colAhead is how many output lines ahead Im2col prefetches the input
// rows. The input of a large layer comes from memory (the layer before
// stored it streaming, or it was evicted since), and a line's copy is
// too short for the hardware prefetchers to get ahead of it. Measured
// on Zen 4 (`go test -run '^$' -bench 'Infer/model=resnet/batch=128$'
// ./internal/benchmark`, ten runs alternated, lower quartile / median
// ms), whose stride-2 convolutions are im2col products: none → 2 lines
// ahead, AVX-512 9.78 / 10.10 → 9.50 / 9.55, AVX2
// (GODEBUG=cpu.avx512f=off) 10.50 / 10.63 → 10.10 / 10.37. Reading the
// patches in place instead of copying them (a micro-kernel call per
// run of window columns over a line's outputs, the next line
// prefetched) gave the model about the same; the 3×3 layer alone, one
// core, took the same with AVX-512 and 12–17 % longer with AVX2, whose
// 6-row tiles cut a 14-column line into three calls.
const im2colAhead = 2

// prefetchLine prefetches the input rows that output line `line` of g
// (n·Out[0]·Out[1] + od·Out[1] + oh) reads, if there is such a line.
func prefetchLine(g *ConvGeom, x []float32, line int) {
	oh, od := line%g.Out[1], line/g.Out[1]
	n := od / g.Out[0]
	od %= g.Out[0]
	if n >= g.N {
		return
	}
	rowLen := g.In[2] * g.C
	for kd := 0; kd < g.K[0]; kd++ {
		id := od*g.Stride[0] - g.Pad[0] + kd*g.Dilation[0]
		for kh := 0; kh < g.K[1]; kh++ {
			ih := oh*g.Stride[1] - g.Pad[1] + kh*g.Dilation[1]
			if id >= 0 && id < g.In[0] && ih >= 0 && ih < g.In[1] {
				at := ((n*g.In[0]+id)*g.In[1] + ih) * rowLen
				Prefetch(x[at : at+rowLen])
			}
		}
	}
}

// Im2colRef is the plain-loop reference of Im2col: one element at a time,
// straight from the index formula.
func Im2colRef(g *ConvGeom, x []float32, lo, hi int, cols []float32) {
	p := g.PatchLen()
	for r := lo; r < hi; r++ {
		n, od, oh, ow := g.decode(r)
		j := 0
		for kd := 0; kd < g.K[0]; kd++ {
			for kh := 0; kh < g.K[1]; kh++ {
				for kw := 0; kw < g.K[2]; kw++ {
					for ch := 0; ch < g.C; ch++ {
						var v float32
						if at, ok := g.inputIndex(n, od, oh, ow, kd, kh, kw, ch); ok {
							v = x[at]
						}
						cols[(r-lo)*p+j] = v
						j++
					}
				}
			}
		}
	}
}

// Col2imRef is the plain-loop reference of Col2im.
func Col2imRef(g *ConvGeom, cols []float32, lo, hi int, dx []float32) {
	p := g.PatchLen()
	for r := lo; r < hi; r++ {
		n, od, oh, ow := g.decode(r)
		j := 0
		for kd := 0; kd < g.K[0]; kd++ {
			for kh := 0; kh < g.K[1]; kh++ {
				for kw := 0; kw < g.K[2]; kw++ {
					for ch := 0; ch < g.C; ch++ {
						if at, ok := g.inputIndex(n, od, oh, ow, kd, kh, kw, ch); ok {
							dx[at] += cols[(r-lo)*p+j]
						}
						j++
					}
				}
			}
		}
	}
}

// inputIndex returns the flat index of the input cell that output
// position (n, od, oh, ow) reads through window cell (kd, kh, kw) in
// channel ch, and false when that cell is padding.
func (g *ConvGeom) inputIndex(n, od, oh, ow, kd, kh, kw, ch int) (int, bool) {
	id := od*g.Stride[0] - g.Pad[0] + kd*g.Dilation[0]
	ih := oh*g.Stride[1] - g.Pad[1] + kh*g.Dilation[1]
	iw := ow*g.Stride[2] - g.Pad[2] + kw*g.Dilation[2]
	if id < 0 || id >= g.In[0] || ih < 0 || ih >= g.In[1] || iw < 0 || iw >= g.In[2] {
		return 0, false
	}
	return (((n*g.In[0]+id)*g.In[1]+ih)*g.In[2]+iw)*g.C + ch, true
}
