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
	convC1x16()
	convC1Grad16()
	convC1x16AVX512()
	convC1Grad16AVX512()
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

// tapOffsets loads the offsets of a filter gradient's one to n taps
// into registers; taps past the count repeat the first (their sums are
// computed and not stored). label names the join point.
func tapOffsets(offs, taps reg.Register, n int, label string) []reg.GPVirtual {
	o := make([]reg.GPVirtual, n)
	for k := range o {
		o[k] = GP64()
	}
	MOVQ(Mem{Base: offs}, o[0])
	for _, r := range o[1:] {
		MOVQ(o[0], r)
	}
	// Two taps per comparison: fewer than k+1 taps stop before tap k,
	// exactly k+1 after it.
	for k := 1; k < n; k += 2 {
		CMPQ(taps, Imm(uint64(k+1)))
		JLT(LabelRef(label))
		MOVQ(Mem{Base: offs, Disp: 8 * k}, o[k])
		if k+1 < n {
			JE(LabelRef(label))
			MOVQ(Mem{Base: offs, Disp: 8 * (k + 1)}, o[k+1])
		}
	}
	Label(label)
	return o
}

// addTapSums adds the first taps of the tap sums acc (acc[g] the vectors of
// tap g, taps ≥ 1) to the rows of dw, ldw bytes apart, skipping to
// label after the last.
func addTapSums(dw, ldw, taps reg.Register, acc [][]reg.VecVirtual, label string) {
	for g := range acc {
		if g > 0 {
			CMPQ(taps, Imm(uint64(g+1)))
			JLT(LabelRef(label))
		}
		for i, a := range acc[g] {
			m := Mem{Base: dw, Disp: int(a.Size()) * i}
			VADDPS(m, a, a)
			VMOVUPS(a, m)
		}
		ADDQ(ldw, dw)
	}
	Label(label)
}

// pixelGroups emits the loop over the c columns left in a row: groups
// of sizes[0] pixels (by pixels, with np and a label name) while that
// many are left, then of sizes[1], and so on down to 1, then a jump to
// next.
func pixelGroups(prefix string, sizes []int, c reg.Register, next string, pixels func(np int, name string)) {
	for i, np := range sizes {
		Label(fmt.Sprintf("%scol%d", prefix, np))
		CMPQ(c, Imm(uint64(np)))
		if i+1 < len(sizes) {
			JLT(LabelRef(fmt.Sprintf("%scol%d", prefix, sizes[i+1])))
		} else {
			JLT(LabelRef(next))
		}
		pixels(np, fmt.Sprintf("%stap%d", prefix, np))
		JMP(LabelRef(fmt.Sprintf("%scol%d", prefix, np)))
	}
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
	o := tapOffsets(offs, taps, 3, "g1offs")

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
	addTapSums(dw, ldw, taps, acc[:], "g1done")
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
	pixelGroups("z1", []int{14, 4, 1}, c, "z1next", pixels)
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
	o := tapOffsets(offs, taps, 3, "h1offs")

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

	addTapSums(dw, ldw, taps, acc[:], "h1done")
	VZEROUPPER()
	RET()
}

// convC1x16 is convC1 for 16 channels (two YMM per pixel): six pixels at
// once (12 accumulators), the tap's two weight vectors held in
// registers. Each output is the same chain of fused multiply-adds over
// the taps as in convC1AVX2.
func convC1x16() {
	vecFunc("convC1x16AVX2", "func(y *float32, ldy int, x *float32, xRow int, w *float32, ldw int, offs *int, taps, rows, cols int)",
		"convC1x16AVX2 runs ConvC1x16 for one image and 16 output channels (taps, rows, cols ≥ 1).")
	y := Load(Param("y"), GP64())
	ldy := Load(Param("ldy"), GP64())
	x := Load(Param("x"), GP64())
	offs := Load(Param("offs"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldy)
	p, wp, t, off, c := GP64(), GP64(), GP64(), GP64(), GP64()

	Label("e1row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	pixels := func(np int, name string) {
		acc := make([][]reg.VecVirtual, np)
		for q := range acc {
			acc[q] = ymms(2)
			zero(acc[q]...)
		}
		Load(Param("w"), wp)
		XORQ(t, t)
		Label(name)
		MOVQ(Mem{Base: offs, Index: t, Scale: 8}, off)
		w0, w1 := YMM(), YMM()
		VMOVUPS(Mem{Base: wp}, w0)
		VMOVUPS(Mem{Base: wp, Disp: 32}, w1)
		for q := range acc {
			b := YMM()
			VBROADCASTSS(Mem{Base: p, Index: off, Scale: 4, Disp: 4 * q}, b)
			VFMADD231PS(w0, b, acc[q][0])
			VFMADD231PS(w1, b, acc[q][1])
		}
		ldw := Load(Param("ldw"), GP64())
		LEAQ(Mem{Base: wp, Index: ldw, Scale: 4}, wp)
		INCQ(t)
		CMPQ(t, Load(Param("taps"), GP64()))
		JLT(LabelRef(name))
		for q := range acc {
			VMOVUPS(acc[q][0], Mem{Base: y})
			VMOVUPS(acc[q][1], Mem{Base: y, Disp: 32})
			ADDQ(ldy, y)
		}
		ADDQ(Imm(uint64(4*np)), p)
		SUBQ(Imm(uint64(np)), c)
	}
	pixelGroups("e1", []int{6, 2, 1}, c, "e1next", pixels)
	Label("e1next")
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef("e1row"))
	VZEROUPPER()
	RET()
}

