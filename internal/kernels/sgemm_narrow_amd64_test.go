//go:build !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"

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

// k16Engines lists the engines with a K = 16, N = 16 kernel that this
// CPU runs.
func k16Engines() []*engine {
	var es []*engine
	if hasAVX512F {
		es = append(es, &avx512NarrowEngine)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		es = append(es, &avx2Engine)
	}
	return es
}

// TestK16MatchesTiles: each K = 16, N = 16 kernel (engine.k16: the
// AVX-512 narrow engine's and the AVX2 engine's) gives the bits of its
// engine's micro-kernel tiles, on whole-tile row counts with a tail of
// row groups, on row counts that are no multiple of the tile's (which
// the tiles run through a scratch tile or their tails: the k16 kernel
// takes any rows, and TileRowsFor says so), and with strides past 16.
func TestK16MatchesTiles(t *testing.T) {
	es := k16Engines()
	if len(es) == 0 {
		t.Skip("k16 kernels NOT EXECUTED: need AVX2 and FMA or AVX-512F")
	}
	if e := engineFor(false, 16, 16); e != nil && e.k16 != nil && TileRowsFor(16, 16) != 1 {
		t.Errorf("TileRowsFor(16, 16) = %d on engine %s, which has the k16 kernel; want 1", TileRowsFor(16, 16), e.name)
	}
	for _, e := range es {
		if e.k16 == nil {
			t.Fatalf("engine %s has no k16 kernel", e.name)
		}
		plain := *e
		plain.k16, plain.rows16 = nil, nil
		r := rand.New(rand.NewPCG(16, 16))
		for _, m := range []int{1, 5, 6, 7, 9, 13, 28, 49, 56, 84, 96, 112, 252} {
			for _, ld := range [][2]int{{16, 16}, {20, 37}} {
				lda, ldc := ld[0], ld[1]
				a, b := vecRand(r, m*lda), vecRand(r, 16*16)
				pb := e.packB(false, 16, 16, b, 16, nil, nil)
				got, want := vecRand(r, m*ldc), make([]float32, m*ldc)
				copy(want, got) // the columns past 16 must stay as they are
				e.gemmPackedB(m, 1, a, lda, pb, 0, got, ldc)
				plain.gemmPackedB(m, 1, a, lda, pb, 0, want, ldc)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s m=%d lda=%d ldc=%d: C[%d] = %v, the tiles give %v", e.name, m, lda, ldc, i, got[i], want[i])
					}
				}
				ref := make([]float32, m*16)
				SgemmRef(false, false, m, 16, 16, 1, a, lda, b, 16, 0, ref, 16)
				for i := 0; i < m; i++ {
					for j := 0; j < 16; j++ {
						if d := math.Abs(float64(got[i*ldc+j] - ref[i*16+j])); d > 1e-5 {
							t.Fatalf("%s m=%d: C[%d,%d] = %v, SgemmRef %v", e.name, m, i, j, got[i*ldc+j], ref[i*16+j])
						}
					}
				}
			}
		}
	}
}

// BenchmarkK16 times the products of a Winograd convolution of 16
// channels, 36 cells of rows×16 by a packed 16×16 B (one block of a
// batch, 96 rows, or a batch of one, 49), on each engine with a K = 16
// kernel, through it ("k16") and through the engine's micro-kernel tiles
// and tails ("tiles"). Run it with -cpu 1: GFLOP per CPU-second on one
// core.
func BenchmarkK16(b *testing.B) {
	es := k16Engines()
	const cells = 36
	r := rand.New(rand.NewPCG(16, 36))
	for _, m := range []int{49, 96} {
		stride := m*16 + 16 // a cell's rows, then a skew, as nn lays them out
		a, c := vecRand(r, cells*stride), make([]float32, cells*stride)
		for _, e := range es {
			pbs := make([]*PackedB, cells)
			for i := range pbs {
				pbs[i] = e.packB(false, 16, 16, vecRand(r, 16*16), 16, nil, nil)
			}
			plain := *e
			plain.k16, plain.rows16 = nil, nil
			for _, run := range []struct {
				name string
				e    *engine
			}{{"k16", e}, {"tiles", &plain}} {
				b.Run(fmt.Sprintf("m=%d/%s/%s", m, e.name, run.name), func(b *testing.B) {
					cpu0 := cputime.Process()
					for b.Loop() {
						for i, pb := range pbs {
							run.e.gemmPackedB(m, 1, a[i*stride:], 16, pb, 0, c[i*stride:], 16)
						}
					}
					reportFlops(b, 2*cells*float64(m)*16*16, cputime.Process()-cpu0)
				})
			}
		}
	}
}

