// Command _asm generates the assembly of package kernels with avo, one
// file set per run (-set). Run it through `go generate` in
// internal/kernels:
//
//	go run . -set sgemm -out ../sgemm_amd64.s -stubs ../sgemm_stubs_amd64.go -pkg kernels
//	go run . -set vec -out ../vec_amd64.s -stubs ../vec_stubs_amd64.go -pkg kernels
//	go run . -set conv -out ../conv_amd64.s -stubs ../conv_stubs_amd64.go -pkg kernels
//	go run . -set bn -out ../bn_amd64.s -stubs ../bn_stubs_amd64.go -pkg kernels
//
// -set vec: the AVX2 and AVX-512 loops behind the vec*.go routines
// (vec.go and vec512.go here).
// -set sgemm: the sgemm micro-kernels.
// -set conv: direct convolution loops for one input channel (conv.go here).
// -set bn: batch-normalization loops, AVX2 and AVX-512 (bn.go here).
//
// Each kernel computes one MR×NR tile of C over one packed K-panel:
//
//	acc[i][j] = Σ_p a[p·MR+i] · b[p·NR+j]            (p < k, fused multiply-add)
//	C[i·ldc+j] = alpha·acc[i][j] + beta·C[i·ldc+j]  (beta == 0: C is not read)
//
// a is an A micro-panel packed column by column (MR floats per step of p),
// b a B micro-panel packed row by row (NR floats per step of p). The
// caller loops over tiles and panels in Go, so each call stays short (asm
// functions are not preemptible).
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// signature is shared by every kernel; lda and ldb are element strides,
// read only by the variants that use A or B in place.
const signature = "func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)"

var set = flag.String("set", "sgemm", "which routines to generate: sgemm, vec, conv or bn")

func main() {
	flag.Parse() // avo's own flags (-out, -stubs, -pkg) are registered on the same set
	ConstraintExpr("!purego")

	switch *set {
	case "sgemm":
		avx2Kernel()
		avx512Kernel()
		avx512NarrowKernel()
		avx512SmallKernel()
		k16Kernel()
		k16AVX2Kernel()
		rowsAVX2Kernel()
		tailKernels()
		packBRows(16)
		packBRows(32)
		packBT(16)
		packBT(32)
		probes()
		cpuidFunc()
	case "vec":
		vecRoutines()
		vec512Routines()
	case "conv":
		convRoutines()
	case "bn":
		bnRoutines()
	default:
		log.Fatalf("-set %q: want sgemm, vec, conv or bn", *set)
	}

	Generate()
}

// vecKernel describes one register tile: mr rows of C, each held in
// nv vector registers of width lanes floats.
type vecKernel struct {
	name  string
	doc   string
	mr    int
	nv    int
	lanes int
	vec   func() reg.VecVirtual
	// directA: A is read in place (mr = 6 rows at stride lda) instead of
	// from a packed micro-panel.
	directA bool
	// directAT: op(A) = Aᵀ read in place (the tile's MR values of step p
	// are contiguous, steps at stride lda).
	directAT bool
	// directB: B read in place (row p of the tile's NR columns at
	// b + p·ldb, contiguous) instead of from a packed micro-panel.
	directB bool
}

// avx2Kernel: 6×16 tile, 12 YMM accumulators, B row in 2 YMM, A element
// broadcast into a scratch YMM (15 of 16 registers).
func avx2Kernel() {
	kernelVariants("sgemmKernelAVX2", "the 6×16 AVX2+FMA micro-kernel (12 YMM accumulators)",
		"Six", "sixteen", vecKernel{mr: 6, nv: 2, lanes: 8, vec: YMM})
}

// avx512Kernel: 14×32 tile, 28 ZMM accumulators, B row in 2 ZMM, A element
// broadcast into a scratch ZMM (31 of 32; an FMA with an embedded
// broadcast would load each A value once per B vector, more loads per
// step than Zen 5's two 512-bit loads per cycle).
func avx512Kernel() {
	kernelVariants("sgemmKernelAVX512", "the 14×32 AVX-512F micro-kernel (28 ZMM accumulators)",
		"Fourteen", "32", vecKernel{mr: 14, nv: 2, lanes: 16, vec: ZMM})
}

// avx512NarrowKernel: 28×16 tile for products with at most 16 columns
// of C (conv layers of 16 channels, Winograd cells of them), where the
// 14×32 tile would compute twice the columns it keeps: 28 ZMM
// accumulators, B row in one ZMM, each A element broadcast by its FMA
// (29 of 32; see gen).
func avx512NarrowKernel() {
	kernelVariants("sgemmKernelAVX512N16", "the 28×16 AVX-512F micro-kernel for narrow products (28 ZMM accumulators)",
		"Twenty-eight", "sixteen", vecKernel{mr: 28, nv: 1, lanes: 16, vec: ZMM})
}

