package kernels

import (
	"fmt"
	"iter"
	"math"
)

// The batch-normalization loops over channels-last rows: x is a run of
// rows of c values (c = len(shift), len(a), …), every channel with its
// own coefficients. The sums are float64, added row after row into acc,
// and the assembly adds and multiplies in the same order as the Go loops
// without fusing, so both give the same bits. AVX-512 (c a multiple of
// 16) where the conv-c1 family runs AVX-512, AVX2 (c a multiple of 8)
// wherever the vector family runs AVX2, plain Go otherwise.

// bnPath returns the lanes of the assembly loop to use for c channels:
// 16, 8, or 0 for the Go loop.
func bnPath(c int) int {
	switch {
	case c > 0 && c1Wide && vecFMA && c%16 == 0:
		return 16
	case c > 0 && vecFMA && c%8 == 0:
		return 8
	}
	return 0
}

// bnChunks yields the runs of rows (first row, count) in which the
// sums hand rows of c channels to the assembly, lanes channels to its
// step. The assembly keeps the sums of two steps of channels in
// registers and runs them over all the rows it is given, then the next
// two steps' over the same rows. Given every row at once, a row wider
// than that block would come from memory once per block, each time at
// a stride that hides the next line from the prefetchers. In runs of
// bnChunkBytes a stream, the first block reads a run from memory and
// the others find it in L1. Every channel's sum still runs over the
// rows in order, so the bits are the same. On Zen 4, the AVX2 sums of
// the ResNet's [128·14·14, 32] batch norms out of cache (`go test -run
// '^$' -bench BatchNormSumsCold ./internal/kernels`, three runs,
// µs) went from 434–468 to 125–132 (ShiftedMoments), 553–663 to 213–244
// (GradMoments) and 633–754 to 261–331 (GradMomentsRelu), about the
// AVX-512 times, whose block covers those rows. Runs of 8 KiB measured
// 10–30 % slower than 4 KiB, and 16 KiB twice as slow (GradMomentsRelu).
func bnChunks(rows, c, lanes int) iter.Seq2[int, int] {
	per := rows
	if c > 2*lanes {
		per = max(1, bnChunkBytes/(4*c))
	}
	return func(yield func(lo, n int) bool) {
		for lo := 0; lo < rows; lo += per {
			if !yield(lo, min(per, rows-lo)) {
				return
			}
		}
	}
}

// bnChunkBytes is the bytes of a stream in one run of bnChunks.
const bnChunkBytes = 4 << 10

func bnCheckRows(op string, n, c int, lens ...int) {
	if c <= 0 || n%c != 0 {
		panic(fmt.Sprintf("kernels: %s: %d values are not rows of %d channels", op, n, c))
	}
	for _, l := range lens {
		if l != n {
			panic(fmt.Sprintf("kernels: %s: slices of %d and %d values", op, n, l))
		}
	}
}

// ShiftedMoments adds, for the rows of x (c = len(shift) values each),
// d = float64(x[r·c+j]) − shift[j] to acc[j] and d² to acc[c+j], row
// after row: one pass gathering what the mean and the variance need.
// len(acc) must be 2·c. It panics when the lengths disagree.
func ShiftedMoments(acc []float64, x []float32, shift []float64) {
	c := len(shift)
	bnCheckRows("ShiftedMoments", len(x), c)
	if len(acc) != 2*c {
		panic(fmt.Sprintf("kernels: ShiftedMoments: %d sums for %d channels, want %d", len(acc), c, 2*c))
	}
	if len(x) == 0 {
		return
	}
	switch lanes := bnPath(c); lanes {
	case 16:
		for lo, n := range bnChunks(len(x)/c, c, lanes) {
			bnShiftedMomentsAVX512(&acc[0], &x[lo*c], &shift[0], n, c)
		}
		return
	case 8:
		for lo, n := range bnChunks(len(x)/c, c, lanes) {
			bnShiftedMomentsAVX2(&acc[0], &x[lo*c], &shift[0], n, c)
		}
		return
	}
	s1, s2 := acc[:c], acc[c:2*c]
	for o := 0; o < len(x); o += c {
		for j, v := range x[o : o+c] {
			d := float64(v) - shift[j]
			s1[j] += d
			s2[j] += d * d
		}
	}
}

