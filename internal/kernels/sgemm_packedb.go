package kernels

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/parallel"
)

// PackedB is a k×n matrix op(B) packed once into the micro-panels of the
// current Sgemm implementation, for many products C = A·op(B) with the
// same B and different A (the forward convolution multiplies every chunk
// of patches by the same filter). Make one with PackB and use it with
// SgemmPackedB; it is read-only once built, so goroutines may share it.
type PackedB struct {
	transB bool
	k, n   int
	b      []float32 // the operand as given (ref, and products that take another route)
	ldb    int
	e      *engine // nil: SgemmRef
	am     int     // how the kernels read A (aRows or aPacked)
	kcStep int
	// bp holds the panels of every (jc, pc) block in the layout block
	// packs them: block (jc, pc) starts at bp[jc·k + nPanels·nr·pc],
	// nPanels = ⌈min(nc, n−jc)/nr⌉, panel q of it at q·nr·kc.
	bp       []float32
	pooled   *[]float32 // bp's array when it came from internal/pool (PackB), nil when the caller's (PackBInto)
	released bool
}

// PackB packs op(B) (B is k×n with row stride ldb, or n×k when transB)
// for SgemmPackedB with the Sgemm implementation in use now (SetImpl
// must not change it while the result is in use). B itself must stay
// unchanged too. Call Release when done to recycle the buffer.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	return engineFor(false, k, n).packB(transB, k, n, b, ldb, nil, nil)
}

// TileRowsFor is MR, the rows of the micro-kernel tile of the engine
// that runs products A·B with n columns of C over k steps, A not
// transposed (14 for avx512, 6 for avx2, 4 for purego, 1 for ref; 28 or
// 6 for n ≤ 16 on the default avx512 path, see the narrow-N rule in
// dispatch.go; 1 where the K = N = 16 kernel takes the product, see
// takesK16): products whose M is a multiple of it run whole tiles only.
func TileRowsFor(k, n int) int {
	e := engineFor(false, k, n)
	if e == nil || e.takesK16(k, n) {
		return 1
	}
	return e.mr
}

// RowsToRun is the rows a caller of SgemmPackedB with m rows of A (k×n
// packed B) should multiply, the extra rows of A set to zero and those
// of C dropped: m where the engine runs the rows short of a whole tile
// without a scratch tile (its tails, with n a multiple of NR), else m
// rounded up to TileRowsFor(k, n).
func RowsToRun(m, k, n int) int {
	e := engineFor(false, k, n)
	if e == nil || e.takesK16(k, n) || e.tails != nil && n%e.nr == 0 {
		return m
	}
	return roundUp(m, e.mr)
}

// takesK16 reports whether e has the K = N = 16 kernel (sgemmK16N16AVX512)
// for a k×n packed B: SgemmPackedB then runs a product with alpha 1 and
// beta 0 on it, whatever its rows.
func (e *engine) takesK16(k, n int) bool {
	return e.k16 != nil && k == 16 && n == 16
}

// PackedBLen is the number of floats the panels of a k×n op(B) take
// with the Sgemm implementation in use now (0 for "ref", which does not
// pack).
func PackedBLen(k, n int) int {
	e := engineFor(false, k, n)
	if e == nil || k <= 0 || n <= 0 {
		return 0
	}
	return k * roundUp(n, e.nr)
}

// PackBInto is PackB with the panels written to buf (at least
// PackedBLen(k, n) floats), which stays the caller's: Release does not
// recycle it. Many small operands packed at once (the 36 or 64 filter
// matrices of a Winograd convolution) then share one buffer instead of
// each taking one from internal/pool.
func PackBInto(buf []float32, transB bool, k, n int, b []float32, ldb int) *PackedB {
	return packBInto("PackBInto", nil, buf, transB, k, n, b, ldb)
}

// PackBTo is PackBInto with the result written over *pb (which must not
// be in use) instead of a new value, and returned: an operand packed
// again and again (a Winograd convolution's cells, call after call) then
// costs no allocation.
func PackBTo(pb *PackedB, buf []float32, transB bool, k, n int, b []float32, ldb int) *PackedB {
	return packBInto("PackBTo", pb, buf, transB, k, n, b, ldb)
}

// packBInto is PackBInto and PackBTo (op names the caller): it checks
// buf's length and packs into it, described by *pb or a new value.
func packBInto(op string, pb *PackedB, buf []float32, transB bool, k, n int, b []float32, ldb int) *PackedB {
	if need := PackedBLen(k, n); len(buf) < need {
		panic(fmt.Sprintf("kernels.%s: buffer of %d floats, want %d for %d×%d", op, len(buf), need, k, n))
	}
	return engineFor(false, k, n).packB(transB, k, n, b, ldb, buf, pb)
}