// avx512SmallKernel: 16×16 tile for products of 16 or 32 rows and at
// most 32 columns of C (a Winograd filter gradient's cell, Ŵ_ξᵀ [F, C]
// over the tiles), where the 28×16 or 14×32 tile would compute 28 rows
// to keep 16, or 42 to keep 32: 16 ZMM accumulators, enough in flight to
// cover the FMA latency on two pipes, each A element broadcast by its FMA
// (see gen).
func avx512SmallKernel() {
	kernelVariants("sgemmKernelAVX512M16", "the 16×16 AVX-512F micro-kernel for small products (16 ZMM accumulators)",
		"Sixteen", "sixteen", vecKernel{mr: 16, nv: 1, lanes: 16, vec: ZMM})
}

// k16Kernel: C = A·B for a whole product of K = 16 and 16 columns (a
// Winograd cell of a 16-channel convolution: V_ξ·U_ξ), A's rows in place,
// B (16×16, row-major: one packed 16-column panel) held in 16 ZMM
// registers for all of A's rows: eight rows at a time (eight
// accumulators, each A value broadcast from memory into its FMA), then
// one at a time. Each output is Σ_k a_k·b_k by fused multiply-adds from
// k = 0 up from zero, as in the micro-kernels, so the bits are theirs.
func k16Kernel() {
	TEXT("sgemmK16N16AVX512", NOSPLIT, "func(m int, a *float32, lda int, b *float32, c *float32, ldc int)")
	Doc("sgemmK16N16AVX512 sets the m ≥ 1 rows of C (16 values at stride ldc) to A (16 values at stride lda) times the 16×16 row-major B.")
	m := Load(Param("m"), GP64())
	a, lda, lda3, b, c, ldc, ldc3 := rowKernelArgs()
	bv := make([]reg.VecVirtual, 16)
	for k := range bv {
		bv[k] = ZMM()
		VMOVUPS(Mem{Base: b, Disp: 64 * k}, bv[k])
	}
	a4, c4 := GP64(), GP64()
	rowGroups("k16", 8, m, a, a4, lda, c, c4, ldc, func() {
		acc := make([]reg.VecVirtual, 8)
		for r := range acc {
			acc[r] = ZMM()
			zero(acc[r])
		}
		for k := 0; k < 16; k++ {
			for r := range acc {
				VFMADD231PS_BCST(rowAt(a, a4, lda, lda3, r, 4*k), bv[k], acc[r])
			}
		}
		for r := range acc {
			VMOVUPS(acc[r], rowAt(c, c4, ldc, ldc3, r, 0))
		}
	}, func() {
		one := ZMM()
		zero(one)
		for k := 0; k < 16; k++ {
			VFMADD231PS_BCST(Mem{Base: a, Disp: 4 * k}, bv[k], one)
		}
		VMOVUPS(one, Mem{Base: c})
	})
	VZEROUPPER()
	RET()
}

// rowGroups emits the row loops of the K = 16 kernels: while m ≥ group
// (6 or 8), group(): the rows at a and c, with a4 = a + 4·lda and c4 =
// c + 4·ldc set for rowAt; then one() for each row left, at a and c.
// Labels start with prefix.
func rowGroups(prefix string, group int, m, a, a4, lda, c, c4, ldc reg.Register, groupBody, one func()) {
	Label(prefix + "group")
	CMPQ(m, Imm(uint64(group)))
	JL(LabelRef(prefix + "rows"))
	LEAQ(Mem{Base: a, Index: lda, Scale: 4}, a4)
	LEAQ(Mem{Base: c, Index: ldc, Scale: 4}, c4)
	groupBody()
	LEAQ(Mem{Base: a4, Index: lda, Scale: uint8(group - 4)}, a)
	LEAQ(Mem{Base: c4, Index: ldc, Scale: uint8(group - 4)}, c)
	SUBQ(Imm(uint64(group)), m)
	JMP(LabelRef(prefix + "group"))
	Label(prefix + "rows")
	TESTQ(m, m)
	JZ(LabelRef(prefix + "done"))
	one()
	ADDQ(lda, a)
	ADDQ(ldc, c)
	DECQ(m)
	JMP(LabelRef(prefix + "rows"))
	Label(prefix + "done")
}