// GradMoments adds, for the rows of x and y (c = len(shift) values
// each), float64(x[r·c+j]) to acc[j] and float64(x)·(float64(y) −
// shift[j]) to acc[c+j], row after row: batch norm's backward sums
// Σg and Σg·(x − μ) with x = g, y = x, shift = μ. len(acc) must be 2·c.
func GradMoments(acc []float64, x, y []float32, shift []float64) {
	c := len(shift)
	bnCheckRows("GradMoments", len(x), c, len(y))
	if len(acc) != 2*c {
		panic(fmt.Sprintf("kernels: GradMoments: %d sums for %d channels, want %d", len(acc), c, 2*c))
	}
	if len(x) == 0 {
		return
	}
	switch lanes := bnPath(c); lanes {
	case 16:
		for lo, n := range bnChunks(len(x)/c, c, lanes) {
			bnGradMomentsAVX512(&acc[0], &x[lo*c], &y[lo*c], &shift[0], n, c)
		}
		return
	case 8:
		for lo, n := range bnChunks(len(x)/c, c, lanes) {
			bnGradMomentsAVX2(&acc[0], &x[lo*c], &y[lo*c], &shift[0], n, c)
		}
		return
	}
	s1, s2 := acc[:c], acc[c:2*c]
	for o := 0; o < len(x); o += c {
		yr := y[o : o+c]
		for j, v := range x[o : o+c] {
			p := float64(v)
			s1[j] += p
			s2[j] += p * (float64(yr[j]) - shift[j])
		}
	}
}

// Affine sets y[r·c+j] = x[r·c+j]·a[j] + b[j] for the rows of x (c =
// len(a) = len(b) values each; len(y) = len(x)), the product rounded to
// float32 before the sum.
func Affine(y, x, a, b []float32) {
	c := len(a)
	bnCheckRows("Affine", len(x), c, len(y))
	if len(b) != c {
		panic(fmt.Sprintf("kernels: Affine: %d scales but %d shifts", c, len(b)))
	}
	if len(x) == 0 {
		return
	}
	switch bnPath(c) {
	case 16:
		bnAffineAVX512(&y[0], &x[0], &a[0], &b[0], len(x)/c, c)
		return
	case 8:
		bnAffineAVX2(&y[0], &x[0], &a[0], &b[0], len(x)/c, c)
		return
	}
	for o := 0; o < len(x); o += c {
		xr, yr := x[o:o+c], y[o:o+c]
		for j, v := range xr {
			yr[j] = float32(v*a[j]) + b[j]
		}
	}
}

// Affine2 sets dx[r·c+j] = (k[j]·g[r·c+j] + a[j]·x[r·c+j]) + b[j] for
// the rows of g and x (c = len(k) values each), each product and sum
// rounded to float32 in that order: batch norm's training backward.
func Affine2(dx, g, x, k, a, b []float32) {
	c := len(k)
	bnCheckRows("Affine2", len(g), c, len(x), len(dx))
	if len(a) != c || len(b) != c {
		panic(fmt.Sprintf("kernels: Affine2: coefficients of %d, %d and %d channels", c, len(a), len(b)))
	}
	if len(g) == 0 {
		return
	}
	switch bnPath(c) {
	case 16:
		bnAffine2AVX512(&dx[0], &g[0], &x[0], &k[0], &a[0], &b[0], len(g)/c, c)
		return
	case 8:
		bnAffine2AVX2(&dx[0], &g[0], &x[0], &k[0], &a[0], &b[0], len(g)/c, c)
		return
	}
	for o := 0; o < len(g); o += c {
		gr, xr, dr := g[o:o+c], x[o:o+c], dx[o:o+c]
		for j, v := range gr {
			dr[j] = float32(float32(k[j]*v)+float32(a[j]*xr[j])) + b[j]
		}
	}
}

// reluMask returns g where out > 0 and +0 elsewhere (also for a NaN
// out), as the assembly's compare-and-mask gives; out is a ReLU's input
// or output (both are > 0 at the same places).
func reluMask(g, out float32) float32 {
	var m uint32
	if out > 0 {
		m = ^uint32(0)
	}
	return math.Float32frombits(math.Float32bits(g) & m)
}

// AffineRelu is Affine followed by ReLU: y = max(x·a + b, 0) per
// channel, a NaN staying NaN and −0 staying −0 as in nn.Relu.
func AffineRelu(y, x, a, b []float32) {
	c := len(a)
	bnCheckRows("AffineRelu", len(x), c, len(y))
	if len(b) != c {
		panic(fmt.Sprintf("kernels: AffineRelu: %d scales but %d shifts", c, len(b)))
	}
	if len(x) == 0 {
		return
	}
	switch bnPath(c) {
	case 16:
		bnAffineReluAVX512(&y[0], &x[0], &a[0], &b[0], len(x)/c, c)
		return
	case 8:
		bnAffineReluAVX2(&y[0], &x[0], &a[0], &b[0], len(x)/c, c)
		return
	}
	for o := 0; o < len(x); o += c {
		xr, yr := x[o:o+c], y[o:o+c]
		for j, v := range xr {
			v = float32(v*a[j]) + b[j]
			if v < 0 {
				v = 0
			}
			yr[j] = v
		}
	}
}