// SgemmPackedB computes C = alpha·A·op(B) + beta·C on the caller's
// goroutine, with A m×k (row stride lda, not transposed), op(B) k×n from
// pb and C m×n (row stride ldc). It gives the same results as
// SgemmSerial(false, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
// up to the choice of micro-kernel for B (packed or read in place, the
// same operations), and repeats bit for bit.
func SgemmPackedB(m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	pb.e.gemmPackedB(m, alpha, a, lda, pb, beta, c, ldc)
}

// SgemmPackedBParallel is SgemmPackedB with the rows of C shared out
// among the workers in whole MR-row tiles (or on the caller's goroutine
// when the product is small): for B kept packed between calls, such as a
// dense layer's weights. It gives the values of Sgemm(false, transB, m,
// n, k, …) with pb's operand as B, whatever the number of workers.
func SgemmPackedBParallel(m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	e := pb.e
	if e == nil || m == 0 || pb.n == 0 || pb.k == 0 || alpha == 0 || e.kSplit(m, pb.n, pb.k) {
		// The routes that do not use the panels: Sgemm's own (the
		// K-split sums chunks in a fixed order, whatever the workers).
		if e == nil {
			SgemmRef(false, pb.transB, m, pb.n, pb.k, alpha, a, lda, pb.b, pb.ldb, beta, c, ldc)
			return
		}
		e.sgemm(false, pb.transB, m, pb.n, pb.k, alpha, a, lda, pb.b, pb.ldb, beta, c, ldc)
		return
	}
	if pb.released {
		panic("kernels.SgemmPackedBParallel: PackedB used after Release")
	}
	checkSgemm(false, pb.transB, m, pb.n, pb.k, a, lda, pb.b, pb.ldb, c, ldc)
	mr := e.mr
	tiles := ceilDiv(m, mr)
	perWorker := max(1, serialFlops/(mr*pb.n*pb.k))
	parallel.For(tiles, perWorker, func(lo, hi int) {
		r0, r1 := lo*mr, min(hi*mr, m)
		if e.wholeTiles(pb, r1-r0, alpha, a[r0*lda:], lda, beta, c[r0*ldc:], ldc) {
			return
		}
		e.blockPre(pb, r1-r0, alpha, a[r0*lda:], lda, beta, c[r0*ldc:], ldc)
	})
}

// kSplit reports whether an m×n product over k takes the K-split route
// (sgemmKSplit).
func (e *engine) kSplit(m, n, k int) bool {
	return e.kChunk > 0 && m*n <= kSplitMaxC && k >= 2*e.kChunk
}

// Release returns pb's buffer for reuse; pb must not be used afterwards.
func (pb *PackedB) Release() {
	if pb.pooled != nil {
		putBuf(pb.pooled)
	}
	pb.bp, pb.pooled = nil, nil
	pb.released = true
}

// curEngine is the engine behind Sgemm (nil for "ref"), set by SetImpl.
var curEngine *engine

// packB packs op(B) into buf, or into a buffer from internal/pool when
// buf is nil, described by *into (overwritten), or by a new PackedB when
// into is nil.
func (e *engine) packB(transB bool, k, n int, b []float32, ldb int, buf []float32, into *PackedB) *PackedB {
	checkSgemm(false, transB, 0, n, k, nil, max(k, 1), b, ldb, nil, max(n, 1))
	pb := into
	if pb == nil {
		pb = new(PackedB)
	}
	*pb = PackedB{transB: transB, k: k, n: n, b: b, ldb: ldb, e: e}
	if e == nil || k == 0 || n == 0 {
		return pb
	}
	nr := e.nr
	// The choice of gemm for a non-transposed A (it does not depend on m
	// once B is packed).
	pb.am = aPacked
	if ceilDiv(min(n, e.nc), nr) <= directMaxPanels && e.kernels[aRows][bPacked] != nil {
		pb.am = aRows
	}
	pb.kcStep = e.kcStep(modes{a: pb.am, b: bPacked, wholeK: pb.am == aRows}, k)
	if buf != nil {
		pb.bp = buf[:k*roundUp(n, nr)]
	} else {
		pb.pooled = getBuf(k * roundUp(n, nr))
		pb.bp = *pb.pooled
	}
	for jc := 0; jc < n; jc += e.nc {
		nc := min(e.nc, n-jc)
		nPanels := ceilDiv(nc, nr)
		for pc := 0; pc < k; pc += pb.kcStep {
			kc := min(pb.kcStep, k-pc)
			packB(transB, b, ldb, pc, kc, jc, nc, 0, nPanels, nr, pb.bp[jc*k+nPanels*nr*pc:])
		}
	}
	return pb
}

