//go:build !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// TestK16MatchesTiles: the narrow engine's K = 16, N = 16 kernel
// (engine.k16) gives the bits of its micro-kernel tiles, on whole-tile
// row counts with a tail of eight-row groups, on row counts that are no
// multiple of the tile's (which the tiles run through a scratch tile:
// the k16 kernel takes any rows, and TileRowsFor says so), and with
// strides past 16.
func TestK16MatchesTiles(t *testing.T) {
	if !hasAVX512F || avx512NarrowEngine.k16 == nil {
		t.Skip("k16 kernel NOT EXECUTED: needs AVX-512F")
	}
	if e := engineFor(false, 16, 16); e != nil && e.k16 != nil && TileRowsFor(16, 16) != 1 {
		t.Errorf("TileRowsFor(16, 16) = %d on engine %s, which has the k16 kernel; want 1", TileRowsFor(16, 16), e.name)
	}
	plain := avx512NarrowEngine
	plain.k16 = nil
	r := rand.New(rand.NewPCG(16, 16))
	for _, m := range []int{1, 7, 9, 28, 49, 56, 84, 112, 252} {
		for _, ld := range [][2]int{{16, 16}, {20, 37}} {
			lda, ldc := ld[0], ld[1]
			a, b := vecRand(r, m*lda), vecRand(r, 16*16)
			pb := avx512NarrowEngine.packB(false, 16, 16, b, 16, nil, nil)
			got, want := vecRand(r, m*ldc), make([]float32, m*ldc)
			copy(want, got) // the columns past 16 must stay as they are
			avx512NarrowEngine.gemmPackedB(m, 1, a, lda, pb, 0, got, ldc)
			plain.gemmPackedB(m, 1, a, lda, pb, 0, want, ldc)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("m=%d lda=%d ldc=%d: C[%d] = %v, the tiles give %v", m, lda, ldc, i, got[i], want[i])
				}
			}
			ref := make([]float32, m*16)
			SgemmRef(false, false, m, 16, 16, 1, a, lda, b, 16, 0, ref, 16)
			for i := 0; i < m; i++ {
				for j := 0; j < 16; j++ {
					if d := math.Abs(float64(got[i*ldc+j] - ref[i*16+j])); d > 1e-5 {
						t.Fatalf("m=%d: C[%d,%d] = %v, SgemmRef %v", m, i, j, got[i*ldc+j], ref[i*16+j])
					}
				}
			}
		}
	}
}
