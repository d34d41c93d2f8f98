//go:build !purego

package kernels

import (
	"math"
	"time"

	"golang.org/x/sys/cpu"
)

//go:generate go -C _asm run . -set sgemm -out ../sgemm_amd64.s -stubs ../sgemm_stubs_amd64.go -pkg kernels

// avx2Engine runs the 6×16 AVX2+FMA kernels. Blocking for Zen 3: a
// 256×16 B micro-panel (16 KiB) stays in L1, a 168×256 A block (168 KiB)
// in the 512 KiB L2, a 256×4096 B block (4 MiB) in L3.
var avx2Engine = withRows16(withK16(engine{
	name: "avx2",
	mr:   6, nr: 16,
	kc: 256, mc: 168, nc: 4096, kChunk: 2048,
	kernels: asmKernels(6, 16, [6]asmKernel{
		sgemmKernelAVX2, sgemmKernelAVX2DirectB,
		sgemmKernelAVX2DirectA, sgemmKernelAVX2DirectADirectB,
		sgemmKernelAVX2DirectAT, sgemmKernelAVX2DirectATDirectB,
	}),
	tails: asmTails(16, []asmTailSet{
		{4, [4]asmKernel{sgemmTailAVX2R4Rows, sgemmTailAVX2R4RowsDirectB, sgemmTailAVX2R4Cols, sgemmTailAVX2R4ColsDirectB}},
		{2, [4]asmKernel{sgemmTailAVX2R2Rows, sgemmTailAVX2R2RowsDirectB, sgemmTailAVX2R2Cols, sgemmTailAVX2R2ColsDirectB}},
		{1, [4]asmKernel{sgemmTailAVX2R1Rows, sgemmTailAVX2R1RowsDirectB, sgemmTailAVX2R1Cols, sgemmTailAVX2R1ColsDirectB}},
	}),
}, sgemmK16N16AVX2), sgemmRowsAVX2)

// asmTailSet is a tail's four assembly kernels, by A's mode (rows,
// columns) and then B's (packed, rows).
type asmTailSet struct {
	rows int
	f    [4]asmKernel
}

// asmTails wraps the tails of a tile of nr columns as an engine's
// tails: the columns kernel also serves a packed A (its micro-panel read
// with lda = MR).
func asmTails(nr int, sets []asmTailSet) []tail {
	ts := make([]tail, len(sets))
	for i, s := range sets {
		ts[i].rows = s.rows
		for bm := range 2 {
			rows, cols := asmTile(s.rows, nr, aRows, bm, s.f[bm]), asmTile(s.rows, nr, aCols, bm, s.f[2+bm])
			ts[i].kernels[aRows][bm], ts[i].kernels[aCols][bm] = rows, cols
			ts[i].kernels[aPacked][bm] = cols
		}
	}
	return ts
}

// l1Size and l2Size are this CPU's L1d and L2 in bytes and l1Ways its
// L1d's ways (0 when they cannot be read), probed once: CPUID traps to
// the hypervisor on a virtual machine.
var l1Size, l1Ways, l2Size = cacheSizes()

// l2Engine is the engine of an mr×nr AVX-512F tile's six kernels (in
// asmKernels' order), blocked for this CPU's L2 (see blocking).
func l2Engine(name string, mr, nr int, ks [6]asmKernel, tails []tail) engine {
	kc, mc := blocking(l2Size, mr, nr)
	return engine{name: name, mr: mr, nr: nr, kc: kc, mc: mc, nc: 4096, kChunk: 2048, kernels: asmKernels(mr, nr, ks), tails: tails}
}