// TestRows16MatchesTiles: the AVX2 engine's row kernel (engine.rows16)
// gives the bits of its micro-kernel tiles and tails, on row counts with
// and without a tail, K from 1 (odd and even, for its two steps per
// iteration) and one to three 16-column panels, with strides past the
// product's.
func TestRows16MatchesTiles(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("rows16 kernel NOT EXECUTED: needs AVX2 and FMA")
	}
	e := &avx2Engine
	if e.rows16 == nil {
		t.Fatal("the avx2 engine has no rows16 kernel")
	}
	plain := *e
	plain.k16, plain.rows16 = nil, nil
	r := rand.New(rand.NewPCG(6, 16))
	for _, m := range []int{1, 5, 6, 7, 12, 16, 49, 96, 197} {
		for _, k := range []int{1, 2, 3, 16, 17, 32, 144} {
			for _, n := range []int{16, 32, 48} {
				lda, ldc := k+3, n+5
				a, b := vecRand(r, m*lda), vecRand(r, k*n)
				pb := e.packB(false, k, n, b, n, nil, nil)
				got, want := vecRand(r, m*ldc), make([]float32, m*ldc)
				copy(want, got) // the columns past n must stay as they are
				e.gemmPackedB(m, 1, a, lda, pb, 0, got, ldc)
				plain.gemmPackedB(m, 1, a, lda, pb, 0, want, ldc)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("m=%d k=%d n=%d: C[%d] = %v, the tiles give %v", m, k, n, i, got[i], want[i])
					}
				}
				ref := make([]float32, m*n)
				SgemmRef(false, false, m, n, k, 1, a, lda, b, n, 0, ref, n)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						if d := math.Abs(float64(got[i*ldc+j] - ref[i*n+j])); d > 1e-4 {
							t.Fatalf("m=%d k=%d n=%d: C[%d,%d] = %v, SgemmRef %v", m, k, n, i, j, got[i*ldc+j], ref[i*n+j])
						}
					}
				}
			}
		}
	}
}

// BenchmarkRows16 times the AVX2 engine's products with A in place
// through its row kernel ("rows16") and through its micro-kernel tiles
// and tails ("tiles"): a batch of one's Winograd cells of 32 channels
// (16×32 over K = 32, 36 of them), a batch's (96 rows), and the
// im2col products of the benchmark ResNet's stride-2 convolutions for
// one image (196×32 over K = 144 and K = 16). Run it with -cpu 1: GFLOP
// per CPU-second on one core.
func BenchmarkRows16(b *testing.B) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		b.Skip("needs AVX2 and FMA")
	}
	r := rand.New(rand.NewPCG(6, 32))
	for _, sh := range []struct{ m, k, n, times int }{{16, 32, 32, 36}, {96, 32, 32, 36}, {196, 144, 32, 1}, {196, 16, 32, 1}} {
		a, c := vecRand(r, sh.m*sh.k), make([]float32, sh.m*sh.n)
		pb := avx2Engine.packB(false, sh.k, sh.n, vecRand(r, sh.k*sh.n), sh.n, nil, nil)
		plain := avx2Engine
		plain.k16, plain.rows16 = nil, nil
		for _, run := range []struct {
			name string
			e    *engine
		}{{"rows16", &avx2Engine}, {"tiles", &plain}} {
			b.Run(fmt.Sprintf("m=%d/k=%d/n=%d/%s", sh.m, sh.k, sh.n, run.name), func(b *testing.B) {
				cpu0 := cputime.Process()
				for b.Loop() {
					for range sh.times {
						run.e.gemmPackedB(sh.m, 1, a, sh.k, pb, 0, c, sh.n)
					}
				}
				reportFlops(b, 2*float64(sh.times*sh.m*sh.k*sh.n), cputime.Process()-cpu0)
			})
		}
	}
}
