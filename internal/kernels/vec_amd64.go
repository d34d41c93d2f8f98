//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// vecFMA selects the AVX2 assembly loops of the vec*.go routines (this
// CPU has AVX2 and FMA; AdamUpdate uses no FMA).
var vecFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// sumProductsAVX2 computes SumProducts for the first n outputs, n a
// multiple of 8, taps > 0; the caller has checked every offset.
//
//go:noescape
func sumProductsAVX2(out *float32, n int, a, b *float32, aOff, bOff *int, taps int)

// adamAVX2 runs AdamUpdate's loop over the first n elements, n a
// multiple of 8; k holds lrT, b1c, b2c, eps.
//
//go:noescape
func adamAVX2(w, grad, m, v *float32, n int, k *[4]float32)

// repeatAVX2 runs Repeat's loop over the first n pixels; the caller
// makes sure 8 values can be read at the last pixel's source and 16
// written at its destination. idx[q] is the source channel of output q.
//
//go:noescape
func repeatAVX2(dst, src *float32, n, c, cm int, idx *[16]int32)

// biasReluAVX2 runs BiasRelu over rows of c values, c a multiple of 8.
//
//go:noescape
func biasReluAVX2(dst, x, b *float32, rows, c int)

// reluGradSumAVX2 runs ReluGradSum over rows of c values, c a multiple
// of 8.
//
//go:noescape
func reluGradSumAVX2(dx, grad, y *float32, acc *float64, rows, c int)

// argmaxWindowAVX2 runs ArgmaxWindow for c a multiple of 8, cells ≥ 1.
//
//go:noescape
func argmaxWindowAVX2(dst *float32, arg *int32, x *float32, offs *int, cells, c int, base int32)

// maxWindowAVX2 runs MaxWindow for c a multiple of 8, cells ≥ 1.
//
//go:noescape
func maxWindowAVX2(dst, x *float32, offs *int, cells, c int)

// gemvAVX2 runs Gemv for the first n columns, n a multiple of 8, k ≥ 1.
//
//go:noescape
func gemvAVX2(y, x, w *float32, k, n, ldw int)

// mulAddAVX2 runs MulAdd over the first n elements, n a multiple of 8.
//
//go:noescape
func mulAddAVX2(acc, a, b *float32, n int)