// tails32 and tails16 are the AVX-512F row tails of 32 and 16 columns.
var (
	tails32 = asmTails(32, []asmTailSet{
		{8, [4]asmKernel{sgemmTailAVX512R8Rows, sgemmTailAVX512R8RowsDirectB, sgemmTailAVX512R8Cols, sgemmTailAVX512R8ColsDirectB}},
		{4, [4]asmKernel{sgemmTailAVX512R4Rows, sgemmTailAVX512R4RowsDirectB, sgemmTailAVX512R4Cols, sgemmTailAVX512R4ColsDirectB}},
		{2, [4]asmKernel{sgemmTailAVX512R2Rows, sgemmTailAVX512R2RowsDirectB, sgemmTailAVX512R2Cols, sgemmTailAVX512R2ColsDirectB}},
		{1, [4]asmKernel{sgemmTailAVX512R1Rows, sgemmTailAVX512R1RowsDirectB, sgemmTailAVX512R1Cols, sgemmTailAVX512R1ColsDirectB}},
	})
	tails16 = asmTails(16, []asmTailSet{
		{16, [4]asmKernel{sgemmTailAVX512N16R16Rows, sgemmTailAVX512N16R16RowsDirectB, sgemmTailAVX512N16R16Cols, sgemmTailAVX512N16R16ColsDirectB}},
		{8, [4]asmKernel{sgemmTailAVX512N16R8Rows, sgemmTailAVX512N16R8RowsDirectB, sgemmTailAVX512N16R8Cols, sgemmTailAVX512N16R8ColsDirectB}},
		{4, [4]asmKernel{sgemmTailAVX512N16R4Rows, sgemmTailAVX512N16R4RowsDirectB, sgemmTailAVX512N16R4Cols, sgemmTailAVX512N16R4ColsDirectB}},
		{2, [4]asmKernel{sgemmTailAVX512N16R2Rows, sgemmTailAVX512N16R2RowsDirectB, sgemmTailAVX512N16R2Cols, sgemmTailAVX512N16R2ColsDirectB}},
		{1, [4]asmKernel{sgemmTailAVX512N16R1Rows, sgemmTailAVX512N16R1RowsDirectB, sgemmTailAVX512N16R1Cols, sgemmTailAVX512N16R1ColsDirectB}},
	})
)

type asmKernel func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// asmKernels wraps an mr×nr tile's six assembly variants, given by A's
// mode (packed, rows, columns) and then B's (packed, rows), as an
// engine's kernels.
func asmKernels(mr, nr int, f [6]asmKernel) [3][2]microKernel {
	var ks [3][2]microKernel
	for am := range ks {
		for bm := range ks[am] {
			ks[am][bm] = asmTile(mr, nr, am, bm, f[2*am+bm])
		}
	}
	return ks
}

// asmTile wraps an mr×nr assembly kernel with the bounds checks its A
// and B modes need (the assembly itself checks nothing).
func asmTile(mr, nr, am, bm int, f asmKernel) microKernel {
	return func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
		switch am {
		case aPacked:
			_ = a[mr*k-1]
		case aRows:
			_ = a[(mr-1)*lda+k-1]
		case aCols:
			_ = a[(k-1)*lda+mr-1]
		}
		if bm == bPacked {
			_ = b[nr*k-1]
		} else {
			_ = b[(k-1)*ldb+nr-1]
		}
		_ = c[(mr-1)*ldc+nr-1]
		f(k, &a[0], lda, &b[0], ldb, &c[0], ldc, alpha, beta)
	}
}

// avx512Engine runs the 14×32 AVX-512F kernels (KC = 512, MC = 252 on
// a 1 MiB L2). Under rateRules.bPastHalfL1 (half-rate 512-bit FMAs) it
// reads a non-transposed B in place for any rows of A when a packed
// micro-panel of a K-panel (KC×32 floats) would not fit in half the L1d
// (bRowsFromKC): a step of the tile then takes 28 FMA cycles, time
// enough for the B row's two lines to come from L2 even at a stride of
// 4 KiB, and packing B is a pass over it for nothing; a packed panel
// that stays in L1 is read from there by every tile of a block, which
// B's rows in place, 4 KiB apart, would thrash. Measured on Zen 4 (both
// cores, two or three runs, ms, packed → in place): the lecture's fc
// x·W (128×3136 · 3136×1024, KC 448) 4.35–4.65 → 3.83–3.98; 512 rows
// 16.8–17.7 → 16.3–16.6; 128×1024 · 1024×3136 4.58–4.71 → 3.84–4.05;
// 128×1024 · 1024×1024 1.35–1.38 → 1.28–1.31; 512×512 · 512×256
// 0.62–0.81 → 0.60–0.62; but its weight gradient xᵀ·g (3136×128 ·
// 128×1024, KC 128: a 16 KiB panel) 3.91–4.28 → 4.06–4.34. (The AVX2
// 6×16 tile, 12 FMAs a step, lost with rows 4 KiB apart: 128 rows of
// 1024×1024 1.39–1.45 → 2.01–2.12.)
var avx512Engine = withRules(l2Engine("avx512", 14, 32, [6]asmKernel{
	sgemmKernelAVX512, sgemmKernelAVX512DirectB,
	sgemmKernelAVX512DirectA, sgemmKernelAVX512DirectADirectB,
	sgemmKernelAVX512DirectAT, sgemmKernelAVX512DirectATDirectB,
}, tails32), rules, l1Size)

