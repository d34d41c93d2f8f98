package main

// Direct convolution loops for a single input channel (the first layer of
// a grayscale network): its patch matrix has as few columns as the window
// has taps, too few to feed the GEMM well, so these broadcast each input
// value against 32 output channels at a time instead. The input is
// padded by the caller, so every tap of every output is in bounds.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func convRoutines() {
	convC1()
	convC1Grad()
	convC1AVX512()
	convC1GradAVX512()
}

// zmms returns n fresh ZMM registers, zeroed by broadcasting a zeroed
// general register (VPXORD would do, but the register allocator takes it
// for a read of the accumulator and keeps every group's live at once).
func zmms(n int) []reg.VecVirtual {
	z := GP32()
	XORL(z, z)
	v := make([]reg.VecVirtual, n)
	for i := range v {
		v[i] = ZMM()
		VPBROADCASTD(z, v[i])
	}
	return v
}

// convC1: for each output pixel (r, c) of a rows×cols image and the 32
// channels j:
//
//	y[(r·cols+c)·ldy + j] = Σ_t x[r·xRow + c + offs[t]] · w[t·ldw + j]
//
// summed in tap order with fused multiply-adds.
func convC1() {
	vecFunc("convC1AVX2", "func(y *float32, ldy int, x *float32, xRow int, w *float32, ldw int, offs *int, taps, rows, cols int)",
		"convC1AVX2 runs ConvC1 for one image and 32 output channels (taps, rows, cols ≥ 1).")
	y := Load(Param("y"), GP64())
	ldy := Load(Param("ldy"), GP64())
	x := Load(Param("x"), GP64())
	offs := Load(Param("offs"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldy)
	p, wp, t, off, c := GP64(), GP64(), GP64(), GP64(), GP64()

	Label("c1row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	// pixels emits the loop over the taps for np consecutive pixels (np
	// independent sets of four accumulators: one set alone would wait on
	// the multiply-add latency at every tap).
	pixels := func(np int, name string) {
		acc := make([][]reg.VecVirtual, np)
		for q := range acc {
			acc[q] = ymms(4)
			zero(acc[q]...)
		}
		Load(Param("w"), wp)
		XORQ(t, t)
		Label(name)
		MOVQ(Mem{Base: offs, Index: t, Scale: 8}, off)
		// The tap's weights are read from L1 by each pixel's multiply-adds
		// (12 accumulators and a broadcast leave no room for them).
		for q := range acc {
			b := YMM()
			VBROADCASTSS(Mem{Base: p, Index: off, Scale: 4, Disp: 4 * q}, b)
			for i, a := range acc[q] {
				VFMADD231PS(Mem{Base: wp, Disp: 32 * i}, b, a)
			}
		}
		ldw := Load(Param("ldw"), GP64())
		LEAQ(Mem{Base: wp, Index: ldw, Scale: 4}, wp)
		INCQ(t)
		CMPQ(t, Load(Param("taps"), GP64()))
		JLT(LabelRef(name))
		for q := range acc {
			for i, a := range acc[q] {
				VMOVUPS(a, Mem{Base: y, Disp: 32 * i})
			}
			ADDQ(ldy, y)
		}
		ADDQ(Imm(uint64(4*np)), p)
		SUBQ(Imm(uint64(np)), c)
	}
	Label("c1col3")
	CMPQ(c, Imm(3))
	JLT(LabelRef("c1col1"))
	pixels(3, "c1tap3")
	JMP(LabelRef("c1col3"))
	Label("c1col1")
	TESTQ(c, c)
	JZ(LabelRef("c1next"))
	pixels(1, "c1tap1")
	JMP(LabelRef("c1col1"))
	Label("c1next")
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef("c1row"))
	VZEROUPPER()
	RET()
}

// tapOffsets loads the offsets of convC1Grad's one to three taps into
// registers; taps past the count repeat the first (their sums are
// computed and not stored). label names the join point.
func tapOffsets(offs, taps reg.Register, label string) [3]reg.GPVirtual {
	o := [3]reg.GPVirtual{GP64(), GP64(), GP64()}
	MOVQ(Mem{Base: offs}, o[0])
	MOVQ(o[0], o[1])
	MOVQ(o[0], o[2])
	CMPQ(taps, Imm(2))
	JLT(LabelRef(label))
	MOVQ(Mem{Base: offs, Disp: 8}, o[1])
	JE(LabelRef(label))
	MOVQ(Mem{Base: offs, Disp: 16}, o[2])
	Label(label)
	return o
}

// convC1Grad: for the taps t of offs (1 to 3 of them) and the 32 channels j,
//
//	dw[t·ldw + j] += Σ_{r,c} x[r·xRow + c + offs[t]] · dy[(r·cols+c)·ldy + j]
//
// summed over the pixels in scan order with fused multiply-adds, the
// sums held in registers for the whole image.
func convC1Grad() {
	vecFunc("convC1GradAVX2", "func(dw *float32, ldw int, x *float32, xRow int, dy *float32, ldy int, offs *int, taps, rows, cols int)",
		"convC1GradAVX2 runs ConvC1Grad for one image, 32 channels and 1 ≤ taps ≤ 3 (rows, cols ≥ 1).")
	dw := Load(Param("dw"), GP64())
	ldw := Load(Param("ldw"), GP64())
	x := Load(Param("x"), GP64())
	dy := Load(Param("dy"), GP64())
	ldy := Load(Param("ldy"), GP64())
	offs := Load(Param("offs"), GP64())
	taps := Load(Param("taps"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldw)
	SHLQ(Imm(2), ldy)
	o := tapOffsets(offs, taps, "g1offs")

	var acc [3][]reg.VecVirtual
	for g := range acc {
		acc[g] = ymms(4)
		zero(acc[g]...)
	}
	p, c := GP64(), GP64()
	Label("g1row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	Label("g1col")
	for g := range acc {
		b := YMM()
		VBROADCASTSS(Mem{Base: p, Index: o[g], Scale: 4}, b)
		for i, a := range acc[g] {
			VFMADD231PS(Mem{Base: dy, Disp: 32 * i}, b, a)
		}
	}
	ADDQ(ldy, dy)
	ADDQ(Imm(4), p)
	DECQ(c)
	JNZ(LabelRef("g1col"))
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef("g1row"))

	// dw += the sums of the taps there are.
	for g := range acc {
		if g > 0 {
			CMPQ(taps, Imm(uint64(g+1)))
			JLT(LabelRef("g1done"))
		}
		for i, a := range acc[g] {
			m := Mem{Base: dw, Disp: 32 * i}
			VADDPS(m, a, a)
			VMOVUPS(a, m)
		}
		ADDQ(ldw, dw)
	}
	Label("g1done")
	VZEROUPPER()
	RET()
}

// convC1AVX512 is convC1 with 512-bit vectors: the 32 channels are two
// ZMM, and 14 pixels are computed at once (28 accumulators), the tap's
// two weight vectors held in registers and each input value broadcast
// inside its multiply-add. Each output is the same chain of fused
// multiply-adds over the taps as in convC1AVX2, so the results are the
// same bits.
func convC1AVX512() {
	vecFunc("convC1AVX512", "func(y *float32, ldy int, x *float32, xRow int, w *float32, ldw int, offs *int, taps, rows, cols int)",
		"convC1AVX512 runs ConvC1 for one image and 32 output channels (taps, rows, cols ≥ 1).")
	y := Load(Param("y"), GP64())
	ldy := Load(Param("ldy"), GP64())
	x := Load(Param("x"), GP64())
	offs := Load(Param("offs"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldy)
	p, wp, t, off, c := GP64(), GP64(), GP64(), GP64(), GP64()

	Label("z1row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	pixels := func(np int, name string) {
		acc := make([][]reg.VecVirtual, np)
		for q := range acc {
			acc[q] = zmms(2)
		}
		Load(Param("w"), wp)
		XORQ(t, t)
		Label(name)
		MOVQ(Mem{Base: offs, Index: t, Scale: 8}, off)
		w0, w1 := ZMM(), ZMM()
		VMOVUPS(Mem{Base: wp}, w0)
		VMOVUPS(Mem{Base: wp, Disp: 64}, w1)
		for q := range acc {
			in := Mem{Base: p, Index: off, Scale: 4, Disp: 4 * q}
			VFMADD231PS_BCST(in, w0, acc[q][0])
			VFMADD231PS_BCST(in, w1, acc[q][1])
		}
		ldw := Load(Param("ldw"), GP64())
		LEAQ(Mem{Base: wp, Index: ldw, Scale: 4}, wp)
		INCQ(t)
		CMPQ(t, Load(Param("taps"), GP64()))
		JLT(LabelRef(name))
		for q := range acc {
			VMOVUPS(acc[q][0], Mem{Base: y})
			VMOVUPS(acc[q][1], Mem{Base: y, Disp: 64})
			ADDQ(ldy, y)
		}
		ADDQ(Imm(uint64(4*np)), p)
		SUBQ(Imm(uint64(np)), c)
	}
	for _, np := range []int{14, 4, 1} {
		Label(fmt.Sprintf("z1col%d", np))
		CMPQ(c, Imm(uint64(np)))
		if np > 1 {
			JLT(LabelRef(fmt.Sprintf("z1col%d", map[int]int{14: 4, 4: 1}[np])))
		} else {
			JLT(LabelRef("z1next"))
		}
		pixels(np, fmt.Sprintf("z1tap%d", np))
		JMP(LabelRef(fmt.Sprintf("z1col%d", np)))
	}
	Label("z1next")
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef("z1row"))
	VZEROUPPER()
	RET()
}

// convC1GradAVX512 is convC1Grad with 512-bit vectors (six ZMM
// accumulators for three taps of 32 channels). Each sum is the same chain
// of fused multiply-adds over the pixels as in convC1GradAVX2: the same
// bits.
func convC1GradAVX512() {
	vecFunc("convC1GradAVX512", "func(dw *float32, ldw int, x *float32, xRow int, dy *float32, ldy int, offs *int, taps, rows, cols int)",
		"convC1GradAVX512 runs ConvC1Grad for one image, 32 channels and 1 ≤ taps ≤ 3 (rows, cols ≥ 1).")
	dw := Load(Param("dw"), GP64())
	ldw := Load(Param("ldw"), GP64())
	x := Load(Param("x"), GP64())
	dy := Load(Param("dy"), GP64())
	ldy := Load(Param("ldy"), GP64())
	offs := Load(Param("offs"), GP64())
	taps := Load(Param("taps"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldw)
	SHLQ(Imm(2), ldy)
	o := tapOffsets(offs, taps, "h1offs")

	var acc [3][]reg.VecVirtual
	for g := range acc {
		acc[g] = zmms(2)
	}
	p, c := GP64(), GP64()
	Label("h1row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	Label("h1col")
	g0, g1 := ZMM(), ZMM()
	VMOVUPS(Mem{Base: dy}, g0)
	VMOVUPS(Mem{Base: dy, Disp: 64}, g1)
	for g := range acc {
		in := Mem{Base: p, Index: o[g], Scale: 4}
		VFMADD231PS_BCST(in, g0, acc[g][0])
		VFMADD231PS_BCST(in, g1, acc[g][1])
	}
	ADDQ(ldy, dy)
	ADDQ(Imm(4), p)
	DECQ(c)
	JNZ(LabelRef("h1col"))
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef("h1row"))

	for g := range acc {
		if g > 0 {
			CMPQ(taps, Imm(uint64(g+1)))
			JLT(LabelRef("h1done"))
		}
		for i, a := range acc[g] {
			m := Mem{Base: dw, Disp: 64 * i}
			VADDPS(m, a, a)
			VMOVUPS(a, m)
		}
		ADDQ(ldw, dw)
	}
	Label("h1done")
	VZEROUPPER()
	RET()
}