// rowAt is row r (< 8) of a group of rows at base (r < 4) or base4
// (r ≥ 4, base4 = base + 4·stride), plus disp bytes: (r mod 4)·stride
// from stride and stride3 (3·stride), both in bytes.
func rowAt(base, base4, stride, stride3 reg.Register, r, disp int) Mem {
	if r >= 4 {
		base, r = base4, r-4
	}
	m := Mem{Base: base, Disp: disp}
	switch r {
	case 1, 2:
		m.Index, m.Scale = stride, uint8(r)
	case 3:
		m.Index, m.Scale = stride3, 1
	}
	return m
}

// sixRows is the register tile of the AVX2 row kernels (k16AVX2Kernel,
// rowsAVX2Kernel), the 6×16 micro-kernel's: twelve YMM accumulators,
// row p of B in two YMM, A values broadcast into a scratch YMM.
type sixRows struct {
	acc        [6][2]reg.VecVirtual
	b0, b1, bc reg.VecVirtual
}

func newSixRows() *sixRows {
	t := &sixRows{b0: YMM(), b1: YMM(), bc: YMM()}
	for r := range t.acc {
		t.acc[r] = [2]reg.VecVirtual{YMM(), YMM()}
	}
	return t
}

func (t *sixRows) zero() {
	for r := range t.acc {
		zero(t.acc[r][0], t.acc[r][1])
	}
}

// step adds the six rows' value u (at a, and a4 = a + 4·lda, plus 4u
// bytes) times row u of B (at b + 64u) into the accumulators.
func (t *sixRows) step(a, a4, lda, lda3, b reg.Register, u int) {
	VMOVUPS(Mem{Base: b, Disp: 64 * u}, t.b0)
	VMOVUPS(Mem{Base: b, Disp: 64*u + 32}, t.b1)
	for r := range t.acc {
		VBROADCASTSS(rowAt(a, a4, lda, lda3, r, 4*u), t.bc)
		VFMADD231PS(t.b0, t.bc, t.acc[r][0])
		VFMADD231PS(t.b1, t.bc, t.acc[r][1])
	}
}

// store writes the six rows to c and c4 = c + 4·ldc.
func (t *sixRows) store(c, c4, ldc, ldc3 reg.Register) {
	for r := range t.acc {
		VMOVUPS(t.acc[r][0], rowAt(c, c4, ldc, ldc3, r, 0))
		VMOVUPS(t.acc[r][1], rowAt(c, c4, ldc, ldc3, r, 32))
	}
}

// rowKernelArgs loads the arguments the row kernels (k16Kernel,
// k16AVX2Kernel, rowsAVX2Kernel) share, the strides in bytes, with three
// times each stride.
func rowKernelArgs() (a, lda, lda3, b, c, ldc, ldc3 reg.Register) {
	a = Load(Param("a"), GP64())
	lda = Load(Param("lda"), GP64())
	SHLQ(Imm(2), lda)
	b = Load(Param("b"), GP64())
	c = Load(Param("c"), GP64())
	ldc = Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	lda3, ldc3 = GP64(), GP64()
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	LEAQ(Mem{Base: ldc, Index: ldc, Scale: 2}, ldc3)
	return a, lda, lda3, b, c, ldc, ldc3
}

// k16AVX2Kernel: k16Kernel's product with 256-bit vectors. B (16×16,
// 32 YMM) does not fit in the 16 registers, so each step p reads row p
// of B from L1 for six rows of A at a time (sixRows), the sixteen steps
// unrolled, then the rows left one at a time. What it saves over the
// micro-kernel is the call per tile: a cell of 96 rows is one call
// instead of sixteen. rowsAVX2Kernel does the same for any K; this one,
// unrolled and with the last rows inside, took a batch of one's cells
// (49 rows) in 8 % less time. Each output is Σ_k a_k·b_k by fused
// multiply-adds from k = 0 up from zero, as in the micro-kernels, so
// the bits are theirs.
func k16AVX2Kernel() {
	TEXT("sgemmK16N16AVX2", NOSPLIT, "func(m int, a *float32, lda int, b *float32, c *float32, ldc int)")
	Doc("sgemmK16N16AVX2 sets the m ≥ 1 rows of C (16 values at stride ldc) to A (16 values at stride lda) times the 16×16 row-major B.")
	m := Load(Param("m"), GP64())
	a, lda, lda3, b, c, ldc, ldc3 := rowKernelArgs()
	a4, c4 := GP64(), GP64()
	t := newSixRows()
	rowGroups("k16x2", 6, m, a, a4, lda, c, c4, ldc, func() {
		t.zero()
		for k := 0; k < 16; k++ {
			t.step(a, a4, lda, lda3, b, k)
		}
		t.store(c, c4, ldc, ldc3)
	}, func() {
		one := [2]reg.VecVirtual{YMM(), YMM()}
		zero(one[0], one[1])
		for k := 0; k < 16; k++ {
			VBROADCASTSS(Mem{Base: a, Disp: 4 * k}, t.bc)
			VFMADD231PS(Mem{Base: b, Disp: 64 * k}, t.bc, one[0])
			VFMADD231PS(Mem{Base: b, Disp: 64*k + 32}, t.bc, one[1])
		}
		VMOVUPS(one[0], Mem{Base: c})
		VMOVUPS(one[1], Mem{Base: c, Disp: 32})
	})
	VZEROUPPER()
	RET()
}

