package main

// Direct convolution loops for a single input channel (the first layer of
// a grayscale network): its patch matrix has as few columns as the window
// has taps, too few to feed the GEMM well, so these broadcast each input
// value against 32 (or 16) output channels at a time instead. The input
// is padded by the caller, so every tap of every output is in bounds.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// c1Form is one form of the conv-c1 loops: a vector width and the
// channels of a pixel. Every form adds the same fused multiply-adds in
// the same order (tap order for an output, scan order for a filter
// gradient), so all give the same bits for the same channels.
type c1Form struct {
	fwd, grad string // routine names
	wide      bool   // ZMM, each input value broadcast inside its multiply-add; else YMM and VBROADCASTSS
	vecs      int    // vectors per pixel
	groups    []int  // forward: pixels computed at once, largest group first
	taps      int    // filter gradient: the most taps per call
	lf, lg    string // label prefixes of the two routines
}

var c1Forms = []c1Form{
	// 32 channels in four YMM: three pixels at once (12 accumulators;
	// the tap's weights are read from L1 by each multiply-add, leaving a
	// register for the broadcast), three taps per gradient call.
	{fwd: "convC1AVX2", grad: "convC1GradAVX2", vecs: 4, groups: []int{3, 1}, taps: 3, lf: "c1", lg: "g1"},
	// 32 channels in two ZMM: 14 pixels at once (28 accumulators).
	{fwd: "convC1AVX512", grad: "convC1GradAVX512", wide: true, vecs: 2, groups: []int{14, 4, 1}, taps: 3, lf: "z1", lg: "h1"},
	// 16 channels in two YMM: six pixels at once, six taps per gradient
	// call (12 accumulators).
	{fwd: "convC1x16AVX2", grad: "convC1Grad16AVX2", vecs: 2, groups: []int{6, 2, 1}, taps: 6, lf: "e1", lg: "f1"},
	// 16 channels in one ZMM: 28 pixels at once.
	{fwd: "convC1x16AVX512", grad: "convC1Grad16AVX512", wide: true, vecs: 1, groups: []int{28, 8, 4, 1}, taps: 6, lf: "u1", lg: "v1"},
}

func convRoutines() {
	for _, f := range c1Forms {
		f.forward()
		f.gradient()
	}
}

// vec returns a fresh vector register of the form's width.
func (f c1Form) vec() reg.VecVirtual {
	if f.wide {
		return ZMM()
	}
	return YMM()
}

// accs returns n zeroed accumulators of the form's width.
func (f c1Form) accs(n int) []reg.VecVirtual {
	if f.wide {
		return zmms(n)
	}
	v := ymms(n)
	zero(v...)
	return v
}

// channels is the form's channels per pixel.
func (f c1Form) channels() int {
	if f.wide {
		return 16 * f.vecs
	}
	return 8 * f.vecs
}

// api is the name of the package function the form's routine serves:
// base, with suffix for the 16-channel forms.
func (f c1Form) api(base, suffix string) string {
	if f.channels() == 16 {
		return base + suffix
	}
	return base
}

// fma adds in·v (in a float32 in memory, broadcast to every lane) into
// acc, for the vectors v of one pixel (registers, or with mem the vectors
// at mem and mem + one vector on).
func (f c1Form) fma(in Mem, v []reg.VecVirtual, mem *Mem, acc []reg.VecVirtual) {
	var b reg.VecVirtual
	if !f.wide {
		b = YMM()
		VBROADCASTSS(in, b)
	}
	for i, a := range acc {
		var src Op
		if mem != nil {
			m := *mem
			m.Disp += int(a.Size()) * i
			src = m
		} else {
			src = v[i]
		}
		if f.wide {
			VFMADD231PS_BCST(in, src, a)
		} else {
			VFMADD231PS(src, b, a)
		}
	}
}

// operands returns the vectors of one pixel at base: loaded into
// registers, or (four YMM, which leave no registers for them) nil and
// the memory operand of the first.
func (f c1Form) operands(base reg.Register) ([]reg.VecVirtual, *Mem) {
	if f.vecs > 2 {
		return nil, &Mem{Base: base}
	}
	v := make([]reg.VecVirtual, f.vecs)
	for i := range v {
		v[i] = f.vec()
		VMOVUPS(Mem{Base: base, Disp: int(v[i].Size()) * i}, v[i])
	}
	return v, nil
}

