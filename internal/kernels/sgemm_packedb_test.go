package kernels

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/internal/pool"
)

// packedBVia returns an Sgemm-shaped function that runs the case through
// pack (PackB) and mul (SgemmPackedB); A must not be transposed.
func packedBVia(t *testing.T, pack func(transB bool, k, n int, b []float32, ldb int) *PackedB,
	mul func(m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int)) func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	return func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		if transA {
			t.Fatal("packed-B case with a transposed A")
		}
		pb := pack(transB, k, n, b, ldb)
		defer pb.Release()
		mul(m, alpha, a, lda, pb, beta, c, ldc)
	}
}

// TestSgemmPackedB: A·op(B) with B packed once agrees with SgemmRef on
// odd shapes for every engine (and its tiny-block and packed-only
// variants), and gives the same bits as the engine's serial Sgemm.
func TestSgemmPackedB(t *testing.T) {
	var cases []gemmCase
	for _, c := range gemmCases() {
		c.transA = false
		cases = append(cases, c)
	}
	// Whole tiles of every engine's MR×NR (4×4, 6×16, 14×32) over one
	// K-panel: the wholeTiles route, with and without beta.
	cases = append(cases,
		gemmCase{m: 84, n: 64, k: 32, alpha: 1, pad: 3},
		gemmCase{m: 168, n: 96, k: 45, alpha: 0.5, beta: 1.5, pad: 1},
		gemmCase{transB: true, m: 84, n: 32, k: 19, alpha: 1, pad: 2})
	for _, name := range []string{"avx512", "avx2", "purego"} {
		t.Run("impl="+name, func(t *testing.T) {
			for _, e := range testEngines(t, name) {
				t.Run(e.name, func(t *testing.T) {
					fn := packedBVia(t, func(tb bool, k, n int, b []float32, ldb int) *PackedB { return e.packB(tb, k, n, b, ldb, nil, nil) }, e.gemmPackedB)
					for ci, c := range cases {
						t.Run(c.String(), func(t *testing.T) {
							c.check(t, uint64(ci), fn)
							samePackedB(t, e, c, uint64(ci))
						})
					}
				})
			}
		})
	}
}

// samePackedB compares gemmPackedB with sgemmSerial bit for bit.
func samePackedB(t *testing.T, e *engine, g gemmCase, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 11))
	br, bc := g.k, g.n
	if g.transB {
		br, bc = bc, br
	}
	a, lda := operand(r, g.m, g.k, g.pad)
	b, ldb := operand(r, br, bc, g.pad+1)
	c0, ldc := operand(r, g.m, g.n, g.pad+2)
	want, got := slices.Clone(c0), slices.Clone(c0)
	e.sgemmSerial(false, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, want, ldc)
	pb := e.packB(g.transB, g.k, g.n, b, ldb, nil, nil)
	e.gemmPackedB(g.m, g.alpha, a, lda, pb, g.beta, got, ldc)
	pb.Release()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
			t.Fatalf("C[%d] = %v, sgemmSerial gave %v", i, got[i], want[i])
		}
	}
}

// TestSgemmPackedBDispatch: PackB and SgemmPackedB follow SetImpl,
// including "ref".
func TestSgemmPackedBDispatch(t *testing.T) {
	defer restoreImpl(t)()
	for _, name := range Available() {
		t.Run("impl="+name, func(t *testing.T) {
			if err := SetImpl(name); err != nil {
				t.Fatal(err)
			}
			fn := packedBVia(t, PackB, SgemmPackedB)
			for _, c := range []gemmCase{
				{m: 70, n: 45, k: 300, alpha: 1.25, beta: 0.5, pad: 2},
				{transB: true, m: 81, n: 64, k: 800, alpha: 1, pad: 1},
				{m: 5, n: 7, k: 5000, alpha: 1, beta: 1, pad: 1}, // K-split route
			} {
				t.Run(c.String(), func(t *testing.T) { c.check(t, 5, fn) })
			}
		})
	}
}

