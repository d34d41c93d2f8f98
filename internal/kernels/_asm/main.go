// Command _asm generates the sgemm micro-kernels of package kernels as Go
// assembly with avo. Run it through `go generate` in internal/kernels:
//
//	go run . -out ../sgemm_amd64.s -stubs ../sgemm_stubs_amd64.go -pkg kernels
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
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

const signature = "func(k int, a, b, c *float32, ldc int, alpha, beta float32)"

func main() {
	ConstraintExpr("!purego")

	avx2Kernel()
	avx512Kernel()

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
	// fma emits acc += a[p·MR+row] (broadcast) · bv.
	fma func(aRow Mem, bv, acc reg.VecVirtual, bcast reg.VecVirtual)
	// bcastReg reports whether fma needs a broadcast scratch register.
	bcastReg bool
}

// avx2Kernel: 6×16 tile, 12 YMM accumulators, B row in 2 YMM, A element
// broadcast into a scratch YMM (15 of 16 registers).
func avx2Kernel() {
	gen(vecKernel{
		name:  "sgemmKernelAVX2",
		doc:   "sgemmKernelAVX2 is the 6×16 AVX2+FMA micro-kernel (12 YMM accumulators).",
		mr:    6,
		nv:    2,
		lanes: 8,
		vec:   YMM,
		fma: func(aRow Mem, bv, acc, bc reg.VecVirtual) {
			VFMADD231PS(bv, bc, acc)
		},
		bcastReg: true,
	})
}

// avx512Kernel: 14×32 tile, 28 ZMM accumulators, B row in 2 ZMM, A element
// broadcast from memory inside the FMA (embedded broadcast; 30 of 32).
func avx512Kernel() {
	gen(vecKernel{
		name:  "sgemmKernelAVX512",
		doc:   "sgemmKernelAVX512 is the 14×32 AVX-512F micro-kernel (28 ZMM accumulators, embedded broadcast).",
		mr:    14,
		nv:    2,
		lanes: 16,
		vec:   ZMM,
		fma: func(aRow Mem, bv, acc, _ reg.VecVirtual) {
			VFMADD231PS_BCST(aRow, bv, acc)
		},
	})
}

func gen(kn vecKernel) {
	TEXT(kn.name, NOSPLIT, signature)
	Doc(kn.doc)
	nr := kn.nv * kn.lanes

	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())

	acc := make([][]reg.VecVirtual, kn.mr)
	for i := range acc {
		acc[i] = make([]reg.VecVirtual, kn.nv)
		for j := range acc[i] {
			acc[i][j] = kn.vec()
			// VPXORD, unlike VXORPS on ZMM, needs only AVX-512F (not DQ).
			if kn.lanes == 16 {
				VPXORD(acc[i][j], acc[i][j], acc[i][j])
			} else {
				VXORPS(acc[i][j], acc[i][j], acc[i][j])
			}
		}
	}
	bv := make([]reg.VecVirtual, kn.nv)
	for j := range bv {
		bv[j] = kn.vec()
	}

	// One step of p at byte offsets (aOff, bOff) from the panel pointers.
	step := func(aOff, bOff int) {
		for j := range bv {
			VMOVUPS(Mem{Base: b, Disp: bOff + 4*kn.lanes*j}, bv[j])
		}
		for i := 0; i < kn.mr; i++ {
			aRow := Mem{Base: a, Disp: aOff + 4*i}
			var bc reg.VecVirtual
			if kn.bcastReg {
				bc = kn.vec()
				VBROADCASTSS(aRow, bc)
			}
			for j := range bv {
				kn.fma(aRow, bv[j], acc[i][j], bc)
			}
		}
	}

	const unroll = 4
	aStep, bStep := 4*kn.mr, 4*nr

	Comment(fmt.Sprintf("Main loop: %d steps of p per iteration.", unroll))
	Label("loop4")
	CMPQ(k, Imm(unroll))
	JL(LabelRef("tail"))
	for u := 0; u < unroll; u++ {
		step(u*aStep, u*bStep)
	}
	ADDQ(U32(unroll*aStep), a)
	ADDQ(U32(unroll*bStep), b)
	SUBQ(Imm(unroll), k)
	JMP(LabelRef("loop4"))

	Label("tail")
	TESTQ(k, k)
	JZ(LabelRef("store"))
	step(0, 0)
	ADDQ(U32(aStep), a)
	ADDQ(U32(bStep), b)
	DECQ(k)
	JMP(LabelRef("tail"))

	Label("store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)

	alpha := kn.vec()
	VBROADCASTSS(paramAddr("alpha"), alpha)
	for i := range acc {
		for j := range acc[i] {
			VMULPS(alpha, acc[i][j], acc[i][j])
		}
	}

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

// paramAddr is the frame address of a scalar argument, for instructions
// that read it from memory directly.
func paramAddr(name string) Mem {
	p, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return p.Addr
}
