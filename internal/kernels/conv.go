package kernels

import "fmt"

//go:generate go -C _asm run . -set conv -out ../conv_amd64.s -stubs ../conv_stubs_amd64.go -pkg kernels

// ConvC1 computes 32 output channels of a convolution with one input
// channel over a rows×cols output, reading a padded input (every tap of
// every output in bounds):
//
//	y[(r·cols+c)·ldy + j] = Σ_t x[r·xRow + c + offs[t]] · w[t·ldw + j]
//
// for j < 32, summed in tap order (fused multiply-adds on the AVX2 and
// AVX-512 paths, which give the same bits; see Paths, family conv-c1).
func ConvC1(y []float32, ldy int, x []float32, xRow int, w []float32, ldw int, offs []int, rows, cols int) {
	taps := len(offs)
	if rows <= 0 || cols <= 0 || taps == 0 {
		return
	}
	checkC1("ConvC1", 32, y, ldy, x, xRow, w, ldw, offs, rows, cols)
	switch {
	case c1Wide && vecFMA:
		convC1AVX512(&y[0], ldy, &x[0], xRow, &w[0], ldw, &offs[0], taps, rows, cols)
	case vecFMA:
		convC1AVX2(&y[0], ldy, &x[0], xRow, &w[0], ldw, &offs[0], taps, rows, cols)
	default:
		convC1Go(32, y, ldy, x, xRow, w, ldw, offs, rows, cols)
	}
}

// ConvC1x16 is ConvC1 for 16 output channels (j < 16), with the same
// sums in the same order: its outputs are the bits ConvC1 gives for
// those channels on the same path.
func ConvC1x16(y []float32, ldy int, x []float32, xRow int, w []float32, ldw int, offs []int, rows, cols int) {
	taps := len(offs)
	if rows <= 0 || cols <= 0 || taps == 0 {
		return
	}
	checkC1("ConvC1x16", 16, y, ldy, x, xRow, w, ldw, offs, rows, cols)
	switch {
	case c1Wide && vecFMA:
		convC1x16AVX512(&y[0], ldy, &x[0], xRow, &w[0], ldw, &offs[0], taps, rows, cols)
	case vecFMA:
		convC1x16AVX2(&y[0], ldy, &x[0], xRow, &w[0], ldw, &offs[0], taps, rows, cols)
	default:
		convC1Go(16, y, ldy, x, xRow, w, ldw, offs, rows, cols)
	}
}

// convC1Go is ConvC1 (n = 32) and ConvC1x16 (n = 16) in plain loops.
func convC1Go(n int, y []float32, ldy int, x []float32, xRow int, w []float32, ldw int, offs []int, rows, cols int) {
	var buf [32]float32
	acc := buf[:n]
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			clear(acc)
			for t, o := range offs {
				v := x[r*xRow+c+o]
				for j, wv := range w[t*ldw : t*ldw+n] {
					acc[j] += v * wv
				}
			}
			copy(y[(r*cols+c)*ldy:], acc)
		}
	}
}

// ConvC1Grad adds to the filter gradient of ConvC1 for the taps of offs
// (at most C1GradTaps) and 32 channels:
//
//	dw[t·ldw + j] += Σ_{r,c} x[r·xRow + c + offs[t]] · dy[(r·cols+c)·ldy + j]
//
// summed over the pixels in scan order (fused multiply-adds on the AVX2
// and AVX-512 paths, the same bits), then added to dw.
func ConvC1Grad(dw []float32, ldw int, x []float32, xRow int, dy []float32, ldy int, offs []int, rows, cols int) {
	taps := len(offs)
	if rows <= 0 || cols <= 0 || taps == 0 {
		return
	}
	if taps > C1GradTaps {
		panic(fmt.Sprintf("kernels: ConvC1Grad: %d taps, at most %d per call", taps, C1GradTaps))
	}
	checkC1("ConvC1Grad", 32, dy, ldy, x, xRow, dw, ldw, offs, rows, cols)
	switch {
	case c1Wide && vecFMA:
		convC1GradAVX512(&dw[0], ldw, &x[0], xRow, &dy[0], ldy, &offs[0], taps, rows, cols)
	case vecFMA:
		convC1GradAVX2(&dw[0], ldw, &x[0], xRow, &dy[0], ldy, &offs[0], taps, rows, cols)
	default:
		convC1GradGo(32, dw, ldw, x, xRow, dy, ldy, offs, rows, cols)
	}
}

// ConvC1Grad16 is ConvC1Grad for 16 channels (j < 16) and at most six
// taps per call (C1Grad16Taps), with the same sums in the same order:
// the bits ConvC1Grad gives for those channels on the same path.
func ConvC1Grad16(dw []float32, ldw int, x []float32, xRow int, dy []float32, ldy int, offs []int, rows, cols int) {
	taps := len(offs)
	if rows <= 0 || cols <= 0 || taps == 0 {
		return
	}
	if taps > C1Grad16Taps {
		panic(fmt.Sprintf("kernels: ConvC1Grad16: %d taps, at most %d per call", taps, C1Grad16Taps))
	}
	checkC1("ConvC1Grad16", 16, dy, ldy, x, xRow, dw, ldw, offs, rows, cols)
	switch {
	case c1Wide && vecFMA:
		convC1Grad16AVX512(&dw[0], ldw, &x[0], xRow, &dy[0], ldy, &offs[0], taps, rows, cols)
	case vecFMA:
		convC1Grad16AVX2(&dw[0], ldw, &x[0], xRow, &dy[0], ldy, &offs[0], taps, rows, cols)
	default:
		convC1GradGo(16, dw, ldw, x, xRow, dy, ldy, offs, rows, cols)
	}
}

// C1GradTaps and C1Grad16Taps are the most taps ConvC1Grad and
// ConvC1Grad16 take per call (their sums live in registers: 3×32 and
// 6×16 channels).
const (
	C1GradTaps   = 3
	C1Grad16Taps = 6
)

// convC1GradGo is ConvC1Grad (n = 32) and ConvC1Grad16 (n = 16) in plain
// loops.
func convC1GradGo(n int, dw []float32, ldw int, x []float32, xRow int, dy []float32, ldy int, offs []int, rows, cols int) {
	var buf [32]float32
	acc := buf[:n]
	for t, o := range offs {
		clear(acc)
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				v := x[r*xRow+c+o]
				for j, g := range dy[(r*cols+c)*ldy : (r*cols+c)*ldy+n] {
					acc[j] += v * g
				}
			}
		}
		for j, a := range acc {
			dw[t*ldw+j] += a
		}
	}
}

// checkC1 panics unless every index the conv-c1 loops touch for n
// channels is in range: pixels of y (or dy) at stride ldy, taps of w (or
// dw) at stride ldw, n channels each, and the input cells of every tap.
func checkC1(op string, n int, y []float32, ldy int, x []float32, xRow int, w []float32, ldw int, offs []int, rows, cols int) {
	lo, hi := offs[0], offs[0]
	for _, o := range offs {
		lo, hi = min(lo, o), max(hi, o)
	}
	if ldy < n || ldw < n || xRow < cols || lo < 0 ||
		(rows*cols-1)*ldy+n > len(y) || (len(offs)-1)*ldw+n > len(w) || (rows-1)*xRow+cols-1+hi >= len(x) {
		panic(fmt.Sprintf("kernels: %s: %d×%d pixels at stride %d in %d values, %d taps (offsets %d–%d) at stride %d in %d, input rows of %d in %d",
			op, rows, cols, ldy, len(y), len(offs), lo, hi, ldw, len(w), xRow, len(x)))
	}
}
