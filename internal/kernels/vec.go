package kernels

import (
	"fmt"
	"math"
)

// SumProducts sets out[i] = Σ_t a[aOff[t]+i]·b[bOff[t]+i] for every
// i < len(out), summing the terms t in order from zero: a dot product per
// output element over "taps", each tap a pair of offsets into a and b.
// It is the inner loop of depthwise convolution, where out is a run of
// output pixels, a the input rows and b the filter taps expanded to the
// run's length.
//
// On amd64 CPUs with AVX2 and FMA (unless built with the purego tag) it
// runs an assembly loop that keeps 32 outputs in registers across the
// taps and fuses each multiply-add (one rounding instead of two);
// elsewhere, and for the last len(out) mod 8 outputs, plain Go
// (SumProductsRef's loop, per element). The AVX-512 loop (vector family
// avx512, see Paths) does all outputs, 64 at a time and the last
// len(out) mod 16 under a mask, fused. They agree to float32 rounding. It panics, describing the problem, when aOff and bOff differ
// in length or an offset would read outside a or b.
func SumProducts(out, a, b []float32, aOff, bOff []int) {
	n := len(out)
	if len(aOff) != len(bOff) {
		panic(fmt.Sprintf("kernels: SumProducts: %d offsets into a but %d into b", len(aOff), len(bOff)))
	}
	if n == 0 {
		return
	}
	for t, o := range aOff {
		if o < 0 || o > len(a)-n {
			panic(fmt.Sprintf("kernels: SumProducts: tap %d reads a[%d:%d], len(a) = %d", t, o, o+n, len(a)))
		}
		if p := bOff[t]; p < 0 || p > len(b)-n {
			panic(fmt.Sprintf("kernels: SumProducts: tap %d reads b[%d:%d], len(b) = %d", t, p, p+n, len(b)))
		}
	}
	done := 0
	if vecWide && len(aOff) > 0 {
		sumProductsAVX512(&out[0], n, &a[0], &b[0], &aOff[0], &bOff[0], len(aOff))
		return
	}
	if vecFMA && len(aOff) > 0 && n >= 8 {
		done = n &^ 7
		sumProductsAVX2(&out[0], done, &a[0], &b[0], &aOff[0], &bOff[0], len(aOff))
	}
	sumProductsGo(out, a, b, aOff, bOff, done)
}

// SumProductsRef is the plain-loop reference of SumProducts: each output
// accumulated in float64 over the taps.
func SumProductsRef(out, a, b []float32, aOff, bOff []int) {
	for i := range out {
		var s float64
		for t, o := range aOff {
			s += float64(a[o+i]) * float64(b[bOff[t]+i])
		}
		out[i] = float32(s)
	}
}