func (e *engine) gemmPackedB(m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	k, n := pb.k, pb.n
	if pb.released {
		panic("kernels.SgemmPackedB: PackedB used after Release")
	}
	if e == nil {
		SgemmRef(false, pb.transB, m, n, k, alpha, a, lda, pb.b, pb.ldb, beta, c, ldc)
		return
	}
	checkSgemm(false, pb.transB, m, n, k, a, lda, pb.b, pb.ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 || e.kSplit(m, n, k) {
		// Nothing to multiply, or the K-split route (which packs its own
		// K-chunks).
		e.gemm(1, false, pb.transB, m, n, k, alpha, a, lda, pb.b, pb.ldb, beta, c, ldc)
		return
	}
	if e.wholeTiles(pb, m, alpha, a, lda, beta, c, ldc) {
		return
	}
	e.blockPre(pb, m, alpha, a, lda, beta, c, ldc)
}

// wholeTiles runs a product whose C is made of whole NR-column panels,
// with A read in place over a single K-panel: its whole MR×NR tiles
// straight through the micro-kernel (or, with alpha 1 and beta 0, a
// panel's in one call to engine.rows16 where the engine has it), the
// same kernel calls blockPre would make, without its scratch buffers
// and block bookkeeping, which cost a fifth of the time of the small
// products (48×64 over K = 32) of a Winograd convolution; the last rows
// (fewer than MR) through the engine's tails (an engine with in-place
// kernels has them). The lecture's batch-1 Winograd cells (49×64 over
// K = 32) went from 3.27–3.39 to 2.75–3.62 µs on one core on the 14×32
// tile (eight runs; they had all gone through blockPre), before the
// tails. It reports whether it did.
func (e *engine) wholeTiles(pb *PackedB, m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) bool {
	k, n, mr, nr := pb.k, pb.n, e.mr, e.nr
	kern := e.kernels[aRows][bPacked]
	if pb.aMode(lda) != aRows || kern == nil || pb.kcStep != k || n > e.nc {
		return false
	}
	if e.takesK16(k, n) && alpha == 1 && beta == 0 {
		e.k16(m, a, lda, pb.bp[:16*16], c, ldc) // any m: groups of rows, then one at a time
		return true
	}
	if n%nr != 0 {
		return false
	}
	whole := m - m%mr
	inOneCall := e.rows16 != nil && alpha == 1 && beta == 0 // the whole tiles of a panel
	for q := 0; q < n/nr; q++ {
		bp := pb.bp[q*nr*k : (q+1)*nr*k]
		if inOneCall {
			e.rows16(whole, k, a, lda, bp, c[q*nr:], ldc)
		} else {
			for i := 0; i < whole; i += mr {
				kern(k, a[i*lda:], lda, bp, nr, c[i*ldc+q*nr:], ldc, alpha, beta)
			}
		}
		if whole < m {
			e.tailRows(m-whole, k, aRows, a[whole*lda:], lda, bPacked, bp, nr, c[whole*ldc+q*nr:], ldc, alpha, beta)
		}
	}
	return true
}

// aMode is how pb's engine reads an A of row stride lda: pb.am, but
// packed where reading it in place would thrash L1 (unthrashed; the
// same K-panels, as gemm does).
func (pb *PackedB) aMode(lda int) int { return pb.e.unthrashed(pb.am, lda) }

// blockPre is block over all of C with B taken from pb.
func (e *engine) blockPre(pb *PackedB, m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) {
	nr, k, n := e.nr, pb.k, pb.n
	if len(pb.bp) < k*roundUp(n, nr) {
		panic(fmt.Sprintf("kernels.SgemmPackedB: packed B holds %d values, want %d", len(pb.bp), k*roundUp(n, nr)))
	}
	app, tilep := getBuf(pb.kcStep*e.mc), getBuf(e.mr*nr)
	defer putBuf(app)
	defer putBuf(tilep)
	ap, tile := *app, *tilep
	for jc := 0; jc < n; jc += e.nc {
		nc := min(e.nc, n-jc)
		nPanels := ceilDiv(nc, nr)
		for pc := 0; pc < k; pc += pb.kcStep {
			kc := min(pb.kcStep, k-pc)
			betaK := beta
			if pc > 0 {
				betaK = 1
			}
			bp := pb.bp[jc*k+nPanels*nr*pc : jc*k+nPanels*nr*(pc+kc)]
			e.rows(false, false, false, pb.aMode(lda), bPacked, 0, m, pc, kc, jc, nc, alpha, a, lda, nil, 0, bp, betaK, c, ldc, ap, tile)
		}
	}
}
