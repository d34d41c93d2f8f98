package main

// The batch-normalization loops behind package kernels' bn.go routines,
// in two widths: AVX2 (8 channels a step, c a multiple of 8) and
// AVX-512F (16 channels a step, c a multiple of 16). Rows are c
// contiguous float32 values; the per-channel sums are float64 in acc
// (acc[0:c] and acc[c:2c]), kept in registers over all rows for a block
// of channels at a time, so every channel's sum runs over the rows in
// order and the bits equal the Go loops'. No fused multiply-adds
// anywhere, for the same reason.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// bnWidth is one vector width: lanes float32s per step, held as two
// halves of lanes/2 float64s for the sums.
type bnWidth struct {
	suffix string
	lanes  int
	vec    func() reg.VecVirtual
}

func bnRoutines() {
	for _, w := range []bnWidth{{"AVX2", 8, YMM}, {"AVX512", 16, ZMM}} {
		bnMoments(w, true, false)
		bnMoments(w, false, false)
		bnMoments(w, false, true)
		bnAffine(w, false, false)
		bnAffine(w, true, false)
		bnAffine(w, true, true)
		bnAffine2(w, false)
		bnAffine2(w, true)
	}
}

// reluMasked loads into d the lanes of src where the forward's
// pre-ReLU value x·a + b (x a register, a and b the forward's
// coefficients; the product rounded before the sum, as bnAffine's) is
// > 0, and zero elsewhere (GT_OQ: false for NaN); zero is a zero vector.
func (w bnWidth) reluMasked(d, zero, x reg.VecVirtual, src, a, b Mem) {
	v := w.vec()
	VMULPS(a, x, v)
	VADDPS(b, v, v)
	if w.lanes == 16 {
		k := K()
		VCMPPS(Imm(0x1e), zero, v, k)
		VMOVUPS_Z(src, k, d)
		return
	}
	VCMPPS(Imm(0x1e), zero, v, v)
	VANDPS(src, v, d)
}

// halves converts the lanes of v to float64: the low half into lo, the
// high half into hi.
func (w bnWidth) halves(v, lo, hi reg.VecVirtual) {
	if w.lanes == 16 {
		VCVTPS2PD(v.AsY(), lo)
		VEXTRACTF64X4(Imm(1), v, hi.AsY())
		VCVTPS2PD(hi.AsY(), hi)
		return
	}
	VCVTPS2PD(v.AsX(), lo)
	VEXTRACTF128(Imm(1), v, hi.AsX())
	VCVTPS2PD(hi.AsX(), hi)
}

// at8 is base + 8·index (a float64 element), plus disp bytes.
func at8(base, index reg.Register, disp int) Mem {
	return Mem{Base: base, Index: index, Scale: 8, Disp: disp}
}

