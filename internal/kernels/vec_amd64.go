//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// vecFMA selects the AVX2+FMA loops of the vec*.go routines.
var vecFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// sumProductsAVX2 computes SumProducts for the first n outputs, n a
// multiple of 8, taps > 0; the caller has checked every offset.
//
//go:noescape
func sumProductsAVX2(out *float32, n int, a, b *float32, aOff, bOff *int, taps int)
