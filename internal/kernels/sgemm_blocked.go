package kernels

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/internal/pool"
)

// The blocked Sgemm (the loop nest of Goto & van de Geijn, "Anatomy of
// high-performance matrix multiplication", 2008):
//
//	for jc over n in steps of NC:           C[:, jc:jc+NC]
//	  for pc over k in steps of KC:         pack B[pc:pc+KC, jc:jc+NC] → Bp  (KC×NC, L3)
//	    for ic over m in steps of MC:       pack A[ic:ic+MC, pc:pc+KC] → Ap  (MC×KC, L2)
//	      for jr over NC in steps of NR:    Bp micro-panel KC×NR (L1)
//	        for ir over MC in steps of MR:  kernel: C[ir:ir+MR, jr:jr+NR] = alpha·Ap·Bp + beta'·C
//
// beta' is the caller's beta on the first K-panel and 1 afterwards, so
// every element of C sees the same sequence of operations whatever the
// partition across workers: results repeat bit for bit. (A small C with
// a long K takes another route, sgemmKSplit: fixed K-chunks summed in
// order.) Workers split C
// into row (or column) ranges of whole tiles and each runs the whole nest
// on its range with private buffers (one fork and join per call).
//
// Packed layouts: an A micro-panel holds MR rows, stored p-major
// (Ap[p·MR+i] = op(A)[ic+ir+i, pc+p]); a B micro-panel holds NR columns,
// stored p-major (Bp[p·NR+j] = op(B)[pc+p, jc+jr+j]). Rows past m and
// columns past n are zero; their results land in a scratch tile and are
// dropped. An engine with row tails runs the last rows of A (fewer than
// MR) through them instead: only the columns past n are computed in
// vain.

// microKernel computes one MR×NR tile over a K-panel of length k:
//
//	c[i·ldc+j] = alpha·Σ_p A(i,p)·B(p,j) + beta·c[i·ldc+j]
//
// (beta == 0: c is written without being read), where by the kernel's
// slot in engine.kernels A(i,p) is a[p·MR+i] (packed), a[i·lda+p] (rows
// in place) or a[p·lda+i] (transposed, in place), and B(p,j) is
// b[p·NR+j] (packed) or b[p·ldb+j] (in place).
type microKernel func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

// How a micro-kernel reads A and B (indices of engine.kernels).
const (
	aPacked = iota // packed MR-row micro-panel
	aRows          // non-transposed A in place: MR rows at stride lda
	aCols          // transposed A in place: MR contiguous values per step
	bPacked = 0    // packed NR-column micro-panel
	bRows   = 1    // non-transposed B in place: NR contiguous values per step
)

// engine is one Sgemm implementation: micro-kernels and their blocking.
type engine struct {
	name       string
	mr, nr     int // register tile
	kc, mc, nc int // cache blocks; mc is a multiple of mr, nc of nr
	// kChunk is the length of the K-chunks of a product with a small C
	// and a long K (see sgemmKSplit); 0 turns the split off.
	kChunk int
	// kernels[aMode][bMode]; [aPacked][bPacked] is required, the others
	// are optional and used when packing costs more than it saves.
	kernels [3][2]microKernel
	// k16, when not nil (only on an engine with NR = 16), runs a whole
	// product of K = 16 and 16 columns (a Winograd cell of a 16-channel
	// convolution) of any rows in one call, with A in place and B one
	// packed panel (held in registers for all rows on AVX-512): the bits
	// of kernels[aRows][bPacked] with alpha 1 and beta 0, without a call
	// per tile.
	k16 func(m int, a []float32, lda int, b, c []float32, ldc int)
	// rows16, when not nil (only on an engine with NR = 16), runs the
	// whole MR-row tiles of a product with A in place over one K-panel
	// of any length, one packed 16-column panel of B at a time, in one
	// call: the bits of kernels[aRows][bPacked] with alpha 1 and beta 0,
	// without a call per tile.
	rows16 func(m, k int, a []float32, lda int, b, c []float32, ldc int)
	// bRowsFromKC, when not 0, reads a non-transposed B in place for a
	// product of any rows (not only up to directMaxTiles tiles of them)
	// whose K-panels are at least this long (see avx512Engine).
	bRowsFromKC int
	// tails, when not nil, compute the rows of a tile short of MR (the
	// last rows of a product whose row count is not a multiple of MR)
	// without the scratch tile's MR rows: widest first, powers of two
	// that add up to any count below MR (see tailRows). An engine with
	// kernels that read A in place must have them: rows and wholeTiles
	// read every row of such an A in place, the last ones through the
	// tails.
	tails []tail
}