// bnMoments: for each row and channel j, with s = shift[j],
//
//	squares: d = x − s;            acc[j] += d;  acc[c+j] += d·d
//	product: d = y − s;            acc[j] += x;  acc[c+j] += x·d
//	relu:    product with x replaced by 0 where y·a + b ≤ 0
//
// (x, y converted to float64 first; a and b the forward's float32
// coefficients, the product rounded before the sum).
func bnMoments(w bnWidth, squares, relu bool) {
	name, sig := "bnGradMoments"+w.suffix, "func(acc *float64, x, y *float32, shift *float64, rows, c int)"
	doc := []string{
		fmt.Sprintf("bnGradMoments%s runs GradMoments over rows of c values, c a", w.suffix),
		fmt.Sprintf("multiple of %d.", w.lanes),
	}
	switch {
	case squares:
		name, sig = "bnShiftedMoments"+w.suffix, "func(acc *float64, x *float32, shift *float64, rows, c int)"
		doc = []string{
			fmt.Sprintf("bnShiftedMoments%s runs ShiftedMoments over rows of c values, c", w.suffix),
			fmt.Sprintf("a multiple of %d.", w.lanes),
		}
	case relu:
		name, sig = "bnGradMomentsRelu"+w.suffix, "func(acc *float64, x, y, a, b *float32, shift *float64, rows, c int)"
		doc = []string{
			fmt.Sprintf("bnGradMomentsRelu%s runs GradMomentsRelu over rows of c values,", w.suffix),
			fmt.Sprintf("c a multiple of %d.", w.lanes),
		}
	}
	vecFunc(name, sig, doc...)
	acc := Load(Param("acc"), GP64())
	x := Load(Param("x"), GP64())
	var y, fa, fb reg.Register
	if !squares {
		y = Load(Param("y"), GP64())
	}
	if relu {
		fa, fb = Load(Param("a"), GP64()), Load(Param("b"), GP64())
	}
	shift := Load(Param("shift"), GP64())
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	acc2 := GP64()
	LEAQ(at8(acc, c, 0), acc2)
	var zv reg.VecVirtual
	if relu {
		zv = w.vec()
		zero(zv)
	}
	half := 4 * w.lanes / 2 // bytes of a half step of float32s
	j, o, r, t := GP64(), GP64(), GP64(), GP64()
	lbl := name + "_"
	// Column blocks of two steps (one when one is left): the block's
	// sums stay in registers while the rows go by, each row's added in
	// order as before, and are loaded and stored once per block.
	block := func(steps int, bl string) {
		s1, s2 := make([]reg.VecVirtual, 2*steps), make([]reg.VecVirtual, 2*steps)
		for q := range s1 {
			s1[q], s2[q] = w.vec(), w.vec()
			VMOVUPD(at8(acc, j, q*2*half), s1[q])
			VMOVUPD(at8(acc2, j, q*2*half), s2[q])
		}
		MOVQ(j, o)
		MOVQ(rows, r)
		Label(bl)
		for st := range steps {
			// relu: the masked x and y, as float64 halves.
			var ph, yh [2]reg.VecVirtual
			if relu {
				yv, m := w.vec(), w.vec()
				VMOVUPS(at(y, o, st*4*w.lanes), yv)
				w.reluMasked(m, zv, yv, at(x, o, st*4*w.lanes), at(fa, j, st*4*w.lanes), at(fb, j, st*4*w.lanes))
				ph = [2]reg.VecVirtual{w.vec(), w.vec()}
				w.halves(m, ph[0], ph[1])
				yh = [2]reg.VecVirtual{w.vec(), w.vec()}
				w.halves(yv, yh[0], yh[1])
			}
			for h := range 2 {
				q, disp := 2*st+h, st*4*w.lanes+h*half
				d, sq := w.vec(), w.vec()
				p := d
				switch {
				case squares:
					VCVTPS2PD(at(x, o, disp), d)
					VSUBPD(at8(shift, j, 2*disp), d, d)
					VMULPD(d, d, sq)
				default:
					p = ph[h]
					if relu {
						VSUBPD(at8(shift, j, 2*disp), yh[h], d)
					} else {
						p = w.vec()
						VCVTPS2PD(at(x, o, disp), p)
						VCVTPS2PD(at(y, o, disp), d)
						VSUBPD(at8(shift, j, 2*disp), d, d)
					}
					VMULPD(d, p, sq)
				}
				VADDPD(p, s1[q], s1[q])
				VADDPD(sq, s2[q], s2[q])
			}
		}
		ADDQ(c, o)
		DECQ(r)
		JNZ(LabelRef(bl))
		for q := range s1 {
			VMOVUPD(s1[q], at8(acc, j, q*2*half))
			VMOVUPD(s2[q], at8(acc2, j, q*2*half))
		}
		ADDQ(Imm(uint64(steps*w.lanes)), j)
	}
	XORQ(j, j)
	Label(lbl + "blk")
	MOVQ(c, t)
	SUBQ(j, t)
	CMPQ(t, Imm(uint64(2*w.lanes)))
	JL(LabelRef(lbl + "one"))
	block(2, lbl+"rows2")
	JMP(LabelRef(lbl + "next"))
	Label(lbl + "one")
	block(1, lbl+"rows1")
	Label(lbl + "next")
	CMPQ(j, c)
	JLT(LabelRef(lbl + "blk"))
	VZEROUPPER()
	RET()
}

