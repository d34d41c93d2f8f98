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