// tail is an engine's kernels for tiles of rows < MR rows and NR
// columns, indexed as engine.kernels, with the bits of the full tile's
// first rows: each row's sums run the same fused multiply-adds in the
// same order. kernels[aPacked] reads a packed micro-panel of MR rows
// (lda = MR) and has all of them; kernels[aRows] and kernels[aCols]
// read A in place.
type tail struct {
	rows    int
	kernels [3][2]microKernel
}

// tailRows computes a tile of C of rows < MR rows and NR columns with
// e.tails, given the operands as the full tile's kernel takes them in
// modes am and bm (a packed A: its micro-panel, lda = MR).
func (e *engine) tailRows(rows, k, am int, a []float32, lda, bm int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	for _, t := range e.tails {
		if rows < t.rows {
			continue
		}
		t.kernels[am][bm](k, a, lda, b, ldb, c, ldc, alpha, beta)
		if rows -= t.rows; rows == 0 {
			return
		}
		if am == aRows {
			a = a[t.rows*lda:]
		} else {
			a = a[t.rows:]
		}
		c = c[t.rows*ldc:]
	}
	panic(fmt.Sprintf("kernels: engine %s: tails leave %d rows", e.name, rows))
}

// Reading an operand in place instead of packing it pays when it is
// used by few tiles: A when op(B) has at most directMaxPanels NR-column
// panels (conv forward and filter gradient: N = output channels), B when
// op(A) has at most directMaxTiles MR-row tiles. See readAInPlace for
// A's other case.
var directMaxPanels, directMaxTiles = 8, 8

// modes is how gemm reads its operands: a and b index engine.kernels;
// wholeK (A read in place, or packed where in place would thrash L1)
// runs K in one panel up to directMaxK long instead of KC-long panels.
type modes struct {
	a, b   int
	wholeK bool
}

// readAInPlace tells whether gemm reads op(A) (m×k, row stride lda; its
// transpose k×m when transA) in place instead of packing it, and
// whether it then runs K in one panel (see modes). Two cases:
//
//   - few panels: op(B) has at most directMaxPanels NR-column panels,
//     so each tile of A is used at most that many times and packing it
//     costs about as much as one use (conv forward and filter gradient,
//     N = output channels). K runs whole (see directMaxK).
//   - one row block: A is not transposed, has at most MC rows, and its
//     row stride does not put the MR rows of a tile in the same L1 sets
//     (rowsAlias), so a K-panel of all of A stays in L2 and is read from
//     there by every panel of B, as a packed block would be, while the
//     column split of gemm would have each worker pack all of A for
//     itself. K keeps its KC-long panels, so that the block stays in
//     L2 whatever K (on the shapes below whole K measured the same).
//
// Measured on Zen 5, both cores, shared with other work
// (BenchmarkSgemmInPlaceA, median of 6, ms, packed → in place): the fc
// layer's x·W (128×3136 · 3136×1024, lda = 3136) 2.92 → 2.71; its input
// gradient g·Wᵀ (128×1024 · 1024×3136) with A's rows 4 KiB apart (lda =
// 1024, the layer's own) 2.69 → 3.62, 4 KiB + 4 bytes 2.73 → 3.10, and
// about even with rows 4 KiB + 32 bytes (2.73 → 2.69), + 64 bytes (2.79
// → 2.74) or 6 KiB (2.72 → 2.76) apart. A transposed A of 128 columns
// gained nothing (g·Wᵀ with op(A) = Aᵀ: 2.72 → 2.71 with lda = 128,
// 2.81 → 3.00 with lda = 1024), so it stays packed. Rows 4 KiB apart do
// not keep the first case from paying: W·gᵀ (3136×1024 · 1024×128, the
// form nn.MatMul gives the same input gradient) 2.40 → 2.04 with lda =
// 1024, 2.44 → 1.94 with 1040 (K whole).
//
// Zen 4's L1d has 8 ways (32 KiB) where Zen 5's has 12, and there rows
// that alias do keep the first case from paying: W·gᵀ with lda = 1024
// ran 7.3–8.2 ms in place against 4.2–4.4 with lda = 1040 (both cores,
// three runs each), and the sgemm of that shape (BenchmarkSgemm
// fc-dX-swap) 108–121 GFLOP/s in place against 155–159 packed (66
// against 98 in a third run, on a busier host). So where a tile's rows
// alias and outnumber the ways of an L1d of at most 8 (thrashL1), gemm
// packs A instead, keeping the first case's whole K (the same sums, so
// the same bits as in place).
func (e *engine) readAInPlace(transA bool, m, n, lda int) (inPlace, wholeK bool) {
	if ceilDiv(min(n, e.nc), e.nr) <= directMaxPanels {
		return true, true
	}
	if !transA && m <= e.mc && !rowsAlias(e.mr, lda) {
		return true, false
	}
	return false, false
}

