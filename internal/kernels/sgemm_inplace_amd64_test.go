//go:build !purego

package kernels

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/internal/cputime"
	"github.com/convnet-go/convnet/internal/parallel"
)

// BenchmarkSgemmInPlaceA times the AVX-512 engine on products of 128
// rows (the lecture model's fc layer at batch 128) with A packed and
// read in place, alternating the two, over row strides of A whose
// bytes fall at various distances from a multiple of 4 KiB: the
// measurements behind readAInPlace.
//
//	go test -run '^$' -bench SgemmInPlaceA -count 5 ./internal/kernels/
func BenchmarkSgemmInPlaceA(b *testing.B) {
	if !hasAVX512F {
		b.Skip("needs AVX-512F")
	}
	e := &avx512Engine
	shapes := []struct {
		transA, transB bool
		m, n, k, lda   int
	}{
		{false, false, 128, 1024, 3136, 3136}, // fc: x·W
		{false, true, 128, 3136, 1024, 1024},  // fc-dX: g·Wᵀ, 4 KiB rows
		{false, true, 128, 3136, 1024, 1025},
		{false, true, 128, 3136, 1024, 1032},
		{false, true, 128, 3136, 1024, 1040},
		{false, true, 128, 3136, 1024, 1280},
		{false, true, 128, 3136, 1024, 1536},
		{false, true, 3136, 128, 1024, 1024}, // fc-dX as nn.MatMul runs it: (W·gᵀ)ᵀ
		{false, true, 3136, 128, 1024, 1040},
		{true, true, 128, 3136, 1024, 128},
		{true, true, 128, 3136, 1024, 1024},
	}
	for _, sh := range shapes {
		rows, cols := sh.m, sh.k
		if sh.transA {
			rows, cols = sh.k, sh.m
		}
		ldb := sh.n
		if sh.transB {
			ldb = sh.k
		}
		a, bm, c := make([]float32, (rows-1)*sh.lda+cols), make([]float32, sh.k*sh.n), make([]float32, sh.m*sh.n)
		for i := range a {
			a[i] = float32(i%13) * 0.1
		}
		for i := range bm {
			bm[i] = float32(i%7) * 0.1
		}
		inPlace := aRows
		if sh.transA {
			inPlace = aCols
		}
		for _, md := range []modes{{a: aPacked}, {a: inPlace}, {a: inPlace, wholeK: true}} {
			name := fmt.Sprintf("m=%d,n=%d,k=%d,transA=%t,transB=%t,lda=%d/A=%s", sh.m, sh.n, sh.k, sh.transA, sh.transB, sh.lda, [3]string{"packed", "rows", "cols"}[md.a])
			if md.wholeK {
				name += "-wholeK"
			}
			b.Run(name, func(b *testing.B) {
				run := func() {
					e.gemmModes(parallel.Workers(), sh.transA, sh.transB, md, sh.m, sh.n, sh.k, 1, a, sh.lda, bm, ldb, 0, c, sh.n)
				}
				run() // warm the buffers
				b.ResetTimer()
				cpu0 := cputime.Process()
				for b.Loop() {
					run()
				}
				reportFlops(b, 2*float64(sh.m)*float64(sh.n)*float64(sh.k), cputime.Process()-cpu0)
			})
		}
	}
}