// bnAffine: y = x·a + b per channel (a multiply, then an add); with
// skip, then + s (the residual join's skip, same rows as x); with relu,
// then max(·, 0) keeping NaN and −0 as nn.Relu does.
func bnAffine(w bnWidth, relu, skip bool) {
	name, what, sig := "bnAffine"+w.suffix, "Affine", "func(y, x, a, b *float32, rows, c int)"
	switch {
	case skip:
		name, what, sig = "bnAffineAddRelu"+w.suffix, "AffineAddRelu", "func(y, x, s, a, b *float32, rows, c int)"
	case relu:
		name, what = "bnAffineRelu"+w.suffix, "AffineRelu"
	}
	vecFunc(name, sig, fmt.Sprintf("%s runs %s over rows of c values, c a multiple of %d.", name, what, w.lanes))
	y := Load(Param("y"), GP64())
	x := Load(Param("x"), GP64())
	var sk reg.Register
	if skip {
		sk = Load(Param("s"), GP64())
	}
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	var zv reg.VecVirtual
	if relu {
		zv = w.vec()
		zero(zv)
	}
	j := GP64()
	Label(name + "_row")
	XORQ(j, j)
	Label(name + "_col")
	v := w.vec()
	VMOVUPS(at(x, j, 0), v)
	VMULPS(at(a, j, 0), v, v)
	VADDPS(at(b, j, 0), v, v)
	if skip {
		VADDPS(at(sk, j, 0), v, v)
	}
	if relu {
		Comment("Intel order: vmaxps v, zero, v (NaN and −0 stay)")
		VMAXPS(v, zv, v)
	}
	VMOVUPS(v, at(y, j, 0))
	ADDQ(Imm(uint64(w.lanes)), j)
	CMPQ(j, c)
	JLT(LabelRef(name + "_col"))
	LEAQ(at(x, c, 0), x)
	if skip {
		LEAQ(at(sk, c, 0), sk)
	}
	LEAQ(at(y, c, 0), y)
	DECQ(rows)
	JNZ(LabelRef(name + "_row"))
	VZEROUPPER()
	RET()
}

// bnAffine2: dx = (k·g + a·x) + b per channel, each product and sum
// rounded to float32 in that order; with relu, g is first zeroed where
// the forward's x·fa + fb ≤ 0.
func bnAffine2(w bnWidth, relu bool) {
	name, what, sig := "bnAffine2"+w.suffix, "Affine2", "func(dx, grad, x, k, a, b *float32, rows, c int)"
	if relu {
		name, what, sig = "bnAffine2Relu"+w.suffix, "Affine2Relu", "func(dx, grad, x, fa, fb, k, a, b *float32, rows, c int)"
	}
	vecFunc(name, sig, fmt.Sprintf("%s runs %s over rows of c values, c a multiple of %d.", name, what, w.lanes))
	dx := Load(Param("dx"), GP64())
	g := Load(Param("grad"), GP64())
	x := Load(Param("x"), GP64())
	var fa, fb reg.Register
	var zv reg.VecVirtual
	if relu {
		fa, fb = Load(Param("fa"), GP64()), Load(Param("fb"), GP64())
		zv = w.vec()
		zero(zv)
	}
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	j := GP64()
	Label(name + "_row")
	XORQ(j, j)
	Label(name + "_col")
	u, v := w.vec(), w.vec()
	VMOVUPS(at(x, j, 0), v)
	if relu {
		w.reluMasked(u, zv, v, at(g, j, 0), at(fa, j, 0), at(fb, j, 0))
	} else {
		VMOVUPS(at(g, j, 0), u)
	}
	VMULPS(at(k, j, 0), u, u)
	VMULPS(at(a, j, 0), v, v)
	VADDPS(v, u, u)
	VADDPS(at(b, j, 0), u, u)
	VMOVUPS(u, at(dx, j, 0))
	ADDQ(Imm(uint64(w.lanes)), j)
	CMPQ(j, c)
	JLT(LabelRef(name + "_col"))
	LEAQ(at(g, c, 0), g)
	LEAQ(at(x, c, 0), x)
	LEAQ(at(dx, c, 0), dx)
	DECQ(rows)
	JNZ(LabelRef(name + "_row"))
	VZEROUPPER()
	RET()
}