// withRules sets e's choices under the rate rules r on an L1d of l1
// bytes (0: unknown): with r.bPastHalfL1, bRowsFromKC is the shortest
// K-panel whose packed micro-panel fills more than half the L1d.
func withRules(e engine, r rateRules, l1 int) engine {
	e.bRowsFromKC = 0
	if r.bPastHalfL1 {
		e.bRowsFromKC = l1/(2*4*e.nr) + 1
	}
	return e
}

// avx512NarrowEngine runs the 28×16 AVX-512F kernels: the default
// avx512 path's engine for products of at most 16 columns of C (see
// narrowN).
var avx512NarrowEngine = withK16(l2Engine("avx512-28x16", 28, 16, [6]asmKernel{
	sgemmKernelAVX512N16, sgemmKernelAVX512N16DirectB,
	sgemmKernelAVX512N16DirectA, sgemmKernelAVX512N16DirectADirectB,
	sgemmKernelAVX512N16DirectAT, sgemmKernelAVX512N16DirectATDirectB,
}, tails16), sgemmK16N16AVX512)

// withK16 gives e a K = 16, N = 16 kernel (engine.k16: sgemmK16N16AVX512
// or sgemmK16N16AVX2), with the bounds checks the assembly does not make.
func withK16(e engine, kern func(m int, a *float32, lda int, b *float32, c *float32, ldc int)) engine {
	e.k16 = func(m int, a []float32, lda int, b, c []float32, ldc int) {
		if m <= 0 {
			return
		}
		_, _, _ = a[(m-1)*lda+15], b[16*16-1], c[(m-1)*ldc+15]
		kern(m, &a[0], lda, &b[0], &c[0], ldc)
	}
	return e
}

// withRows16 gives e the AVX2 row kernel (engine.rows16: sgemmRowsAVX2,
// whole tiles of six rows), with the bounds checks the assembly does not
// make.
func withRows16(e engine, kern func(m, k int, a *float32, lda int, b *float32, c *float32, ldc int)) engine {
	e.rows16 = func(m, k int, a []float32, lda int, b, c []float32, ldc int) {
		if m <= 0 || k <= 0 {
			return
		}
		_, _, _ = a[(m-1)*lda+k-1], b[16*k-1], c[(m-1)*ldc+15]
		kern(m, k, &a[0], lda, &b[0], &c[0], ldc)
	}
	return e
}

// avx512SmallEngine runs the 16×16 AVX-512F kernels: the default avx512
// path's engine for products of 16 or 32 rows and at most 32 columns of
// C (see smallMN).
var avx512SmallEngine = l2Engine("avx512-16x16", 16, 16, [6]asmKernel{
	sgemmKernelAVX512M16, sgemmKernelAVX512M16DirectB,
	sgemmKernelAVX512M16DirectA, sgemmKernelAVX512M16DirectADirectB,
	sgemmKernelAVX512M16DirectAT, sgemmKernelAVX512M16DirectATDirectB,
}, tails16[1:])

// avx512Tiles returns the engines of the default avx512 path's narrow
// and small products, nil without AVX-512F.
func avx512Tiles() (narrow, small *engine) {
	if cpu.X86.HasAVX512F {
		return &avx512NarrowEngine, &avx512SmallEngine
	}
	return nil, nil
}