// AffineAddRelu is a residual join after batch norm: y = max((x·a + b)
// + s, 0) per channel for the rows of x and s (the skip), the product
// and each sum rounded to float32 in that order, so that it gives the
// bits of Affine, then Add, then Relu; NaN and −0 stay as in Relu.
func AffineAddRelu(y, x, s, a, b []float32) {
	c := len(a)
	bnCheckRows("AffineAddRelu", len(x), c, len(y), len(s))
	if len(b) != c {
		panic(fmt.Sprintf("kernels: AffineAddRelu: %d scales but %d shifts", c, len(b)))
	}
	if len(x) == 0 {
		return
	}
	switch bnPath(c) {
	case 16:
		bnAffineAddReluAVX512(&y[0], &x[0], &s[0], &a[0], &b[0], len(x)/c, c)
		return
	case 8:
		bnAffineAddReluAVX2(&y[0], &x[0], &s[0], &a[0], &b[0], len(x)/c, c)
		return
	}
	for o := 0; o < len(x); o += c {
		xr, sr, yr := x[o:o+c], s[o:o+c], y[o:o+c]
		for j, v := range xr {
			v = float32(float32(v*a[j])+b[j]) + sr[j]
			if v < 0 {
				v = 0
			}
			yr[j] = v
		}
	}
}

// GradMomentsRelu is GradMoments with x zeroed where y·a + b ≤ 0 (the
// product rounded to float32 before the sum): the sums of batch norm's
// backward when a ReLU follows it, x the gradient of the ReLU's output,
// y batch norm's input and a, b the coefficients of the forward's
// AffineRelu (len(a) = len(b) = c), whose pre-ReLU value that is. The
// mask so has the bits of "the output > 0" without reading the output.
func GradMomentsRelu(acc []float64, x, y, a, b []float32, shift []float64) {
	c := len(shift)
	bnCheckRows("GradMomentsRelu", len(x), c, len(y))
	if len(acc) != 2*c || len(a) != c || len(b) != c {
		panic(fmt.Sprintf("kernels: GradMomentsRelu: %d sums and coefficients of %d and %d channels for %d channels, want %d sums", len(acc), len(a), len(b), c, 2*c))
	}
	if len(x) == 0 {
		return
	}
	switch lanes := bnPath(c); lanes {
	case 16:
		for lo, n := range bnChunks(len(x)/c, c, lanes) {
			bnGradMomentsReluAVX512(&acc[0], &x[lo*c], &y[lo*c], &a[0], &b[0], &shift[0], n, c)
		}
		return
	case 8:
		for lo, n := range bnChunks(len(x)/c, c, lanes) {
			bnGradMomentsReluAVX2(&acc[0], &x[lo*c], &y[lo*c], &a[0], &b[0], &shift[0], n, c)
		}
		return
	}
	s1, s2 := acc[:c], acc[c:2*c]
	for o := 0; o < len(x); o += c {
		yr := y[o : o+c]
		for j, v := range x[o : o+c] {
			p := float64(reluMask(v, float32(yr[j]*a[j])+b[j]))
			s1[j] += p
			s2[j] += p * (float64(yr[j]) - shift[j])
		}
	}
}

// Affine2Relu is Affine2 with g zeroed where x·fa + fb ≤ 0 (the product
// rounded to float32 before the sum): fa and fb are the coefficients of
// the forward's AffineRelu over x, so the mask is "its output > 0".
func Affine2Relu(dx, g, x, fa, fb, k, a, b []float32) {
	c := len(k)
	bnCheckRows("Affine2Relu", len(g), c, len(x), len(dx))
	if len(a) != c || len(b) != c || len(fa) != c || len(fb) != c {
		panic(fmt.Sprintf("kernels: Affine2Relu: coefficients of %d, %d, %d, %d and %d channels", c, len(a), len(b), len(fa), len(fb)))
	}
	if len(g) == 0 {
		return
	}
	switch bnPath(c) {
	case 16:
		bnAffine2ReluAVX512(&dx[0], &g[0], &x[0], &fa[0], &fb[0], &k[0], &a[0], &b[0], len(g)/c, c)
		return
	case 8:
		bnAffine2ReluAVX2(&dx[0], &g[0], &x[0], &fa[0], &fb[0], &k[0], &a[0], &b[0], len(g)/c, c)
		return
	}
	for o := 0; o < len(g); o += c {
		gr, xr, dr := g[o:o+c], x[o:o+c], dx[o:o+c]
		for j, v := range gr {
			v = reluMask(v, float32(xr[j]*fa[j])+fb[j])
			dr[j] = float32(float32(k[j]*v)+float32(a[j]*xr[j])) + b[j]
		}
	}
}