// rowsAVX2Kernel: the 6×16 micro-kernel's product with A in place and
// B one packed panel of 16 columns (k rows of 16, one K-panel), for all
// the whole tiles of A's rows in one call: six rows at a time
// (sixRows), two steps of p per iteration. It saves the call per tile
// a product of many rows makes otherwise (a Winograd cell of 96 rows:
// sixteen); the caller runs the rows short of a tile through the tails.
// Each output is Σ_p a_p·b_p by fused multiply-adds from p = 0 up from
// zero, as in the micro-kernel with alpha 1 and beta 0, so the bits are
// its.
func rowsAVX2Kernel() {
	TEXT("sgemmRowsAVX2", NOSPLIT, "func(m int, k int, a *float32, lda int, b *float32, c *float32, ldc int)")
	Doc("sgemmRowsAVX2 sets the m rows of C (m a multiple of 6; 16 values at stride ldc) to A (k ≥ 1 values at stride lda) times B (k rows of 16, contiguous).")
	m := Load(Param("m"), GP64())
	k := Load(Param("k"), GP64())
	a, lda, lda3, b, c, ldc, ldc3 := rowKernelArgs()
	pa, pa4, pb, kk := GP64(), GP64(), GP64(), GP64()
	t := newSixRows()
	Label("rowsGroup")
	CMPQ(m, Imm(6))
	JL(LabelRef("rowsDone"))
	MOVQ(a, pa)
	LEAQ(Mem{Base: a, Index: lda, Scale: 4}, pa4)
	MOVQ(b, pb)
	MOVQ(k, kk)
	t.zero()
	Label("rowsPair")
	CMPQ(kk, Imm(2))
	JL(LabelRef("rowsLast"))
	t.step(pa, pa4, lda, lda3, pb, 0)
	t.step(pa, pa4, lda, lda3, pb, 1)
	ADDQ(Imm(8), pa)
	ADDQ(Imm(8), pa4)
	ADDQ(Imm(128), pb)
	SUBQ(Imm(2), kk)
	JMP(LabelRef("rowsPair"))
	Label("rowsLast")
	TESTQ(kk, kk)
	JZ(LabelRef("rowsStore"))
	t.step(pa, pa4, lda, lda3, pb, 0)
	Label("rowsStore")
	LEAQ(Mem{Base: c, Index: ldc, Scale: 4}, pa4) // the group's fifth row of C
	t.store(c, pa4, ldc, ldc3)
	LEAQ(Mem{Base: pa4, Index: ldc, Scale: 2}, c)
	LEAQ(Mem{Base: a, Index: lda, Scale: 4}, pa)
	LEAQ(Mem{Base: pa, Index: lda, Scale: 2}, a)
	SUBQ(Imm(6), m)
	JMP(LabelRef("rowsGroup"))
	Label("rowsDone")
	VZEROUPPER()
	RET()
}