// convC1Grad16 is convC1Grad for 16 channels and one to six taps (12 YMM
// accumulators), each pixel's two gradient vectors held in registers.
// Each sum is the chain of fused multiply-adds over the pixels in scan
// order, as in convC1GradAVX2.
func convC1Grad16() {
	vecFunc("convC1Grad16AVX2", "func(dw *float32, ldw int, x *float32, xRow int, dy *float32, ldy int, offs *int, taps, rows, cols int)",
		"convC1Grad16AVX2 runs ConvC1Grad16 for one image, 16 channels and 1 ≤ taps ≤ 6 (rows, cols ≥ 1).")
	x := Load(Param("x"), GP64())
	dy := Load(Param("dy"), GP64())
	ldy := Load(Param("ldy"), GP64())
	offs := Load(Param("offs"), GP64())
	taps := Load(Param("taps"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldy)
	o := tapOffsets(offs, taps, 6, "f1offs")

	acc := make([][]reg.VecVirtual, 6)
	for g := range acc {
		acc[g] = ymms(2)
		zero(acc[g]...)
	}
	p, c := GP64(), GP64()
	Label("f1row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	Label("f1col")
	g0, g1 := YMM(), YMM()
	VMOVUPS(Mem{Base: dy}, g0)
	VMOVUPS(Mem{Base: dy, Disp: 32}, g1)
	for g := range acc {
		b := YMM()
		VBROADCASTSS(Mem{Base: p, Index: o[g], Scale: 4}, b)
		VFMADD231PS(g0, b, acc[g][0])
		VFMADD231PS(g1, b, acc[g][1])
	}
	ADDQ(ldy, dy)
	ADDQ(Imm(4), p)
	DECQ(c)
	JNZ(LabelRef("f1col"))
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef("f1row"))

	dw := Load(Param("dw"), GP64())
	ldw := Load(Param("ldw"), GP64())
	SHLQ(Imm(2), ldw)
	addTapSums(dw, ldw, Load(Param("taps"), GP64()), acc, "f1done")
	VZEROUPPER()
	RET()
}

// convC1x16AVX512 is convC1x16 with 512-bit vectors: one ZMM per pixel,
// 28 pixels at once, the tap's weight vector held in a register and
// each input value broadcast inside its multiply-add: the same chains
// as convC1x16AVX2, the same bits.
func convC1x16AVX512() {
	vecFunc("convC1x16AVX512", "func(y *float32, ldy int, x *float32, xRow int, w *float32, ldw int, offs *int, taps, rows, cols int)",
		"convC1x16AVX512 runs ConvC1x16 for one image and 16 output channels (taps, rows, cols ≥ 1).")
	y := Load(Param("y"), GP64())
	ldy := Load(Param("ldy"), GP64())
	x := Load(Param("x"), GP64())
	offs := Load(Param("offs"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldy)
	p, wp, t, off, c := GP64(), GP64(), GP64(), GP64(), GP64()

	Label("u1row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	pixels := func(np int, name string) {
		acc := zmms(np)
		Load(Param("w"), wp)
		XORQ(t, t)
		Label(name)
		MOVQ(Mem{Base: offs, Index: t, Scale: 8}, off)
		w0 := ZMM()
		VMOVUPS(Mem{Base: wp}, w0)
		for q, a := range acc {
			VFMADD231PS_BCST(Mem{Base: p, Index: off, Scale: 4, Disp: 4 * q}, w0, a)
		}
		ldw := Load(Param("ldw"), GP64())
		LEAQ(Mem{Base: wp, Index: ldw, Scale: 4}, wp)
		INCQ(t)
		CMPQ(t, Load(Param("taps"), GP64()))
		JLT(LabelRef(name))
		for _, a := range acc {
			VMOVUPS(a, Mem{Base: y})
			ADDQ(ldy, y)
		}
		ADDQ(Imm(uint64(4*np)), p)
		SUBQ(Imm(uint64(np)), c)
	}
	pixelGroups("u1", []int{28, 8, 4, 1}, c, "u1next", pixels)
	Label("u1next")
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef("u1row"))
	VZEROUPPER()
	RET()
}

// convC1Grad16AVX512 is convC1Grad16 with 512-bit vectors (six ZMM
// accumulators, one per tap): the same chains as convC1Grad16AVX2, the
// same bits.
func convC1Grad16AVX512() {
	vecFunc("convC1Grad16AVX512", "func(dw *float32, ldw int, x *float32, xRow int, dy *float32, ldy int, offs *int, taps, rows, cols int)",
		"convC1Grad16AVX512 runs ConvC1Grad16 for one image, 16 channels and 1 ≤ taps ≤ 6 (rows, cols ≥ 1).")
	x := Load(Param("x"), GP64())
	dy := Load(Param("dy"), GP64())
	ldy := Load(Param("ldy"), GP64())
	offs := Load(Param("offs"), GP64())
	taps := Load(Param("taps"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldy)
	o := tapOffsets(offs, taps, 6, "v1offs")

	acc := make([][]reg.VecVirtual, 6)
	for g, a := range zmms(6) {
		acc[g] = []reg.VecVirtual{a}
	}
	p, c := GP64(), GP64()
	Label("v1row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	Label("v1col")
	g0 := ZMM()
	VMOVUPS(Mem{Base: dy}, g0)
	for g := range acc {
		VFMADD231PS_BCST(Mem{Base: p, Index: o[g], Scale: 4}, g0, acc[g][0])
	}
	ADDQ(ldy, dy)
	ADDQ(Imm(4), p)
	DECQ(c)
	JNZ(LabelRef("v1col"))
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef("v1row"))

	dw := Load(Param("dw"), GP64())
	ldw := Load(Param("ldw"), GP64())
	SHLQ(Imm(2), ldw)
	addTapSums(dw, ldw, Load(Param("taps"), GP64()), acc, "v1done")
	VZEROUPPER()
	RET()
}
