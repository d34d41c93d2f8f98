//go:build !purego

package kernels

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/internal/cputime"
)

// BenchmarkSgemmNarrow times the three engines of the narrow-N rule (the
// AVX2 6×16 tile and the AVX-512 28×16 and 16×16 ones) on products of 16
// columns with A read in place: rows×16 over K, Aᵀ over a long K (a
// filter gradient chunk), and a Winograd filter gradient's 16×16 cell. Run it with -cpu 1: the figures in dispatch.go are
// GFLOP per CPU-second on one core.
func BenchmarkSgemmNarrow(b *testing.B) {
	if !hasEngines() {
		b.Skip("needs the avx512 and avx2 engines")
	}
	shapes := []struct {
		transA  bool
		m, k, n int
	}{
		{false, 25088, 9, 16}, {false, 25088, 16, 16}, {false, 25088, 32, 16},
		{false, 100352, 32, 16}, {false, 100352, 64, 16}, {false, 100352, 96, 16}, {false, 100352, 144, 16},
		{true, 144, 26 * 784, 16}, {true, 16, 196, 16},
	}
	for _, sh := range shapes {
		lda := sh.k
		if sh.transA {
			lda = sh.m
		}
		a, bm, c := narrowOperands(sh.m, sh.k, sh.n)
		for _, e := range []*engine{&avx2Engine, &avx512NarrowEngine, &avx512SmallEngine} {
			b.Run(fmt.Sprintf("transA=%v/m=%d/k=%d/%s", sh.transA, sh.m, sh.k, e.name), func(b *testing.B) {
				cpu0 := cputime.Process()
				for b.Loop() {
					e.sgemm(sh.transA, false, sh.m, sh.n, sh.k, 1, a, lda, bm, sh.n, 0, c, sh.n)
				}
				reportFlops(b, 2*float64(sh.m)*float64(sh.n)*float64(sh.k), cputime.Process()-cpu0)
			})
		}
	}
}

// BenchmarkSgemmSmallTile times the four assembly engines on the shapes
// of the 16×16 tile's rule (products of 16 or 32 rows and at most 32
// columns; see engineForShape), serially, with A in place or transposed
// (a Winograd filter gradient's cells over the tiles). Run it with -cpu 1:
// the figures in dispatch.go are GFLOP per CPU-second on one core.
func BenchmarkSgemmSmallTile(b *testing.B) {
	if !hasEngines() {
		b.Skip("needs the avx512 and avx2 engines")
	}
	for _, sh := range []struct {
		transA  bool
		m, k, n int
	}{
		{true, 16, 196, 16}, {true, 32, 196, 32}, {true, 32, 49, 32},
		{false, 16, 9, 16}, {false, 16, 144, 16}, {false, 32, 32, 32}, {false, 32, 288, 32}, {false, 10, 1024, 10},
	} {
		lda := sh.k
		if sh.transA {
			lda = sh.m
		}
		a, bm, c := narrowOperands(sh.m, sh.k, sh.n)
		for _, e := range []*engine{&avx512Engine, &avx512NarrowEngine, &avx2Engine, &avx512SmallEngine} {
			b.Run(fmt.Sprintf("transA=%v/m=%d/k=%d/n=%d/%s", sh.transA, sh.m, sh.k, sh.n, e.name), func(b *testing.B) {
				cpu0 := cputime.Process()
				for b.Loop() {
					e.sgemmSerial(sh.transA, false, sh.m, sh.n, sh.k, 1, a, lda, bm, sh.n, 0, c, sh.n)
				}
				reportFlops(b, 2*float64(sh.m)*float64(sh.n)*float64(sh.k), cputime.Process()-cpu0)
			})
		}
	}
}

// narrowOperands returns A (m×k), B (k×n) and C (m×n) filled with a
// fixed pattern of small values.
func narrowOperands(m, k, n int) (a, b, c []float32) {
	a, b, c = make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%13) * 0.1
	}
	for i := range b {
		b[i] = float32(i%7) * 0.1
	}
	return a, b, c
}