// tailKernels: the row tails of each tile width, for the last rows of
// a product whose row count is not a multiple of MR (a dense layer of
// batch 128 on the 14-row tile: nine tiles and two rows). A tail of r
// rows (r a power of two below the widest tile's MR; the driver adds
// them up: 13 = 8 + 4 + 1) computes r rows with the FMA chains of the
// full tile's rows, so the bits are the same, where the full tile run
// into a scratch tile would compute MR rows to keep r. Each comes in
// four variants: A's rows in place ("Rows", stride lda) or its columns
// ("Cols": r contiguous values per step, steps at stride lda, which
// also reads a packed micro-panel, lda = MR), B packed or in place
// ("DirectB").
func tailKernels() {
	for _, w := range []struct {
		name      string
		nv, lanes int
		vec       func() reg.VecVirtual
		rows      []int
		what      string
	}{
		{"AVX2", 2, 8, YMM, []int{4, 2, 1}, "AVX2+FMA, 16 columns (the 6×16 tile's)"},
		{"AVX512", 2, 16, ZMM, []int{8, 4, 2, 1}, "AVX-512F, 32 columns (the 14×32 tile's)"},
		{"AVX512N16", 1, 16, ZMM, []int{16, 8, 4, 2, 1}, "AVX-512F, 16 columns (the 28×16 and 16×16 tiles')"},
	} {
		for _, r := range w.rows {
			for _, cols := range []bool{false, true} {
				for _, directB := range []bool{false, true} {
					kn := vecKernel{mr: r, nv: w.nv, lanes: w.lanes, vec: w.vec, directA: !cols, directAT: cols, directB: directB}
					kn.name = fmt.Sprintf("sgemmTail%sR%d", w.name, r)
					kn.doc = fmt.Sprintf("the %d-row tail (%s)", r, w.what)
					if cols {
						kn.name += "Cols"
						kn.doc += ": A's columns read in place, " + fmt.Sprint(r) + " contiguous values per step at stride lda (a packed micro-panel with lda = MR)"
					} else {
						kn.name += "Rows"
						kn.doc += ": A's " + fmt.Sprint(r) + " rows read in place at stride lda"
					}
					if directB {
						kn.name += "DirectB"
						kn.doc += "; B read in place at stride ldb"
					} else {
						kn.doc += "; B packed"
					}
					kn.doc = kn.name + " is " + kn.doc + "."
					gen(kn)
				}
			}
		}
	}
}

// kernelVariants generates tile's six variants by how A and B are read
// (packed micro-panels, or in place), named base + "DirectA" / "DirectAT"
// / "DirectB"; what is the doc's description, mrWord and nrWord spell
// MR and NR in it.
func kernelVariants(base, what, mrWord, nrWord string, tile vecKernel) {
	aModes := []struct{ suffix, doc string }{
		{"", ""},
		{"DirectA", " " + mrWord + " rows of A are read in place at stride lda."},
		{"DirectAT", " A is transposed and read in place: " + strings.ToLower(mrWord) + " contiguous values per step, steps at stride lda."},
	}
	for am, a := range aModes {
		for _, directB := range []bool{false, true} {
			kn := tile
			kn.name = base + a.suffix
			doc := a.doc
			if directB {
				kn.name += "DirectB"
				doc += " B is read in place: " + nrWord + " contiguous values per step, steps at stride ldb."
			}
			kn.doc = kn.name + " is " + what + "." + doc
			kn.directA, kn.directAT, kn.directB = am == 1, am == 2, directB
			gen(kn)
		}
	}
}