// packRows runs packB16AVX or packB32AVX (nr = 16 or 32) in calls of
// 64 rows: it packs dst[q·stride + p·nr + j] = src[p·ldb + q·nr + j] for
// p < kc, q < panels, j < nr, and reports true; false (nothing done) on
// a CPU without AVX (the tests run the engines' blocking with plain-loop
// kernels anywhere).
func packRows(dst, src []float32, kc, ldb, panels, stride, nr int) bool {
	if !cpu.X86.HasAVX {
		return false
	}
	_, _ = dst[(panels-1)*stride+nr*kc-1], src[(kc-1)*ldb+nr*panels-1]
	for p := 0; p < kc; p += 64 {
		if nr == 32 {
			packB32AVX(&dst[32*p], &src[p*ldb], min(64, kc-p), ldb, panels, stride)
		} else {
			packB16AVX(&dst[16*p], &src[p*ldb], min(64, kc-p), ldb, panels, stride)
		}
	}
	return true
}

// packColsT runs packBT16AVX or packBT32AVX (nr = 16 or 32):
// dst[p·nr + j] = src[j·ldb + p] for p < 8·blocks, j < nr, and reports
// true (false without AVX, as packRows).
func packColsT(dst, src []float32, blocks, ldb, nr int) bool {
	if !cpu.X86.HasAVX {
		return false
	}
	_, _ = dst[8*nr*blocks-1], src[(nr-1)*ldb+8*blocks-1]
	if nr == 32 {
		packBT32AVX(&dst[0], &src[0], blocks, ldb)
	} else {
		packBT16AVX(&dst[0], &src[0], blocks, ldb)
	}
	return true
}

// archEngines lists the assembly engines this CPU can run, fastest first.
// GODEBUG=cpu.avx512f=off or cpu.avx2=off,cpu.fma=off hides them.
func archEngines() []*engine {
	var es []*engine
	if cpu.X86.HasAVX512F {
		es = append(es, &avx512Engine)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		es = append(es, &avx2Engine)
	}
	return es
}

// archNames lists every assembly engine built into this binary.
var archNames = []string{"avx512", "avx2"}

// hasAVX512F: this CPU runs AVX-512F (GODEBUG=cpu.avx512f=off hides it).
var hasAVX512F = cpu.X86.HasAVX512F

// full512 tells whether 512-bit FMAs run at full rate here (twice the
// FLOP per cycle of 256-bit ones), and what decided it.
var full512 = decide512(cpu.X86.HasAVX512F, cpuVendorFamily, calibrate512)

// cpuVendorFamily returns CPUID's vendor string and display family
// (base family, plus the extended family when the base is 0Fh).
func cpuVendorFamily() (string, uint32) {
	_, b, c, d := cpuid(0, 0)
	var v [12]byte
	for i, r := range [3]uint32{b, d, c} {
		v[4*i], v[4*i+1], v[4*i+2], v[4*i+3] = byte(r), byte(r>>8), byte(r>>16), byte(r>>24)
	}
	a, _, _, _ := cpuid(1, 0)
	family := a >> 8 & 0xf
	if family == 0xf {
		family += a >> 20 & 0xff
	}
	return string(v[:]), family
}

// calibrate512 measures the FMA throughput of the register-only probes
// (fmaPeakAVX2, fmaPeakAVX512), alternating them three times and keeping
// each one's best, and returns AVX-512's FLOP rate over AVX2's: about 2
// on full-width cores, about 1 where 512-bit FMAs are split or a single
// 512-bit unit serves both halves. It takes about 0.1 ms.
func calibrate512() float64 {
	const iters = 4096
	best2, best512 := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range 3 {
		t0 := time.Now()
		fmaPeakAVX2(iters)
		t1 := time.Now()
		fmaPeakAVX512(iters)
		t2 := time.Now()
		best2, best512 = min(best2, t1.Sub(t0)), min(best512, t2.Sub(t1))
	}
	// Per round: 12·8·2 FLOP (AVX2), 24·16·2 (AVX-512).
	return (24 * 16 * 2 / best512.Seconds()) / (12 * 8 * 2 / best2.Seconds())
}