// rowsAlias reports whether mr rows of float32 at stride lda fall in
// the same few sets of a 4 KiB-way L1 (64-byte lines, 64 sets; Zen 5's
// 48 KiB L1d has 12 ways): when the stride in bytes is within a line of
// a (nonzero) multiple of 4 KiB, all the rows of a tile start within
// mr·(distance) bytes of the same offset in a way, so that more rows
// share a set than it has ways and every step of the micro-kernel misses
// in L1. Rows a line or less apart are contiguous: they do not alias.
func rowsAlias(mr, lda int) bool {
	d := lda * 4 % 4096
	d = min(d, 4096-d) // distance in bytes to the nearest multiple of 4 KiB
	return mr > 1 && d < 64 && lda*4 > 64
}

// thrashL1 reports whether the mr rows of a tile of A read in place at
// stride lda (non-transposed) fall in more lines of one L1 set than an
// L1d of the given ways holds, on an L1d of at most 8 ways (see
// readAInPlace; 0 ways: unknown, no).
func thrashL1(mr, lda, ways int) bool {
	return ways > 0 && ways <= 8 && mr > ways && rowsAlias(mr, lda)
}

// unthrashed is the mode in which e reads a non-transposed A of row
// stride lda that it would read in mode am: packed instead of in place
// where that would thrash L1 (thrashL1), else am. gemm and SgemmPackedB
// both ask it, so that they read A alike and give the same bits.
func (e *engine) unthrashed(am, lda int) int {
	if am == aRows && thrashL1(e.mr, lda, l1Ways) {
		return aPacked
	}
	return am
}

// directMaxK: a non-transposed A read in place is not blocked along K up
// to this length, so that each tile's rows are read as whole contiguous
// rows (conv patches: K = kernel area × channels; 2048 covers conv2's
// input gradient as a flipped-filter conv, K = 5·5·64: measured 10%
// faster than K-panels of 229 there, the same for N = 128, K = 2000).
var directMaxK = 2048

// kSplitMaxC is the largest m·n for which a long K (at least two
// chunks of engine.kChunk) is split into chunks (sgemmKSplit): the
// filter gradient of a first conv layer (25×32 over K = batch·pixels)
// has too few tiles of C to keep two workers busy or to reuse its
// operands, and the partial sums cost m·n per chunk.
const kSplitMaxC = 64 * 64

// serialFlops is the m·n·k below which Sgemm stays on the caller's
// goroutine: waking a second worker costs about as much as a 64³
// product (measured: 64³ ran at half the speed split over two cores).
const serialFlops = 1 << 20