// sumProductsGo computes outputs from index lo on in float32, eight at a
// time kept in locals across the taps.
func sumProductsGo(out, a, b []float32, aOff, bOff []int, lo int) {
	n := len(out)
	i := lo
	for ; i+8 <= n; i += 8 {
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		for t, o := range aOff {
			as := a[o+i : o+i+8 : o+i+8]
			p := bOff[t] + i
			bs := b[p : p+8 : p+8]
			s0 += as[0] * bs[0]
			s1 += as[1] * bs[1]
			s2 += as[2] * bs[2]
			s3 += as[3] * bs[3]
			s4 += as[4] * bs[4]
			s5 += as[5] * bs[5]
			s6 += as[6] * bs[6]
			s7 += as[7] * bs[7]
		}
		o := out[i : i+8 : i+8]
		o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
	for ; i < n; i++ {
		var s float32
		for t, o := range aOff {
			s += a[o+i] * b[bOff[t]+i]
		}
		out[i] = s
	}
}

// AdamUpdate applies one step of TF1's Adam to w, with its moment
// estimates m and v, from the gradient g (all of one length), in place:
//
//	m = m + (g − m)·b1c          b1c = 1 − β1
//	v = v + (g² − v)·b2c         b2c = 1 − β2
//	w = w − (m·lrT)/(√v + eps)   lrT = lr·√(1 − β2^t)/(1 − β1^t)
//
// each operation rounded to float32 in that order, so the AVX2 loop
// (eight elements at a time, no fused multiply-add), the AVX-512 one
// (sixteen at a time, the rest under a mask) and the Go loop give the
// same bits. It panics when the lengths differ.
func AdamUpdate(w, g, m, v []float32, lrT, b1c, b2c, eps float32) {
	n := len(w)
	if len(g) != n || len(m) != n || len(v) != n {
		panic(fmt.Sprintf("kernels: AdamUpdate: lengths w %d, g %d, m %d, v %d differ", n, len(g), len(m), len(v)))
	}
	done := 0
	if vecWide && n > 0 {
		k := [4]float32{lrT, b1c, b2c, eps}
		adamAVX512(&w[0], &g[0], &m[0], &v[0], n, &k)
		return
	}
	if vecFMA && n >= 8 {
		done = n &^ 7
		k := [4]float32{lrT, b1c, b2c, eps}
		adamAVX2(&w[0], &g[0], &m[0], &v[0], done, &k)
	}
	adamGo(w[done:], g[done:], m[done:], v[done:], lrT, b1c, b2c, eps)
}

func adamGo(w, g, m, v []float32, lrT, b1c, b2c, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for j := range w {
		gj := g[j]
		mj := m[j] + (gj-m[j])*b1c
		vj := v[j] + (gj*gj-v[j])*b2c
		m[j], v[j] = mj, vj
		w[j] -= mj * lrT / (float32(math.Sqrt(float64(vj))) + eps)
	}
}

// Repeat writes each of the c-value pixels of src m times per value into
// dst: dst[s·c·m + ch·m + k] = src[s·c + ch] for every pixel s < len(src)/c,
// channel ch < c and k < m. len(dst) must be len(src)·m. It builds the
// expanded rows of a depthwise convolution with multiplier m. On amd64
// CPUs with AVX2 and c ≤ 8, c·m ≤ 16 it writes a pixel with two
// permutes; elsewhere it is a plain loop.
func Repeat(dst, src []float32, c, m int) {
	if c <= 0 || m <= 0 || len(src)%c != 0 || len(dst) != len(src)*m {
		panic(fmt.Sprintf("kernels: Repeat: %d values of %d channels repeated %d times do not fill %d", len(src), c, m, len(dst)))
	}
	cm := c * m
	pix := len(src) / c
	done := 0
	if vecFMA && c <= 8 && cm <= 16 && m > 1 {
		if fit := repeatAsmPixels(len(src), len(dst), c, cm); fit > 0 {
			var idx [16]int32
			for q := range idx {
				idx[q] = int32(min(q, cm-1) / m)
			}
			repeatAVX2(&dst[0], &src[0], fit, c, cm, &idx)
			done = fit
		}
	}
	for s := done; s < pix; s++ {
		d := dst[s*cm : (s+1)*cm]
		for ch, v := range src[s*c : (s+1)*c] {
			e := d[ch*m : (ch+1)*m]
			for k := range e {
				e[k] = v
			}
		}
	}
}

// repeatAsmPixels is how many leading pixels Repeat's assembly loop may
// write: it reads 8 values at pixel s's source (s·c) and writes 16 at
// its destination (s·cm), both inside the slices.
func repeatAsmPixels(nSrc, nDst, c, cm int) int {
	if nSrc < 8 || nDst < 16 {
		return 0
	}
	return min((nSrc-8)/c+1, (nDst-16)/cm+1)
}

// BiasRelu sets dst[r·c + j] = max(x[r·c + j] + b[j], 0) for the rows r
// of x (c = len(b) values each; len(x) a multiple of c, len(dst) =
// len(x)), with ReLU's NaN and zero rules: a NaN stays NaN and −0 stays
// −0, as in nn.Relu's branch-free loop, whose bits it gives on every path
// (AVX-512 for any c, the last c mod 16 values of a row under a mask;
// AVX2 when c is a multiple of 8; else plain Go).
func BiasRelu(dst, x, b []float32) {
	c := len(b)
	if c == 0 || len(x)%c != 0 || len(dst) != len(x) {
		panic(fmt.Sprintf("kernels: BiasRelu: %d values, %d outputs, bias of %d", len(x), len(dst), c))
	}
	if len(x) == 0 {
		return
	}
	if vecWide {
		biasReluAVX512(&dst[0], &x[0], &b[0], len(x)/c, c)
		return
	}
	if vecFMA && c%8 == 0 {
		biasReluAVX2(&dst[0], &x[0], &b[0], len(x)/c, c)
		return
	}
	for o := 0; o < len(x); o += c {
		xr, yr := x[o:o+c], dst[o:o+c]
		for j, v := range xr {
			v += b[j]
			m := ^uint32(0)
			if v < 0 {
				m = 0
			}
			yr[j] = math.Float32frombits(math.Float32bits(v) & m)
		}
	}
}

// BiasSkipRelu sets dst[r·c + j] = max((x[r·c + j] + b[j]) + s[r·c + j], 0)
// for the rows r of x (c = len(b) values each; s and dst as long as x):
// a convolution's output, its bias and a residual skip added in that
// order, with BiasRelu's NaN and zero rules, and the same bits on every
// path (AVX-512 for any c, AVX2 when c is a multiple of 8, else Go).
func BiasSkipRelu(dst, x, s, b []float32) {
	c := len(b)
	if c == 0 || len(x)%c != 0 || len(dst) != len(x) || len(s) != len(x) {
		panic(fmt.Sprintf("kernels: BiasSkipRelu: %d values, %d skips, %d outputs, bias of %d", len(x), len(s), len(dst), c))
	}
	if len(x) == 0 {
		return
	}
	if vecWide {
		biasSkipReluAVX512(&dst[0], &x[0], &s[0], &b[0], len(x)/c, c)
		return
	}
	if vecFMA && c%8 == 0 {
		biasSkipReluAVX2(&dst[0], &x[0], &s[0], &b[0], len(x)/c, c)
		return
	}
	for o := 0; o < len(x); o += c {
		xr, sr, yr := x[o:o+c], s[o:o+c], dst[o:o+c]
		for j, v := range xr {
			v = v + b[j] + sr[j]
			m := ^uint32(0)
			if v < 0 {
				m = 0
			}
			yr[j] = math.Float32frombits(math.Float32bits(v) & m)
		}
	}
}

// BiasAdd sets dst[r·c + j] = x[r·c + j] + b[j] for the rows r of x
// (c = len(b) values each; len(x) a multiple of c, len(dst) = len(x)):
// one addition per value, so every path (AVX-512 for any c, the last
// c mod 16 values of a row under a mask; AVX2 when c is a multiple of 8;
// else plain Go) gives the same bits.
func BiasAdd(dst, x, b []float32) {
	c := len(b)
	if c == 0 || len(x)%c != 0 || len(dst) != len(x) {
		panic(fmt.Sprintf("kernels: BiasAdd: %d values, %d outputs, bias of %d", len(x), len(dst), c))
	}
	if len(x) == 0 {
		return
	}
	if vecWide {
		biasAddAVX512(&dst[0], &x[0], &b[0], len(x)/c, c)
		return
	}
	if vecFMA && c%8 == 0 {
		biasAddAVX2(&dst[0], &x[0], &b[0], len(x)/c, c)
		return
	}
	for o := 0; o < len(x); o += c {
		xr, yr := x[o:o+c], dst[o:o+c]
		for j, v := range xr {
			yr[j] = v + b[j]
		}
	}
}

// Relu sets dst[i] = x[i] where x[i] < 0 is false and +0 elsewhere
// (len(dst) values; x at least as long): a NaN stays NaN and −0 stays
// −0, the bits of nn's branch-free loop on every path (AVX-512 any
// length, the tail under a mask; AVX2 whole groups of 8; Go the rest).
func Relu(dst, x []float32) {
	n := len(dst)
	if len(x) < n {
		panic(fmt.Sprintf("kernels: Relu: %d values for %d outputs", len(x), n))
	}
	if n == 0 {
		return
	}
	done := 0
	if vecWide {
		reluAVX512(&dst[0], &x[0], n)
		return
	}
	if vecFMA && n >= 8 {
		done = n &^ 7
		reluAVX2(&dst[0], &x[0], done)
	}
	for i, v := range x[done:n] {
		m := ^uint32(0)
		if v < 0 {
			m = 0
		}
		dst[done+i] = math.Float32frombits(math.Float32bits(v) & m)
	}
}

// ReluGrad sets dx[i] = g[i] where y[i] > 0 and +0 elsewhere (a NaN y
// gives +0), for i < len(dx) (g and y at least as long), on the paths of
// Relu, all giving the same bits.
func ReluGrad(dx, g, y []float32) {
	n := len(dx)
	if len(g) < n || len(y) < n {
		panic(fmt.Sprintf("kernels: ReluGrad: %d gradients, %d values for %d outputs", len(g), len(y), n))
	}
	if n == 0 {
		return
	}
	done := 0
	if vecWide {
		reluGradAVX512(&dx[0], &g[0], &y[0], n)
		return
	}
	if vecFMA && n >= 8 {
		done = n &^ 7
		reluGradAVX2(&dx[0], &g[0], &y[0], done)
	}
	for i, v := range y[done:n] {
		dx[done+i] = reluMask(g[done+i], v)
	}
}

// ReluGradSum sets dx = g where y > 0, else 0 (for rows of c = len(acc)
// values), and adds each row's dx to acc in float64, row after row: the
// gradient of a bias followed by a ReLU, y = relu(x + b), with acc
// collecting ∂/∂b. The AVX2 path (c a multiple of 8) and the AVX-512
// one (any c) add in the same order as the Go loop, so all give the same
// bits.
func ReluGradSum(dx, g, y []float32, acc []float64) {
	c := len(acc)
	if c == 0 || len(g)%c != 0 || len(dx) != len(g) || len(y) != len(g) {
		panic(fmt.Sprintf("kernels: ReluGradSum: %d gradients, %d outputs, %d values, %d sums", len(g), len(dx), len(y), c))
	}
	if len(g) == 0 {
		return
	}
	if vecWide {
		reluGradSumAVX512(&dx[0], &g[0], &y[0], &acc[0], len(g)/c, c)
		return
	}
	if vecFMA && c%8 == 0 {
		reluGradSumAVX2(&dx[0], &g[0], &y[0], &acc[0], len(g)/c, c)
		return
	}
	for o := 0; o < len(g); o += c {
		dr, gr, yr := dx[o:o+c], g[o:o+c], y[o:o+c]
		for j := range dr {
			v := reluMask(gr[j], yr[j])
			dr[j] = v
			acc[j] += float64(v)
		}
	}
}

// ArgmaxReluGradSum is ReluGradSum behind a max pool whose windows do
// not overlap, computed from the pool's side: grad, z and arg hold
// cols = len(grad)/c pooled cells of c = len(acc) values (the incoming
// gradient, the pooled maxima and their flat input offsets, as from
// nn.MaxPoolWithArgmax), and dx holds cols·rep input positions of c
// values, rep consecutive positions per cell, position q starting at
// input offset base + q·c. For position q of cell col:
//
//	dx[q·c+j] = 0 + grad[col·c+j]  if arg[col·c+j] == base + q·c + j and z[col·c+j] > 0
//	dx[q·c+j] = +0                 otherwise
//
// and acc[j] += float64(dx[q·c+j]), position after position. When the
// positions are a window's cells, z is the maximum the ReLU produced
// there, so z > 0 is the ReLU's own test at the cell the gradient goes
// to; dx and acc then have the bits of MaxPoolGradWithArgmax's scatter
// (0 + g into zeroed storage) followed by ReluGradSum over the same
// positions. AVX-512 sixteen channels at a time (the rest under a mask),
// AVX2 eight at a time when c is a multiple of 8, plain Go otherwise.
func ArgmaxReluGradSum(dx, grad, z []float32, arg []int32, base int32, rep int, acc []float64) {
	c := len(acc)
	if c == 0 || rep < 1 || len(grad)%c != 0 || len(z) != len(grad) || len(arg) != len(grad) || len(dx) != len(grad)*rep {
		panic(fmt.Sprintf("kernels: ArgmaxReluGradSum: %d gradients, %d maxima, %d offsets, %d outputs, %d positions per cell, %d sums", len(grad), len(z), len(arg), len(dx), rep, c))
	}
	if int64(base)+int64(len(dx)) > math.MaxInt32 {
		panic(fmt.Sprintf("kernels: ArgmaxReluGradSum: offsets from %d for %d values pass 2³¹−1", base, len(dx)))
	}
	cols := len(grad) / c
	if cols == 0 {
		return
	}
	if vecWide {
		argmaxReluGradSumAVX512(&dx[0], &grad[0], &z[0], &arg[0], &acc[0], cols, rep, c, base)
		return
	}
	if vecFMA && c%8 == 0 {
		argmaxReluGradSumAVX2(&dx[0], &grad[0], &z[0], &arg[0], &acc[0], cols, rep, c, base)
		return
	}
	for col := range cols {
		gc, zc, ac := grad[col*c:col*c+c], z[col*c:col*c+c], arg[col*c:col*c+c]
		for r := range rep {
			q := col*rep + r
			off := base + int32(q*c)
			dr := dx[q*c : q*c+c]
			for j := range dr {
				var v float32 // +0
				if ac[j] == off+int32(j) && zc[j] > 0 {
					v += gc[j]
				}
				dr[j] = v
				acc[j] += float64(v)
			}
		}
	}
}

// ArgmaxWindows finds, in each of len(dst)/c windows side by side, for
// each of c channels, the maximum over the window's cells and where it
// is. Window w's cells start at x[step·w + offs[k]] (c contiguous values
// per cell, cells in scan order; len(offs) ≥ 1): dst[w·c+j] = the
// maximum and arg[w·c+j] = base + step·w + offs[k] + j for the first
// cell k holding it. A later cell wins only when strictly greater, so
// ties and NaNs keep the earlier cell, as nn.MaxPoolGrad decides. A row
// of pooling windows takes one call. AVX-512 sixteen channels at a time
// (the rest under a mask), AVX2 eight at a time when c is a multiple of
// 8, plain Go otherwise; all give the same results.
func ArgmaxWindows(dst []float32, arg []int32, x []float32, offs []int, base int32, c, step int) {
	windows := windowsOf("ArgmaxWindows", len(dst), c, x, offs, step)
	if len(arg) != len(dst) {
		panic(fmt.Sprintf("kernels: ArgmaxWindows: %d maxima, %d offsets out", len(dst), len(arg)))
	}
	if windows == 0 {
		return
	}
	if vecWide {
		argmaxWindowAVX512(&dst[0], &arg[0], &x[0], &offs[0], len(offs), c, base, windows, step)
		return
	}
	if vecFMA && c%8 == 0 {
		argmaxWindowAVX2(&dst[0], &arg[0], &x[0], &offs[0], len(offs), c, base, windows, step)
		return
	}
	for w := range windows {
		d, a, xs, b := dst[w*c:w*c+c], arg[w*c:w*c+c], x[w*step:], base+int32(w*step)
		o := offs[0]
		copy(d, xs[o:o+c])
		for j := range a {
			a[j] = b + int32(o+j)
		}
		for _, o := range offs[1:] {
			for j, v := range xs[o : o+c] {
				if v > d[j] {
					d[j] = v
					a[j] = b + int32(o+j)
				}
			}
		}
	}
}

// windowsOf checks the arguments of a call over windows of c values
// (n outputs in all, cells at offs, windows step apart in x) and
// returns the number of windows.
func windowsOf(name string, n, c int, x []float32, offs []int, step int) int {
	if len(offs) == 0 || c < 0 || step < 0 || (c == 0 && n != 0) || (c > 0 && n%c != 0) {
		panic(fmt.Sprintf("kernels: %s: %d outputs in windows of %d channels, %d cells, step %d", name, n, c, len(offs), step))
	}
	if n == 0 {
		return 0
	}
	windows := n / c
	last := (windows - 1) * step
	for k, o := range offs {
		if o < 0 || o+last > len(x)-c {
			panic(fmt.Sprintf("kernels: %s: cell %d reads x[%d:%d] in the last of %d windows, len(x) = %d", name, k, o+last, o+last+c, windows, len(x)))
		}
	}
	return windows
}

// MaxWindows is ArgmaxWindows without the indices: dst[w·c+j] = the
// maximum of x[step·w + offs[k] + j] over the cells k, a later cell
// replacing the current value only when strictly greater (so a NaN in
// the first cell stays).
func MaxWindows(dst, x []float32, offs []int, c, step int) {
	windows := windowsOf("MaxWindows", len(dst), c, x, offs, step)
	if windows == 0 {
		return
	}
	if vecWide {
		maxWindowAVX512(&dst[0], &x[0], &offs[0], len(offs), c, windows, step)
		return
	}
	if vecFMA && c%8 == 0 {
		maxWindowAVX2(&dst[0], &x[0], &offs[0], len(offs), c, windows, step)
		return
	}
	for w := range windows {
		d, xs := dst[w*c:w*c+c], x[w*step:]
		copy(d, xs[offs[0]:offs[0]+c])
		for _, o := range offs[1:] {
			for j, v := range xs[o : o+c] {
				if v > d[j] {
					d[j] = v
				}
			}
		}
	}
}

// Gemv sets y[j] = Σ_{p<k} x[p]·w[p·ldw + j] for j < len(y): a row
// vector x (length ≥ k) times a k×len(y) row-major matrix with row stride
// ldw, the sum over p in order for each j. It is the product of one row
// (a batch of one through a dense layer), which streams w once instead
// of padding the row to a GEMM tile. AVX2+FMA 64 and then 8 columns at a
// time where available (fused multiply-adds: float32 rounding differs
// from the Go loop's), the remaining columns in Go; AVX-512 (gemvWide)
// 128, then 64, then 16 columns at a time, the rest under a mask. It
// panics when the slices are too short.
func Gemv(y, x, w []float32, k, ldw int) {
	n := len(y)
	if k < 0 || len(x) < k || ldw < n || (k > 0 && n > 0 && len(w) < (k-1)*ldw+n) {
		panic(fmt.Sprintf("kernels: Gemv: x of %d, w of %d for k %d, n %d, ldw %d", len(x), len(w), k, n, ldw))
	}
	if n == 0 {
		return
	}
	if k == 0 {
		clear(y)
		return
	}
	done := 0
	if gemvWide {
		gemvAVX512(&y[0], &x[0], &w[0], k, n, ldw)
		return
	}
	if vecFMA && n >= 8 {
		done = n &^ 7
		gemvAVX2(&y[0], &x[0], &w[0], k, done, ldw)
	}
	for j := done; j < n; j++ {
		var s float32
		for p := 0; p < k; p++ {
			s += x[p] * w[p*ldw+j]
		}
		y[j] = s
	}
}

// MulAdd sets acc[i] += a[i]·b[i] for i < len(acc) (a and b at least as
// long). AVX2+FMA eight at a time where available (one rounding per
// element instead of two), the rest and other CPUs in Go; AVX-512 all of
// them, fused, the last n mod 16 under a mask.
func MulAdd(acc, a, b []float32) {
	n := len(acc)
	if len(a) < n || len(b) < n {
		panic(fmt.Sprintf("kernels: MulAdd: %d sums but %d and %d factors", n, len(a), len(b)))
	}
	done := 0
	if vecWide && n > 0 {
		mulAddAVX512(&acc[0], &a[0], &b[0], n)
		return
	}
	if vecFMA && n >= 8 {
		done = n &^ 7
		mulAddAVX2(&acc[0], &a[0], &b[0], done)
	}
	a, b = a[:n], b[:n]
	for i := done; i < n; i++ {
		acc[i] += a[i] * b[i]
	}
}

// CopyRows copies rows rows of n values each: src[i·srcStride:][:n] to
// dst[i·dstStride:][:n]. Source rows may overlap one another (a strided
// window of an image row); destination rows must not, nor may they
// overlap the source. AVX-512 moves sixteen values at a time and the
// rest under a mask, without a call per row; AVX2 whole groups of eight,
// Go the rest of each row; other paths copy row by row.
func CopyRows(dst []float32, dstStride int, src []float32, srcStride, n, rows int) {
	if n <= 0 || rows <= 0 {
		return
	}
	if dstStride < n || srcStride < 0 || (rows-1)*dstStride+n > len(dst) || (rows-1)*srcStride+n > len(src) {
		panic(fmt.Sprintf("kernels: CopyRows: %d rows of %d values at strides %d (of %d) and %d (of %d)",
			rows, n, dstStride, len(dst), srcStride, len(src)))
	}
	if vecWide {
		copyRowsAVX512(&dst[0], dstStride, &src[0], srcStride, n, rows)
		return
	}
	done := 0
	if vecFMA && n >= 8 {
		done = n &^ 7
		copyRowsAVX2(&dst[0], dstStride, &src[0], srcStride, done, rows)
		if done == n {
			return
		}
	}
	for i := 0; i < rows; i++ {
		copy(dst[i*dstStride+done:i*dstStride+n], src[i*srcStride+done:i*srcStride+n])
	}
}

// Add sets dst[i] = a[i] + b[i] for i < len(dst) (a and b at least as
// long; dst may be a or b). One addition per element, so every path
// gives the same bits: AVX-512 all of them, the last n mod 16 under a
// mask; AVX2 eight at a time; Go the rest and other CPUs.
func Add(dst, a, b []float32) {
	n := len(dst)
	if len(a) < n || len(b) < n {
		panic(fmt.Sprintf("kernels: Add: %d sums of %d and %d values", n, len(a), len(b)))
	}
	if n == 0 {
		return
	}
	done := 0
	if vecWide {
		addAVX512(&dst[0], &a[0], &b[0], n)
		return
	}
	if vecFMA && n >= 8 {
		done = n &^ 7
		addAVX2(&dst[0], &a[0], &b[0], done)
	}
	a, b = a[:n], b[:n]
	for i := done; i < n; i++ {
		dst[i] = a[i] + b[i]
	}
}