// TestPackBInto: panels packed into the caller's buffer multiply to the
// same bits as PackB's, and Release leaves that buffer out of the pool
// (in the poisoning mode a buffer handed to the pool turns to NaN);
// PackBTo packs over a value already used, released or not.
func TestPackBInto(t *testing.T) {
	defer restoreImpl(t)()
	for _, name := range Available() {
		t.Run("impl="+name, func(t *testing.T) {
			if err := SetImpl(name); err != nil {
				t.Fatal(err)
			}
			defer pool.SetPoison(pool.SetPoison(true))
			r := rand.New(rand.NewPCG(4, 4))
			const m, k, n = 30, 37, 40
			a, lda := operand(r, m, k, 1)
			b, ldb := operand(r, k, n, 2)
			buf := make([]float32, PackedBLen(k, n)+5)
			want, got := make([]float32, m*n), make([]float32, m*n)
			pb := PackB(false, k, n, b, ldb)
			SgemmPackedB(m, 1, a, lda, pb, 0, want, n)
			pb.Release()
			pi := PackBInto(buf, false, k, n, b, ldb)
			SgemmPackedB(m, 1, a, lda, pi, 0, got, n)
			packed := slices.Clone(buf)
			pi.Release()
			if !slices.Equal(buf, packed) {
				t.Error("Release handed the caller's buffer to the pool")
			}
			if !slices.Equal(got, want) {
				t.Fatal("PackBInto's product differs from PackB's")
			}
			// PackBTo packs again over the released value, which is
			// then in use again, with the same product.
			clear(got)
			if again := PackBTo(pi, buf, false, k, n, b, ldb); again != pi {
				t.Error("PackBTo returned another value than the one it was given")
			}
			SgemmPackedB(m, 1, a, lda, pi, 0, got, n)
			if !slices.Equal(got, want) {
				t.Fatal("PackBTo's product differs from PackB's")
			}
			if need := PackedBLen(k, n); need > 0 {
				func() {
					defer func() {
						if recover() == nil {
							t.Error("PackBInto with a short buffer did not panic")
						}
					}()
					PackBInto(buf[:need-1], false, k, n, b, ldb)
				}()
			}
		})
	}
}

// TestSgemmPackedBParallel: with C's rows shared out among 1 to 4
// workers, a product with B packed once gives the bits of the engine's
// serial Sgemm, on odd shapes and where halving the rows would change
// the K-split route (100×64 over K = 4100: C too large to split K, its
// halves small enough).
func TestSgemmPackedBParallel(t *testing.T) {
	var cases []gemmCase
	for _, c := range gemmCases() {
		if !c.transA {
			cases = append(cases, c)
		}
	}
	cases = append(cases,
		gemmCase{m: 100, n: 64, k: 4100, alpha: 1, pad: 1},
		gemmCase{m: 129, n: 1024, k: 300, alpha: 1},
		gemmCase{m: 200, n: 10, k: 1024, alpha: 1, beta: 0.5, pad: 2})
	for _, name := range []string{"avx512", "avx2", "purego"} {
		t.Run("impl="+name, func(t *testing.T) {
			for _, e := range testEngines(t, name) {
				t.Run(e.name, func(t *testing.T) {
					for ci, g := range cases {
						r := rand.New(rand.NewPCG(uint64(ci), 12))
						br, bc := g.k, g.n
						if g.transB {
							br, bc = bc, br
						}
						a, lda := operand(r, g.m, g.k, g.pad)
						b, ldb := operand(r, br, bc, g.pad+1)
						c0, ldc := operand(r, g.m, g.n, g.pad+2)
						want := slices.Clone(c0)
						e.sgemmSerial(false, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, want, ldc)
						pb := e.packB(g.transB, g.k, g.n, b, ldb, nil, nil)
						for workers := 1; workers <= 4; workers++ {
							old := runtime.GOMAXPROCS(workers)
							got := slices.Clone(c0)
							SgemmPackedBParallel(g.m, g.alpha, a, lda, pb, g.beta, got, ldc)
							runtime.GOMAXPROCS(old)
							for i := range got {
								if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
									t.Fatalf("%v, %d workers: C[%d] = %v, sgemmSerial gave %v", g, workers, i, got[i], want[i])
								}
							}
						}
						pb.Release()
					}
				})
			}
		})
	}
}
