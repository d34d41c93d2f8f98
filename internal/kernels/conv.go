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
	checkC1("ConvC1", y, ldy, x, xRow, w, ldw, offs, rows, cols)
	switch {
	case c1Wide && vecFMA:
		convC1AVX512(&y[0], ldy, &x[0], xRow, &w[0], ldw, &offs[0], taps, rows, cols)
		return
	case vecFMA:
		convC1AVX2(&y[0], ldy, &x[0], xRow, &w[0], ldw, &offs[0], taps, rows, cols)
		return
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			var acc [32]float32
			for t, o := range offs {
				v := x[r*xRow+c+o]
				for j, wv := range w[t*ldw : t*ldw+32] {
					acc[j] += v * wv
				}
			}
			copy(y[(r*cols+c)*ldy:], acc[:])
		}
	}
}

// ConvC1Grad adds to the filter gradient of ConvC1 for the taps of offs
// (at most three) and 32 channels:
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
	if taps > 3 {
		panic(fmt.Sprintf("kernels: ConvC1Grad: %d taps, at most 3 per call", taps))
	}
	checkC1("ConvC1Grad", dy, ldy, x, xRow, dw, ldw, offs, rows, cols)
	switch {
	case c1Wide && vecFMA:
		convC1GradAVX512(&dw[0], ldw, &x[0], xRow, &dy[0], ldy, &offs[0], taps, rows, cols)
		return
	case vecFMA:
		convC1GradAVX2(&dw[0], ldw, &x[0], xRow, &dy[0], ldy, &offs[0], taps, rows, cols)
		return
	}
	for t, o := range offs {
		var acc [32]float32
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				v := x[r*xRow+c+o]
				for j, g := range dy[(r*cols+c)*ldy : (r*cols+c)*ldy+32] {
					acc[j] += v * g
				}
			}
		}
		for j, a := range acc {
			dw[t*ldw+j] += a
		}
	}
}

// checkC1 panics unless every index ConvC1 or ConvC1Grad touches is in
// range: pixels of y (or dy) at stride ldy, taps of w (or dw) at stride
// ldw, 32 channels each, and the input cells of every tap.
func checkC1(op string, y []float32, ldy int, x []float32, xRow int, w []float32, ldw int, offs []int, rows, cols int) {
	lo, hi := offs[0], offs[0]
	for _, o := range offs {
		lo, hi = min(lo, o), max(hi, o)
	}
	if ldy < 32 || ldw < 32 || xRow < cols || lo < 0 ||
		(rows*cols-1)*ldy+32 > len(y) || (len(offs)-1)*ldw+32 > len(w) || (rows-1)*xRow+cols-1+hi >= len(x) {
		panic(fmt.Sprintf("kernels: %s: %d×%d pixels at stride %d in %d values, %d taps (offsets %d–%d) at stride %d in %d, input rows of %d in %d",
			op, rows, cols, ldy, len(y), len(offs), lo, hi, ldw, len(w), xRow, len(x)))
	}
}