func gen(kn vecKernel) {
	TEXT(kn.name, NOSPLIT, signature)
	Doc(kn.doc)
	nr := kn.nv * kn.lanes

	k := Load(Param("k"), GP64())

	// bMem(u, j) addresses vector j of B's row for step u of the unrolled
	// loop; advanceB(u) moves B on by u steps.
	var bMem func(u, j int) Mem
	var advanceB func(u int)
	if kn.directB {
		// B read in place: row p at b + p·ldb; steps 0–2 from b0 (index
		// scales 0, 1, 2 of the stride), step 3 from b3 = b0 + 3·ldb.
		b0 := Load(Param("b"), GP64())
		ldb := Load(Param("ldb"), GP64())
		SHLQ(Imm(2), ldb)
		b3 := GP64()
		LEAQ(Mem{Base: b0, Index: ldb, Scale: 2}, b3)
		ADDQ(ldb, b3)
		ldb4 := GP64()
		MOVQ(ldb, ldb4)
		SHLQ(Imm(2), ldb4)
		bMem = func(u, j int) Mem {
			switch u {
			case 0:
				return Mem{Base: b0, Disp: 4 * kn.lanes * j}
			case 3:
				return Mem{Base: b3, Disp: 4 * kn.lanes * j}
			}
			return Mem{Base: b0, Index: ldb, Scale: uint8(u), Disp: 4 * kn.lanes * j}
		}
		advanceB = func(u int) {
			if u == 4 {
				ADDQ(ldb4, b0)
				ADDQ(ldb4, b3)
				return
			}
			for ; u > 0; u-- {
				ADDQ(ldb, b0)
				ADDQ(ldb, b3)
			}
		}
	} else {
		b := Load(Param("b"), GP64())
		bMem = func(u, j int) Mem { return Mem{Base: b, Disp: 4 * (u*nr + kn.lanes*j)} }
		advanceB = func(u int) { ADDQ(U32(4*u*nr), b) }
	}

	// aMem(i, u) addresses A element (row i, step u of the unrolled loop);
	// advance(u) moves the A pointers on by u steps of p.
	var aMem func(i, u int) Mem
	var advance func(u int)
	if kn.directAT {
		// op(A) = Aᵀ with A read in place: step p of the tile is the MR
		// contiguous values at a + p·lda; steps 0–2 from a0 (index scales
		// 0, 1, 2 of the stride), step 3 from a3 = a0 + 3·lda.
		a0 := Load(Param("a"), GP64())
		lda := Load(Param("lda"), GP64())
		SHLQ(Imm(2), lda)
		a3 := GP64()
		LEAQ(Mem{Base: a0, Index: lda, Scale: 2}, a3)
		ADDQ(lda, a3)
		lda4 := GP64()
		MOVQ(lda, lda4)
		SHLQ(Imm(2), lda4)
		aMem = func(i, u int) Mem {
			switch u {
			case 0:
				return Mem{Base: a0, Disp: 4 * i}
			case 3:
				return Mem{Base: a3, Disp: 4 * i}
			}
			return Mem{Base: a0, Index: lda, Scale: uint8(u), Disp: 4 * i}
		}
		advance = func(u int) {
			if u == 4 {
				ADDQ(lda4, a0)
				ADDQ(lda4, a3)
				return
			}
			for ; u > 0; u-- {
				ADDQ(lda, a0)
				ADDQ(lda, a3)
			}
		}
	} else if kn.directA && kn.mr <= 6 {
		// Rows of A at stride lda: rows 0–2 from a0, rows 3–5 from a0+3·lda,
		// using index scales 1 and 2 of the stride register.
		a0 := Load(Param("a"), GP64())
		lda := Load(Param("lda"), GP64())
		SHLQ(Imm(2), lda)
		a1 := GP64()
		LEAQ(Mem{Base: a0, Index: lda, Scale: 2}, a1)
		ADDQ(lda, a1)
		aMem = func(i, u int) Mem {
			base := a0
			if i >= 3 {
				base, i = a1, i-3
			}
			m := Mem{Base: base, Disp: 4 * u}
			if i > 0 {
				m.Index, m.Scale = lda, uint8(i)
			}
			return m
		}
		advance = func(u int) {
			ADDQ(U32(4*u), a0)
			ADDQ(U32(4*u), a1)
		}
	} else if kn.directA {
		// Rows of A at stride lda, five per base register: row 5h+r is
		// at base[h] + r·lda, r·lda addressed as lda·{1,2,4} or lda3.
		lda := Load(Param("lda"), GP64())
		SHLQ(Imm(2), lda)
		lda3 := GP64()
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
		bases := make([]reg.GPVirtual, (kn.mr+4)/5)
		for h := range bases {
			bases[h] = GP64()
			if h == 0 {
				Load(Param("a"), bases[0])
				continue
			}
			LEAQ(Mem{Base: bases[h-1], Index: lda, Scale: 4}, bases[h])
			ADDQ(lda, bases[h])
		}
		aMem = func(i, u int) Mem {
			m := Mem{Base: bases[i/5], Disp: 4 * u}
			switch i % 5 {
			case 1, 2, 4:
				m.Index, m.Scale = lda, uint8(i%5)
			case 3:
				m.Index, m.Scale = lda3, 1
			}
			return m
		}
		advance = func(u int) {
			for _, b := range bases {
				ADDQ(U32(4*u), b)
			}
		}
	} else {
		a := Load(Param("a"), GP64())
		aMem = func(i, u int) Mem { return Mem{Base: a, Disp: 4 * (u*kn.mr + i)} }
		advance = func(u int) { ADDQ(U32(4*u*kn.mr), a) }
	}

	Comment("Prefetch the C tile: it is read and written after the loop.")
	{
		c := Load(Param("c"), GP64())
		ldc := Load(Param("ldc"), GP64())
		SHLQ(Imm(2), ldc)
		for i := 0; i < kn.mr; i++ {
			for off := 0; off < 4*nr; off += 64 {
				PREFETCHT0(Mem{Base: c, Disp: off})
			}
			PREFETCHT0(Mem{Base: c, Disp: 4*nr - 4})
			if i+1 < kn.mr {
				ADDQ(ldc, c)
			}
		}
	}

	acc := make([][]reg.VecVirtual, kn.mr)
	for i := range acc {
		acc[i] = make([]reg.VecVirtual, kn.nv)
		for j := range acc[i] {
			acc[i][j] = kn.vec()
			zero(acc[i][j])
		}
	}
	bv := make([]reg.VecVirtual, kn.nv)
	for j := range bv {
		bv[j] = kn.vec()
	}

	// One step of p: step u of the unrolled loop.
	step := func(u int) {
		for j := range bv {
			VMOVUPS(bMem(u, j), bv[j])
		}
		for i := 0; i < kn.mr; i++ {
			// With one ZMM of B per step, the FMA broadcasts its A
			// element itself ({1to16}): the same single load, one
			// instruction fewer. On Zen 4 the separate broadcast cost
			// a quarter of the 16×16 and 28×16 tiles' speed
			// (BenchmarkSgemmSmallTile, BenchmarkSgemmNarrow).
			if kn.lanes == 16 && kn.nv == 1 {
				VFMADD231PS_BCST(aMem(i, u), bv[0], acc[i][0])
				continue
			}
			bc := kn.vec()
			VBROADCASTSS(aMem(i, u), bc)
			for j := range bv {
				VFMADD231PS(bv[j], bc, acc[i][j])
			}
		}
	}

	const unroll = 4
	Comment(fmt.Sprintf("Main loop: %d steps of p per iteration.", unroll))
	Label("loop4")
	CMPQ(k, Imm(unroll))
	JL(LabelRef("tail"))
	for u := 0; u < unroll; u++ {
		step(u)
	}
	advance(unroll)
	advanceB(unroll)
	SUBQ(Imm(unroll), k)
	JMP(LabelRef("loop4"))

	Label("tail")
	TESTQ(k, k)
	JZ(LabelRef("store"))
	step(0)
	advance(1)
	advanceB(1)
	DECQ(k)
	JMP(LabelRef("tail"))

	Label("store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)

	Comment("alpha == 1 (every caller but the few that scale) skips the multiplies.")
	alphaBits := GP32()
	MOVL(paramAddr("alpha"), alphaBits)
	CMPL(alphaBits, U32(math.Float32bits(1)))
	JE(LabelRef("scaled"))
	alpha := kn.vec()
	VBROADCASTSS(paramAddr("alpha"), alpha)
	for i := range acc {
		for j := range acc[i] {
			VMULPS(alpha, acc[i][j], acc[i][j])
		}
	}
	Label("scaled")

	Comment("beta == ±0 overwrites C without reading it (NaN beta still reads it).")
	betaBits := GP32()
	MOVL(paramAddr("beta"), betaBits)
	SHLL(Imm(1), betaBits)
	JNZ(LabelRef("accumulate"))
	for i := range acc {
		for j := range acc[i] {
			VMOVUPS(acc[i][j], Mem{Base: c, Disp: 4 * kn.lanes * j})
		}
		if i+1 < len(acc) {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()

	Label("accumulate")
	beta := kn.vec()
	VBROADCASTSS(paramAddr("beta"), beta)
	for i := range acc {
		for j := range acc[i] {
			VFMADD231PS(Mem{Base: c, Disp: 4 * kn.lanes * j}, beta, acc[i][j])
			VMOVUPS(acc[i][j], Mem{Base: c, Disp: 4 * kn.lanes * j})
		}
		if i+1 < len(acc) {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// packBRows copies rows of a non-transposed B into nr-column
// micro-panels (nr = 16 or 32; AVX, nr/8 32-byte moves per panel row):
// for p < kc and q < panels,
//
//	dst[q·stride + p·nr + j] = src[p·ldb + q·nr + j]   (j < nr)
//
// walking src row by row so that its reads are contiguous.
func packBRows(nr int) {
	name := fmt.Sprintf("packB%dAVX", nr)
	TEXT(name, NOSPLIT, "func(dst, src *float32, kc, ldb, panels, stride int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s packs kc rows of panels %d-column B micro-panels:", name, nr),
		fmt.Sprintf("dst[q·stride + p·%d + j] = src[p·ldb + q·%d + j]; kc, panels ≥ 1.", nr, nr))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	kc := Load(Param("kc"), GP64())
	ldb := Load(Param("ldb"), GP64())
	stride := Load(Param("stride"), GP64())
	SHLQ(Imm(2), ldb)
	SHLQ(Imm(2), stride)
	q, d, sp := GP64(), GP64(), GP64()
	v := make([]reg.VecVirtual, nr/8)
	for i := range v {
		v[i] = YMM()
	}
	Label("row")
	Load(Param("panels"), q)
	MOVQ(dst, d)
	MOVQ(src, sp)
	Label("panel")
	for i, r := range v {
		VMOVUPS(Mem{Base: sp, Disp: 32 * i}, r)
	}
	for i, r := range v {
		VMOVUPS(r, Mem{Base: d, Disp: 32 * i})
	}
	ADDQ(Imm(uint64(4*nr)), sp)
	ADDQ(stride, d)
	DECQ(q)
	JNZ(LabelRef("panel"))
	ADDQ(ldb, src)
	ADDQ(Imm(uint64(4*nr)), dst)
	DECQ(kc)
	JNZ(LabelRef("row"))
	VZEROUPPER()
	RET()
}

// packBT packs nr rows of a transposed B (op(B) = Bᵀ: row j of B is
// column j of op(B)) into an nr-column micro-panel (nr = 16 or 32), eight
// steps of p at a time, each 8×8 block transposed in registers:
//
//	dst[p·nr + j] = src[j·ldb + p]   (p < 8·blocks, j < nr)
func packBT(nr int) {
	name := fmt.Sprintf("packBT%dAVX", nr)
	TEXT(name, NOSPLIT, "func(dst, src *float32, blocks, ldb int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s packs dst[p·%d + j] = src[j·ldb + p] for p < 8·blocks,", name, nr),
		fmt.Sprintf("j < %d (blocks ≥ 1): 8×8 blocks transposed in registers.", nr))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	blocks := Load(Param("blocks"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(Imm(2), ldb)
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)
	// Row 8h+i of B is addressed from bases[2h+i/4]; bases are 4 rows
	// apart. With nr = 32 the eight bases are walked two at a time.
	groups := nr / 8
	bases := [4]reg.GPVirtual{GP64(), GP64(), GP64(), GP64()}
	Label("block")
	for half := 0; half < groups/2; half++ {
		if half == 0 {
			MOVQ(src, bases[0])
		} else {
			LEAQ(Mem{Base: bases[3], Index: ldb, Scale: 4}, bases[0])
		}
		for i := 1; i < 4; i++ {
			LEAQ(Mem{Base: bases[i-1], Index: ldb, Scale: 4}, bases[i])
		}
		for hh := 0; hh < 2; hh++ {
			h := 2*half + hh
			r := make([]reg.VecVirtual, 8)
			for i := range r {
				base := bases[2*hh+i/4]
				m := Mem{Base: base}
				switch i % 4 {
				case 1:
					m.Index, m.Scale = ldb, 1
				case 2:
					m.Index, m.Scale = ldb, 2
				case 3:
					m.Index, m.Scale = ldb3, 1
				}
				r[i] = YMM()
				VMOVUPS(m, r[i])
			}
			Comment("8×8 transpose: unpack pairs of rows, then quads, then lanes.")
			t := make([]reg.VecVirtual, 8)
			for g := 0; g < 2; g++ {
				for q := 0; q < 2; q++ {
					a, b := r[4*g+2*q], r[4*g+2*q+1]
					t[4*g+2*q], t[4*g+2*q+1] = YMM(), YMM()
					VUNPCKLPS(b, a, t[4*g+2*q])   // a0 b0 a1 b1 | a4 b4 a5 b5
					VUNPCKHPS(b, a, t[4*g+2*q+1]) // a2 b2 a3 b3 | a6 b6 a7 b7
				}
			}
			sq := make([]reg.VecVirtual, 8)
			for g := 0; g < 2; g++ {
				for q := 0; q < 2; q++ {
					lo, hi := t[4*g+q], t[4*g+2+q]
					sq[4*g+2*q], sq[4*g+2*q+1] = YMM(), YMM()
					VSHUFPS(Imm(0x44), hi, lo, sq[4*g+2*q])   // column 2q of 4 rows | column 2q+4
					VSHUFPS(Imm(0xee), hi, lo, sq[4*g+2*q+1]) // column 2q+1 | column 2q+5
				}
			}
			for c := 0; c < 4; c++ {
				lo, hi := YMM(), YMM()
				VPERM2F128(Imm(0x20), sq[4+c], sq[c], lo) // column c, rows 0–7
				VPERM2F128(Imm(0x31), sq[4+c], sq[c], hi) // column c+4
				VMOVUPS(lo, Mem{Base: dst, Disp: 4*nr*c + 32*h})
				VMOVUPS(hi, Mem{Base: dst, Disp: 4*nr*(c+4) + 32*h})
			}
		}
	}
	ADDQ(Imm(32), src)
	ADDQ(U32(8*4*nr), dst)
	DECQ(blocks)
	JNZ(LabelRef("block"))
	VZEROUPPER()
	RET()
}

// paramAddr is the frame address of a scalar argument, for instructions
// that read it from memory directly.
func paramAddr(name string) Mem {
	p, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return p.Addr
}