func (e *engine) sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	e.gemm(parallel.Workers(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmSerial is sgemm on the caller's goroutine only.
func (e *engine) sgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	e.gemm(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemm is sgemm over at most workers goroutines (C's tiles, and so its
// values, do not depend on the split).
func (e *engine) gemm(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkSgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	e.gemmModes(workers, transA, transB, e.modesFor(transA, transB, m, n, k, lda), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// modesFor is how gemm reads the operands of a product of m×n over k
// with A's row stride lda: in place where that pays (readAInPlace, and
// B for few row tiles or long K-panels, bRowsFromKC) and e has the
// kernel, but A packed where its rows would thrash L1 (unthrashed).
func (e *engine) modesFor(transA, transB bool, m, n, k, lda int) modes {
	md := modes{a: aPacked, b: bPacked}
	if inPlace, wholeK := e.readAInPlace(transA, m, n, lda); inPlace {
		md.a, md.wholeK = aRows, wholeK
		if transA {
			md.a = aCols
		}
	}
	if !transB && (ceilDiv(m, e.mr) <= directMaxTiles || e.bRowsFromKC > 0 && e.kcStep(md, k) >= e.bRowsFromKC) {
		md.b = bRows
	}
	if e.kernels[md.a][md.b] == nil {
		md.b = bPacked
	}
	if e.kernels[md.a][md.b] == nil {
		md.a, md.wholeK = aPacked, false
	}
	if am := e.unthrashed(md.a, lda); am != md.a {
		md.a = am // keeping wholeK: the sums read in place, in the same order
		if e.kernels[md.a][md.b] == nil {
			md.b = bPacked
		}
	}
	return md
}

// gemmModes is gemm with the operands read as md says (kernels[md.a][md.b]
// must exist; m, n, k > 0 and alpha ≠ 0).
func (e *engine) gemmModes(workers int, transA, transB bool, md modes, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := e.mr, e.nr
	mTiles, nPanels := ceilDiv(m, mr), ceilDiv(n, nr)
	if e.kChunk > 0 && m*n <= kSplitMaxC && k >= 2*e.kChunk {
		e.sgemmKSplit(workers, transA, transB, md, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if workers == 1 || m*n*k < serialFlops {
		// Called directly, not through a closure shared with the
		// parallel splits: that closure escapes (the workers' goroutines
		// hold it) and would be allocated on every call, small or not.
		e.block(transA, transB, md, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	run := func(r0, r1, c0, c1 int) {
		e.block(transA, transB, md, r0, r1, c0, c1, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	if (n <= m && mTiles >= workers) || nPanels < workers {
		// Split the rows: each worker packs its own A rows and all of B
		// (B is the smaller operand to pack twice).
		parallel.For(mTiles, 1, func(lo, hi int) { run(lo*mr, min(hi*mr, m), 0, n) })
		return
	}
	// Split the columns: each worker packs its own B panels and all of A.
	parallel.For(nPanels, 1, func(lo, hi int) { run(0, m, lo*nr, min(hi*nr, n)) })
}

// sgemmKSplit computes C = alpha·op(A)·op(B) + beta·C by cutting K into
// chunks of equal length (about e.kChunk; the cut depends only on k):
// chunk h's product P_h = op(A)[:, K_h]·op(B)[K_h, :] goes to a private
// m×n buffer, the workers taking fixed ranges of chunks, and then
//
//	C[i,j] = alpha·((((P_0 + P_1) + P_2) + …) + P_last)[i,j] + beta·C[i,j]
//
// summed in float32 in chunk order. The order does not depend on
// GOMAXPROCS, so results repeat bit for bit.
func (e *engine) sgemmKSplit(workers int, transA, transB bool, md modes, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	chunks := ceilDiv(k, e.kChunk)
	step := ceilDiv(k, chunks)
	chunks = ceilDiv(k, step)
	mn := m * n
	partp := getBuf(chunks * mn)
	defer putBuf(partp)
	part := *partp
	chunk := func(lo, hi int) {
		for h := lo; h < hi; h++ {
			p0 := h * step
			// op(A)'s columns and op(B)'s rows from p0.
			var as, bs []float32
			if transA {
				as = a[p0*lda:]
			} else {
				as = a[p0:]
			}
			if transB {
				bs = b[p0:]
			} else {
				bs = b[p0*ldb:]
			}
			e.block(transA, transB, md, 0, m, 0, n, min(step, k-p0), 1, as, lda, bs, ldb, 0, part[h*mn:(h+1)*mn], n)
		}
	}
	if workers > 1 {
		parallel.For(chunks, 1, chunk)
	} else {
		chunk(0, chunks)
	}
	sum := part[:mn]
	for h := 1; h < chunks; h++ {
		for i, v := range part[h*mn : (h+1)*mn] {
			sum[i] += v
		}
	}
	for i := 0; i < m; i++ {
		crow, srow := c[i*ldc:i*ldc+n], sum[i*n:i*n+n]
		if beta == 0 {
			for j, v := range srow {
				crow[j] = alpha * v
			}
			continue
		}
		for j, v := range srow {
			crow[j] = alpha*v + beta*crow[j]
		}
	}
}

// kcStep is the length of the K-panels of a product over k read as md
// says: equal lengths (k = 800 → 4×200, not 3×256 + 32: a short last
// panel pays a full pass over C for little work), or K whole (md.wholeK,
// up to directMaxK).
func (e *engine) kcStep(md modes, k int) int {
	if md.wholeK && k <= directMaxK {
		return k
	}
	return ceilDiv(k, ceilDiv(k, e.kc))
}

// block runs the loop nest for C[r0:r1, c0:c1] (r0 a multiple of MR, c0
// of NR, so tiles line up with those of any other partition) with its
// own packing buffers: workers share nothing and never wait on each
// other until Sgemm returns.
func (e *engine) block(transA, transB bool, md modes, r0, r1, c0, c1, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nr := e.nr
	kcStep := e.kcStep(md, k)
	// With one block of rows (at most MC), no B micro-panel is used twice
	// in a K-panel apart from the tiles of that block, so each is packed
	// right before its use (in rows) into a buffer of one panel that
	// stays in L1/L2, instead of all NC columns up front into a block
	// that spills to L3 and is read back from there. Measured on the fc
	// layer (M = 128, Zen 5, both cores, shared with other work, median
	// of 8): x·W 3.08 → 2.72 ms, g·Wᵀ 3.20 → 2.67 ms.
	packEach := md.b == bPacked && r1-r0 <= e.mc
	bpCols := min(e.nc, roundUp(c1-c0, nr))
	if packEach {
		bpCols = nr
	}
	bpp := getBuf(kcStep * bpCols)
	app := getBuf(kcStep * e.mc)
	tilep := getBuf(e.mr * nr)
	defer putBuf(bpp)
	defer putBuf(app)
	defer putBuf(tilep)
	bp, ap, tile := *bpp, *app, *tilep
	for jc := c0; jc < c1; jc += e.nc {
		nc := min(e.nc, c1-jc)
		nPanels := ceilDiv(nc, nr)
		for pc := 0; pc < k; pc += kcStep {
			kc := min(kcStep, k-pc)
			betaK := beta
			if pc > 0 {
				betaK = 1
			}
			switch {
			case packEach:
			case md.b == bPacked:
				packB(transB, b, ldb, pc, kc, jc, nc, 0, nPanels, nr, bp)
			default:
				if full := nc / nr; full < nPanels {
					packB(transB, b, ldb, pc, kc, jc, nc, full, nPanels, nr, bp)
				}
			}
			e.rows(transA, transB, packEach, md.a, md.b, r0, r1, pc, kc, jc, nc, alpha, a, lda, b, ldb, bp, betaK, c, ldc, ap, tile)
		}
	}
}

// rows computes C[r0:r1, jc:jc+nc] for one K-panel, packing A in blocks
// of about MC rows (r1−r0 split into equal blocks so that no small
// trailing block reloads all of Bp for a few rows). Operands read in
// place (am ≠ aPacked, bm ≠ bPacked) are not packed, but for B's
// partial panels. With packEach (one block of rows, B packed) each B
// micro-panel is packed into bp[:NR·kc] just before its tiles; otherwise
// bp holds all the panels of jc:jc+nc. A tile short of MR rows runs the
// engine's tails where it has them; tiles short of NR columns, and short
// of MR rows on an engine without tails, go through the MR×NR scratch
// tile.
func (e *engine) rows(transA, transB, packEach bool, am, bm, r0, r1, pc, kc, jc, nc int, alpha float32, a []float32, lda int, b []float32, ldb int, bp []float32, beta float32, c []float32, ldc int, ap, tile []float32) {
	mr, nr := e.mr, e.nr
	blocks := ceilDiv(r1-r0, e.mc)
	step := roundUp(ceilDiv(r1-r0, blocks), mr)
	for ic := r0; ic < r1; ic += step {
		mc := min(step, r1-ic)
		tiles := ceilDiv(mc, mr)
		// An A read in place is read so for every row: the last rows
		// (fewer than MR) go through the tails, which an engine with
		// in-place kernels has. A packed A is packed whole.
		switch {
		case transA && am == aPacked:
			packATBlock(a, lda, ic, mc, pc, kc, mr, ap)
		case am == aPacked:
			for t := 0; t < tiles; t++ {
				packA(a, lda, ic+t*mr, min(mr, mc-t*mr), pc, kc, mr, ap[t*mr*kc:(t+1)*mr*kc])
			}
		}
		for q := 0; q < ceilDiv(nc, nr); q++ {
			j := jc + q*nr
			nrCur := min(nr, jc+nc-j)
			qp := q // the panel's place in bp
			if packEach {
				qp = 0
				packB(transB, b, ldb, pc, kc, j, nrCur, 0, 1, nr, bp)
			}
			bMode, bSrc, bLd := bPacked, bp[qp*nr*kc:(qp+1)*nr*kc], nr
			if bm == bRows && nrCur == nr {
				bMode, bSrc, bLd = bRows, b[pc*ldb+j:], ldb
			}
			for t := 0; t < tiles; t++ {
				i := ic + t*mr
				mrCur := min(mr, mc-t*mr)
				aMode, aSrc, aLd := aPacked, ap[t*mr*kc:(t+1)*mr*kc], mr
				switch am {
				case aRows:
					aMode, aSrc, aLd = aRows, a[i*lda+pc:], lda
				case aCols:
					aMode, aSrc, aLd = aCols, a[pc*lda+i:], lda
				}
				kern := e.kernels[aMode][bMode]
				tails := mrCur < mr && e.tails != nil
				switch {
				case mrCur == mr && nrCur == nr:
					kern(kc, aSrc, aLd, bSrc, bLd, c[i*ldc+j:], ldc, alpha, beta)
					continue
				case tails && nrCur == nr:
					e.tailRows(mrCur, kc, aMode, aSrc, aLd, bMode, bSrc, bLd, c[i*ldc+j:], ldc, alpha, beta)
					continue
				case tails:
					e.tailRows(mrCur, kc, aMode, aSrc, aLd, bMode, bSrc, bLd, tile, nr, 1, 0)
				default:
					kern(kc, aSrc, aLd, bSrc, bLd, tile, nr, 1, 0)
				}
				for ii := 0; ii < mrCur; ii++ {
					crow := c[(i+ii)*ldc+j : (i+ii)*ldc+j+nrCur]
					trow := tile[ii*nr : ii*nr+nrCur]
					if beta == 0 {
						for jj, v := range trow {
							crow[jj] = alpha * v
						}
					} else {
						for jj, v := range trow {
							crow[jj] = alpha*v + beta*crow[jj]
						}
					}
				}
			}
		}
	}
}

// packA packs rows [i0, i0+rows) of a non-transposed A, columns
// [pc, pc+kc), into an MR-row micro-panel dst (len mr·kc):
// dst[p·mr+i] = A[i0+i, pc+p]; rows ≥ rows are zero.
func packA(a []float32, lda, i0, rows, pc, kc, mr int, dst []float32) {
	if rows < mr {
		clear(dst)
	}
	if rows == 6 && mr == 6 {
		packA6(a[i0*lda+pc:], lda, kc, dst)
		return
	}
	if rows == 14 && mr == 14 {
		packA14(a[i0*lda+pc:], lda, kc, dst)
		return
	}
	for i := 0; i < rows; i++ {
		src := a[(i0+i)*lda+pc : (i0+i)*lda+pc+kc]
		d := dst[i:]
		for p, v := range src {
			d[p*mr] = v
		}
	}
}

// packATBlock packs rows [ic, ic+mc) of op(A) = Aᵀ (A is k×m, stride
// lda), columns [pc, pc+kc), into consecutive MR-row micro-panels of
// dst: panel t holds dst[t·mr·kc + p·mr + i] = A[pc+p, ic+t·mr+i]. It
// walks A row by row (one contiguous read of mc values per p, one page).
func packATBlock(a []float32, lda, ic, mc, pc, kc, mr int, dst []float32) {
	full := mc / mr
	if rest := mc - full*mr; rest > 0 {
		clear(dst[full*mr*kc : (full+1)*mr*kc])
	}
	for p := 0; p < kc; p++ {
		row := a[(pc+p)*lda+ic : (pc+p)*lda+ic+mc]
		switch mr {
		case 6:
			for t := 0; t < full; t++ {
				*(*[6]float32)(dst[t*6*kc+p*6:]) = [6]float32(row[t*6 : t*6+6])
			}
		case 4:
			for t := 0; t < full; t++ {
				*(*[4]float32)(dst[t*4*kc+p*4:]) = [4]float32(row[t*4 : t*4+4])
			}
		default:
			for t := 0; t < full; t++ {
				copy(dst[t*mr*kc+p*mr:t*mr*kc+p*mr+mr], row[t*mr:t*mr+mr])
			}
		}
		if rest := mc - full*mr; rest > 0 {
			d := dst[full*mr*kc+p*mr : full*mr*kc+p*mr+rest]
			for i, v := range row[full*mr:] {
				d[i] = v
			}
		}
	}
}

// packA6 interleaves six rows of A (stride lda) into dst[p·6+i], reading
// all six rows in one pass so that stores are contiguous.
func packA6(a []float32, lda, kc int, dst []float32) {
	r0 := a[0*lda : 0*lda+kc]
	r1 := a[1*lda : 1*lda+kc]
	r2 := a[2*lda : 2*lda+kc]
	r3 := a[3*lda : 3*lda+kc]
	r4 := a[4*lda : 4*lda+kc]
	r5 := a[5*lda : 5*lda+kc]
	dst = dst[:6*kc]
	for p := range r0 {
		d := dst[6*p : 6*p+6 : 6*p+6]
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// packA14 is packA6 for the 14 rows of the AVX-512 tile: dst[p·14+i] =
// a[i·lda+p], two passes of seven rows each so that every store of a
// pass lands in the same 56-byte step of dst.
func packA14(a []float32, lda, kc int, dst []float32) {
	dst = dst[:14*kc]
	for h := 0; h < 14; h += 7 {
		r0 := a[(h+0)*lda : (h+0)*lda+kc]
		r1 := a[(h+1)*lda : (h+1)*lda+kc]
		r2 := a[(h+2)*lda : (h+2)*lda+kc]
		r3 := a[(h+3)*lda : (h+3)*lda+kc]
		r4 := a[(h+4)*lda : (h+4)*lda+kc]
		r5 := a[(h+5)*lda : (h+5)*lda+kc]
		r6 := a[(h+6)*lda : (h+6)*lda+kc]
		for p := range r0 {
			d := dst[14*p+h : 14*p+h+7 : 14*p+h+7]
			d[0], d[1], d[2], d[3], d[4], d[5], d[6] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p], r6[p]
		}
	}
}

// packB packs the NR-column micro-panels q ∈ [q0, q1) of op(B), rows
// [pc, pc+kc), columns from jc (nc of them in this block), into bp:
// panel q holds bp[q·nr·kc + p·nr + j] = op(B)[pc+p, jc+q·nr+j];
// columns ≥ nc are zero. A non-transposed B is walked row by row (one
// contiguous read per p), a transposed one panel by panel.
func packB(transB bool, b []float32, ldb, pc, kc, jc, nc, q0, q1, nr int, bp []float32) {
	full := min(q1, nc/nr) // panels with nr real columns
	if full < q1 {
		clear(bp[full*nr*kc : q1*nr*kc])
	}
	if transB {
		for q := q0; q < q1; q++ {
			j0, cols := jc+q*nr, min(nr, nc-q*nr)
			dst := bp[q*nr*kc : (q+1)*nr*kc]
			if cols == nr && (nr == 16 || nr == 32) {
				packBTPanel(b[j0*ldb+pc:], ldb, kc, nr, dst)
				continue
			}
			for j := 0; j < cols; j++ {
				src := b[(j0+j)*ldb+pc : (j0+j)*ldb+pc+kc]
				d := dst[j:]
				for p, v := range src {
					d[p*nr] = v
				}
			}
		}
		return
	}
	p0 := 0
	if (nr == 16 || nr == 32) && full > q0 && packRows(bp[q0*nr*kc:], b[pc*ldb+jc+q0*nr:], kc, ldb, full-q0, nr*kc, nr) {
		if full == q1 {
			return
		}
		p0 = kc // the full panels are done; the partial one below
		for p := 0; p < kc; p++ {
			q, row := full, b[(pc+p)*ldb+jc:(pc+p)*ldb+jc+nc]
			copy(bp[q*nr*kc+p*nr:q*nr*kc+p*nr+nr], row[q*nr:])
		}
	}
	for p := p0; p < kc; p++ {
		row := b[(pc+p)*ldb+jc : (pc+p)*ldb+jc+nc]
		switch nr {
		case 16:
			for q := q0; q < full; q++ {
				*(*[16]float32)(bp[q*16*kc+p*16:]) = [16]float32(row[q*16 : q*16+16])
			}
		case 32:
			for q := q0; q < full; q++ {
				*(*[32]float32)(bp[q*32*kc+p*32:]) = [32]float32(row[q*32 : q*32+32])
			}
		default:
			for q := q0; q < full; q++ {
				copy(bp[q*nr*kc+p*nr:q*nr*kc+p*nr+nr], row[q*nr:q*nr+nr])
			}
		}
		if full < q1 {
			// The last panel of the block is partial.
			q := full
			copy(bp[q*nr*kc+p*nr:q*nr*kc+p*nr+nr], row[q*nr:])
		}
	}
}

// packBTPanel packs nr rows (16 or 32) of a transposed B (stride ldb)
// into dst[p·nr+j], reading four rows per pass so that each store fills
// four consecutive values of a panel row.
func packBTPanel(b []float32, ldb, kc, nr int, dst []float32) {
	dst = dst[:nr*kc]
	p0 := 0
	if kc >= 8 && packColsT(dst, b, kc/8, ldb, nr) {
		p0 = kc &^ 7 // steps in whole 8×8 blocks are done
	}
	for j := 0; j < nr; j += 4 {
		r0 := b[(j+0)*ldb : (j+0)*ldb+kc]
		r1 := b[(j+1)*ldb : (j+1)*ldb+kc]
		r2 := b[(j+2)*ldb : (j+2)*ldb+kc]
		r3 := b[(j+3)*ldb : (j+3)*ldb+kc]
		for p := p0; p < kc; p++ {
			*(*[4]float32)(dst[nr*p+j:]) = [4]float32{r0[p], r1[p], r2[p], r3[p]}
		}
	}
}

// scaleC sets C = beta·C (C = 0 when beta == 0, ignoring NaN in C).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// checkSgemm panics with a description when the dimensions, strides or
// slice lengths cannot describe the product: the assembly kernels would
// otherwise read or write outside the slices.
func checkSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels.Sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	need := func(name string, rows, cols, ld int, s []float32) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("kernels.Sgemm: ld%s=%d is less than the %d columns of %s", name, ld, cols, name))
		}
		if want := (rows-1)*ld + cols; len(s) < want {
			panic(fmt.Sprintf("kernels.Sgemm: len(%s)=%d, want at least %d for %d×%d with ld%s=%d", name, len(s), want, rows, cols, name, ld))
		}
	}
	if transA {
		need("a", k, m, lda, a)
	} else {
		need("a", m, k, lda, a)
	}
	if transB {
		need("b", n, k, ldb, b)
	} else {
		need("b", k, n, ldb, b)
	}
	need("c", m, n, ldc, c)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// Packing buffers and partial sums come from internal/pool, the one
// store of recycled storage: fresh multi-MiB slices cost page faults on
// each Sgemm call. getBuf returns n floats of undefined contents; hand
// the pointer back with putBuf once nothing reads them.
func getBuf(n int) *[]float32 { return pool.GetClass(n) }

func putBuf(p *[]float32) { pool.PutClass(p) }