// forward: for each output pixel (r, c) of a rows×cols image and the
// form's channels j:
//
//	y[(r·cols+c)·ldy + j] = Σ_t x[r·xRow + c + offs[t]] · w[t·ldw + j]
//
// summed in tap order with fused multiply-adds, a group of pixels at a
// time (independent accumulators: one set alone would wait on the
// multiply-add latency at every tap).
func (f c1Form) forward() {
	vecFunc(f.fwd, "func(y *float32, ldy int, x *float32, xRow int, w *float32, ldw int, offs *int, taps, rows, cols int)",
		fmt.Sprintf("%s runs %s for one image and %d output channels (taps, rows, cols ≥ 1).", f.fwd, f.api("ConvC1", "x16"), f.channels()))
	y := Load(Param("y"), GP64())
	ldy := Load(Param("ldy"), GP64())
	x := Load(Param("x"), GP64())
	offs := Load(Param("offs"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldy)
	p, wp, t, off, c := GP64(), GP64(), GP64(), GP64(), GP64()

	Label(f.lf + "row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	pixels := func(np int, name string) {
		acc := make([][]reg.VecVirtual, np)
		for q := range acc {
			acc[q] = f.accs(f.vecs)
		}
		Load(Param("w"), wp)
		XORQ(t, t)
		Label(name)
		MOVQ(Mem{Base: offs, Index: t, Scale: 8}, off)
		wv, wm := f.operands(wp)
		for q := range acc {
			f.fma(Mem{Base: p, Index: off, Scale: 4, Disp: 4 * q}, wv, wm, acc[q])
		}
		ldw := Load(Param("ldw"), GP64())
		LEAQ(Mem{Base: wp, Index: ldw, Scale: 4}, wp)
		INCQ(t)
		CMPQ(t, Load(Param("taps"), GP64()))
		JLT(LabelRef(name))
		for q := range acc {
			for i, a := range acc[q] {
				VMOVUPS(a, Mem{Base: y, Disp: int(a.Size()) * i})
			}
			ADDQ(ldy, y)
		}
		ADDQ(Imm(uint64(4*np)), p)
		SUBQ(Imm(uint64(np)), c)
	}
	pixelGroups(f.lf, f.groups, c, f.lf+"next", pixels)
	Label(f.lf + "next")
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef(f.lf + "row"))
	VZEROUPPER()
	RET()
}

// gradient: for the taps t of offs (1 to f.taps of them) and the form's
// channels j,
//
//	dw[t·ldw + j] += Σ_{r,c} x[r·xRow + c + offs[t]] · dy[(r·cols+c)·ldy + j]
//
// summed over the pixels in scan order with fused multiply-adds, the
// sums held in registers for the whole image.
func (f c1Form) gradient() {
	vecFunc(f.grad, "func(dw *float32, ldw int, x *float32, xRow int, dy *float32, ldy int, offs *int, taps, rows, cols int)",
		fmt.Sprintf("%s runs %s for one image, %d channels and 1 ≤ taps ≤ %d (rows, cols ≥ 1).", f.grad, f.api("ConvC1Grad", "16"), f.channels(), f.taps))
	x := Load(Param("x"), GP64())
	dy := Load(Param("dy"), GP64())
	ldy := Load(Param("ldy"), GP64())
	offs := Load(Param("offs"), GP64())
	taps := Load(Param("taps"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(Imm(2), ldy)
	o := tapOffsets(offs, taps, f.taps, f.lg+"offs")

	acc := make([][]reg.VecVirtual, f.taps)
	for g := range acc {
		acc[g] = f.accs(f.vecs)
	}
	p, c := GP64(), GP64()
	Label(f.lg + "row")
	Load(Param("cols"), c)
	MOVQ(x, p)
	Label(f.lg + "col")
	gv, gm := f.operands(dy)
	for g := range acc {
		f.fma(Mem{Base: p, Index: o[g], Scale: 4}, gv, gm, acc[g])
	}
	ADDQ(ldy, dy)
	ADDQ(Imm(4), p)
	DECQ(c)
	JNZ(LabelRef(f.lg + "col"))
	xRow := Load(Param("xRow"), GP64())
	LEAQ(Mem{Base: x, Index: xRow, Scale: 4}, x)
	DECQ(rows)
	JNZ(LabelRef(f.lg + "row"))

	// dw += the sums of the taps there are.
	dw := Load(Param("dw"), GP64())
	ldw := Load(Param("ldw"), GP64())
	SHLQ(Imm(2), ldw)
	addTapSums(dw, ldw, Load(Param("taps"), GP64()), acc, f.lg+"done")
	VZEROUPPER()
	RET()
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
