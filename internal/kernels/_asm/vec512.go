package main

// The AVX-512 loops behind package kernels' vec*.go routines: the AVX2
// loops' work sixteen lanes at a time, and the last n mod 16 elements in
// the same loop body under a k-mask (masked loads read zeros and do not
// fault past the end; masked stores leave the rest of memory alone), so
// no element is left to Go. Each routine does the AVX2 one's operations
// in the same order per element: where the AVX2 loop gives the Go loop's
// bits, so does this one. They use AVX-512F and BMI2 (BZHI builds the
// tail masks) only.

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func vec512Routines() {
	sumProducts512()
	adam512()
	biasRelu512(true)
	biasRelu512(false)
	biasSkipRelu512()
	reluGradSum512()
	reluMask512()
	iota16 := GLOBL("iota16", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(i))
	}
	argmaxWindow512(iota16)
	argmaxReluGradSum512(iota16)
	maxWindow512()
	gemv512()
	mulAdd512()
	add512()
	copyRows512()
}

// lanes16 emits the loop over elements j < n from the current j: sixteen
// at a time through body(nil), then, when 0 < n − j < 16, once through
// body(k) with k holding the low n − j lanes. It leaves j at the start
// of the tail (n rounded down to 16 past its start). pfx makes the
// labels unique; body gets pfx+"f" or pfx+"t" for its own.
func lanes16(pfx string, j reg.GPVirtual, n reg.Register, body func(k reg.OpmaskVirtual, pfx string)) {
	r := GP64()
	Label(pfx + "16")
	MOVQ(n, r)
	SUBQ(j, r)
	CMPQ(r, Imm(16))
	JL(LabelRef(pfx + "tail"))
	body(nil, pfx+"f")
	ADDQ(Imm(16), j)
	JMP(LabelRef(pfx + "16"))
	Label(pfx + "tail")
	TESTQ(r, r)
	JZ(LabelRef(pfx + "end"))
	k := K()
	tailMask(r, k)
	body(k, pfx+"t")
	Label(pfx + "end")
}

// tailMask sets k to the low r lanes (0 < r < 16): k = 2^r − 1.
func tailMask(r reg.GPVirtual, k reg.OpmaskVirtual) {
	t := GP32()
	MOVL(U32(0xffff), t)
	BZHIL(r.As32(), t, t)
	KMOVW(t, k)
}

// zload loads 16 floats, or with k the lanes of k (others zero).
func zload(m Mem, z reg.VecVirtual, k reg.OpmaskVirtual) {
	if k == nil {
		VMOVUPS(m, z)
		return
	}
	VMOVUPS_Z(m, k, z)
}

// zstore stores 16 floats, or with k the lanes of k only.
func zstore(z reg.VecVirtual, m Mem, k reg.OpmaskVirtual) {
	if k == nil {
		VMOVUPS(z, m)
		return
	}
	VMOVUPS(z, k, m)
}

// zregs returns n fresh ZMM registers (not zeroed; zmms zeroes).
func zregs(n int) []reg.VecVirtual {
	v := make([]reg.VecVirtual, n)
	for i := range v {
		v[i] = ZMM()
	}
	return v
}

// sumProducts512: out[i] = Σ_t a[aOff[t]+i]·b[bOff[t]+i] for i < n, 64
// outputs (four accumulators) at a time across all taps, then 16, then
// the masked rest; one fused multiply-add per tap and lane.
func sumProducts512() {
	vecFunc("sumProductsAVX512", "func(out *float32, n int, a, b *float32, aOff, bOff *int, taps int)",
		"sumProductsAVX512 computes SumProducts for all n ≥ 1 outputs, taps > 0;",
		"the caller has checked every offset.")
	out := Load(Param("out"), GP64())
	n := Load(Param("n"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	aOff := Load(Param("aOff"), GP64())
	bOff := Load(Param("bOff"), GP64())
	taps := Load(Param("taps"), GP64())
	i, t, next, ao, bo := GP64(), GP64(), GP64(), GP64(), GP64()
	XORQ(i, i)

	// sum accumulates w vectors of outputs from i over every tap (w = 1
	// with k: the lanes of k only).
	sum := func(w int, k reg.OpmaskVirtual, tap string) {
		acc := zmms(w)
		XORQ(t, t)
		Label(tap)
		MOVQ(Mem{Base: aOff, Index: t, Scale: 8}, ao)
		ADDQ(i, ao)
		MOVQ(Mem{Base: bOff, Index: t, Scale: 8}, bo)
		ADDQ(i, bo)
		x, y := zregs(w), zregs(w)
		for j := range x {
			zload(at(a, ao, 64*j), x[j], k)
			zload(at(b, bo, 64*j), y[j], k)
		}
		for j := range x {
			VFMADD231PS(y[j], x[j], acc[j])
		}
		INCQ(t)
		CMPQ(t, taps)
		JLT(LabelRef(tap))
		for j := range acc {
			zstore(acc[j], at(out, i, 64*j), k)
		}
	}
	Label("sp64")
	LEAQ(Mem{Base: i, Disp: 64}, next)
	CMPQ(next, n)
	JGT(LabelRef("sp16"))
	sum(4, nil, "sp64tap")
	MOVQ(next, i)
	JMP(LabelRef("sp64"))
	lanes16("sp", i, n, func(k reg.OpmaskVirtual, pfx string) { sum(1, k, pfx+"tap") })
	VZEROUPPER()
	RET()
}

// adam512: AdamUpdate for n elements, sixteen at a time, with the Go
// loop's operations in its order and no fused multiply-add.
func adam512() {
	vecFunc("adamAVX512", "func(w, grad, m, v *float32, n int, k *[4]float32)",
		"adamAVX512 runs AdamUpdate's loop over all n elements; k holds lrT,",
		"b1c, b2c, eps.")
	w := Load(Param("w"), GP64())
	grad := Load(Param("grad"), GP64())
	m := Load(Param("m"), GP64())
	v := Load(Param("v"), GP64())
	n := Load(Param("n"), GP64())
	kp := Load(Param("k"), GP64())
	lrT, b1c, b2c, eps := ZMM(), ZMM(), ZMM(), ZMM()
	VBROADCASTSS(Mem{Base: kp}, lrT)
	VBROADCASTSS(Mem{Base: kp, Disp: 4}, b1c)
	VBROADCASTSS(Mem{Base: kp, Disp: 8}, b2c)
	VBROADCASTSS(Mem{Base: kp, Disp: 12}, eps)
	i := GP64()
	XORQ(i, i)
	lanes16("ad", i, n, func(k reg.OpmaskVirtual, _ string) {
		g, mv, vv, t, g2, step, den, wv := ZMM(), ZMM(), ZMM(), ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
		zload(at(grad, i, 0), g, k)
		zload(at(m, i, 0), mv, k)
		zload(at(v, i, 0), vv, k)
		Comment("m' = m + (g − m)·b1c")
		VSUBPS(mv, g, t)
		VMULPS(b1c, t, t)
		VADDPS(t, mv, mv)
		Comment("v' = v + (g² − v)·b2c")
		VMULPS(g, g, g2)
		VSUBPS(vv, g2, g2)
		VMULPS(b2c, g2, g2)
		VADDPS(g2, vv, vv)
		zstore(mv, at(m, i, 0), k)
		zstore(vv, at(v, i, 0), k)
		Comment("w −= (m'·lrT)/(√v' + eps)")
		VMULPS(lrT, mv, step)
		VSQRTPS(vv, den)
		VADDPS(eps, den, den)
		VDIVPS(den, step, step)
		zload(at(w, i, 0), wv, k)
		VSUBPS(step, wv, wv)
		zstore(wv, at(w, i, 0), k)
	})
	VZEROUPPER()
	RET()
}

// biasRelu512: dst = max(0, x + b) sixteen at a time, VMAXPS in the
// AVX2 loop's operand order (NaN and −0 pass through); without the ReLU
// (biasAddAVX512) dst = x + b.
func biasRelu512(relu bool) {
	name, doc := "biasReluAVX512", "biasReluAVX512 runs BiasRelu over rows ≥ 1 of c ≥ 1 values."
	if !relu {
		name, doc = "biasAddAVX512", "biasAddAVX512 runs BiasAdd over rows ≥ 1 of c ≥ 1 values."
	}
	vecFunc(name, "func(dst, x, b *float32, rows, c int)", doc)
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	z := ZMM()
	if relu {
		zero(z)
	}
	j := GP64()
	pfx := "br"
	if !relu {
		pfx = "ba"
	}
	Label(pfx + "row")
	XORQ(j, j)
	lanes16(pfx, j, c, func(k reg.OpmaskVirtual, _ string) {
		s, bv := ZMM(), ZMM()
		zload(at(x, j, 0), s, k)
		zload(at(b, j, 0), bv, k)
		VADDPS(bv, s, s)
		if relu {
			Comment("Intel order: vmaxps s, zero, s")
			VMAXPS(s, z, s)
		}
		zstore(s, at(dst, j, 0), k)
	})
	LEAQ(at(x, c, 0), x)
	LEAQ(at(dst, c, 0), dst)
	DECQ(rows)
	JNZ(LabelRef(pfx + "row"))
	VZEROUPPER()
	RET()
}

// biasSkipRelu512: dst = max(0, (x + b) + s) sixteen at a time: a
// convolution's output, its bias and a residual skip, added in that
// order, then ReLU (VMAXPS as in biasRelu512).
func biasSkipRelu512() {
	vecFunc("biasSkipReluAVX512", "func(dst, x, s, b *float32, rows, c int)",
		"biasSkipReluAVX512 runs BiasSkipRelu over rows ≥ 1 of c ≥ 1 values.")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	sk := Load(Param("s"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	z := ZMM()
	zero(z)
	j := GP64()
	Label("bsrow")
	XORQ(j, j)
	lanes16("bs", j, c, func(k reg.OpmaskVirtual, _ string) {
		v, bv, sv := ZMM(), ZMM(), ZMM()
		zload(at(x, j, 0), v, k)
		zload(at(b, j, 0), bv, k)
		zload(at(sk, j, 0), sv, k)
		VADDPS(bv, v, v)
		VADDPS(sv, v, v)
		Comment("Intel order: vmaxps v, zero, v")
		VMAXPS(v, z, v)
		zstore(v, at(dst, j, 0), k)
	})
	LEAQ(at(x, c, 0), x)
	LEAQ(at(sk, c, 0), sk)
	LEAQ(at(dst, c, 0), dst)
	DECQ(rows)
	JNZ(LabelRef("bsrow"))
	VZEROUPPER()
	RET()
}

// reluMask512: Relu and ReluGrad sixteen values at a time, the rest
// under a mask (compares as in reluMask).
func reluMask512() {
	maskCopy512("reluAVX512", "func(dst, x *float32, n int)",
		"reluAVX512 runs Relu over all n ≥ 1 values.",
		[]string{"dst", "x"}, 0x05, "x < 0 is false (NLT_UQ: true for NaN)", "re")
	maskCopy512("reluGradAVX512", "func(dx, grad, y *float32, n int)",
		"reluGradAVX512 runs ReluGrad over all n ≥ 1 values.",
		[]string{"dx", "grad", "y"}, 0x1e, "y > 0 (GT_OQ: NaN gives false)", "rd")
}

// maskCopy512 is maskCopyAVX2 for any n ≥ 1, the tail under a mask.
func maskCopy512(name, sig, doc string, ptrs []string, pred uint64, cmpDoc, lbl string) {
	vecFunc(name, sig, doc)
	regs := make([]reg.Register, len(ptrs))
	for j, p := range ptrs {
		regs[j] = Load(Param(p), GP64())
	}
	out, in := regs[0], regs[len(regs)-1]
	n := Load(Param("n"), GP64())
	z := ZMM()
	zero(z)
	i := GP64()
	XORQ(i, i)
	lanes16(lbl, i, n, func(k reg.OpmaskVirtual, _ string) {
		xv, keep := ZMM(), K()
		zload(at(in, i, 0), xv, k)
		v := xv
		if len(regs) == 3 {
			v = ZMM()
			zload(at(regs[1], i, 0), v, k)
		}
		Comment(cmpDoc)
		VCMPPS(Imm(pred), z, xv, keep)
		VMOVUPS_Z(v, keep, v)
		zstore(v, at(out, i, 0), k)
	})
	VZEROUPPER()
	RET()
}

// reluGradSum512: dx = grad where y > 0 else +0, and acc[j] +=
// float64(dx[j]) row after row (a masked tail's y lanes load as zero, so
// its extra lanes compare false).
func reluGradSum512() {
	vecFunc("reluGradSumAVX512", "func(dx, grad, y *float32, acc *float64, rows, c int)",
		"reluGradSumAVX512 runs ReluGradSum over rows ≥ 1 of c ≥ 1 values.")
	dx := Load(Param("dx"), GP64())
	grad := Load(Param("grad"), GP64())
	y := Load(Param("y"), GP64())
	acc := Load(Param("acc"), GP64())
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	z := ZMM()
	zero(z)
	j := GP64()
	Label("rgrow")
	XORQ(j, j)
	lanes16("rg", j, c, func(k reg.OpmaskVirtual, _ string) {
		yv, g, d := ZMM(), ZMM(), ZMM()
		gt := K()
		zload(at(y, j, 0), yv, k)
		zload(at(grad, j, 0), g, k)
		Comment("y > 0 (GT_OQ: NaN gives false)")
		VCMPPS(Imm(0x1e), z, yv, gt)
		VMOVUPS_Z(g, gt, d)
		zstore(d, at(dx, j, 0), k)
		addSums512(d, acc, j, k)
	})
	LEAQ(at(grad, c, 0), grad)
	LEAQ(at(dx, c, 0), dx)
	LEAQ(at(y, c, 0), y)
	DECQ(rows)
	JNZ(LabelRef("rgrow"))
	VZEROUPPER()
	RET()
}

// argmaxWindow512: sixteen channels at a time, the best value and its
// index from the first cell, then for each later cell the lanes that are
// strictly greater (GT_OQ: false for NaN) take the cell's value and
// index base + offs[k] + j + lane.
func argmaxWindow512(iota16 Mem) {
	vecFunc("argmaxWindowAVX512", "func(dst *float32, arg *int32, x *float32, offs *int, cells, c int, base int32, windows, step int)",
		"argmaxWindowAVX512 runs ArgmaxWindows for c, cells, windows ≥ 1.")
	dst := Load(Param("dst"), GP64())
	arg := Load(Param("arg"), GP64())
	x := Load(Param("x"), GP64())
	offs := Load(Param("offs"), GP64())
	cells := Load(Param("cells"), GP64())
	c := Load(Param("c"), GP64())
	base := GP64()
	MOVLQSX(paramAddr("base"), base)
	lanes := ZMM()
	VMOVDQU32(iota16, lanes)
	j, o, idx, cell := GP64(), GP64(), GP64(), GP64()
	Comment("next window from here")
	Label("amwin")
	XORQ(j, j)

	// index sets v to base + o + lane for the sixteen lanes.
	index := func(v reg.VecVirtual) {
		LEAQ(Mem{Base: o, Index: base, Scale: 1}, idx)
		VPBROADCASTD(idx.As32(), v)
		VPADDD(lanes, v, v)
	}
	lanes16("am", j, c, func(k reg.OpmaskVirtual, pfx string) {
		best, bestArg := ZMM(), ZMM()
		MOVQ(Mem{Base: offs}, o)
		ADDQ(j, o)
		zload(at(x, o, 0), best, k)
		index(bestArg)
		MOVQ(U32(1), cell)
		Label(pfx + "cell")
		CMPQ(cell, cells)
		JGE(LabelRef(pfx + "store"))
		v, vArg := ZMM(), ZMM()
		gt := K()
		MOVQ(Mem{Base: offs, Index: cell, Scale: 8}, o)
		ADDQ(j, o)
		zload(at(x, o, 0), v, k)
		Comment("v > best")
		VCMPPS(Imm(0x1e), best, v, gt)
		VMOVUPS(v, gt, best)
		index(vArg)
		VMOVDQU32(vArg, gt, bestArg)
		INCQ(cell)
		JMP(LabelRef(pfx + "cell"))
		Label(pfx + "store")
		zstore(best, at(dst, j, 0), k)
		if k == nil {
			VMOVDQU32(bestArg, at(arg, j, 0))
		} else {
			VMOVDQU32(bestArg, k, at(arg, j, 0))
		}
	})
	nextWindow("amwin", dst, arg, x, base, c, o)
}

// maxWindow512: VMAXPS with the new cell's values first (Intel order)
// returns them only when strictly greater, as in the AVX2 loop.
func maxWindow512() {
	vecFunc("maxWindowAVX512", "func(dst, x *float32, offs *int, cells, c, windows, step int)",
		"maxWindowAVX512 runs MaxWindows for c, cells, windows ≥ 1.")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	offs := Load(Param("offs"), GP64())
	cells := Load(Param("cells"), GP64())
	c := Load(Param("c"), GP64())
	j, o, cell := GP64(), GP64(), GP64()
	Comment("next window from here")
	Label("mwwin")
	XORQ(j, j)
	lanes16("mw", j, c, func(k reg.OpmaskVirtual, pfx string) {
		best := ZMM()
		MOVQ(Mem{Base: offs}, o)
		ADDQ(j, o)
		zload(at(x, o, 0), best, k)
		MOVQ(U32(1), cell)
		Label(pfx + "cell")
		CMPQ(cell, cells)
		JGE(LabelRef(pfx + "store"))
		v := ZMM()
		MOVQ(Mem{Base: offs, Index: cell, Scale: 8}, o)
		ADDQ(j, o)
		zload(at(x, o, 0), v, k)
		Comment("Intel order: vmaxps best, v(new), best(running)")
		VMAXPS(best, v, best)
		INCQ(cell)
		JMP(LabelRef(pfx + "cell"))
		Label(pfx + "store")
		zstore(best, at(dst, j, 0), k)
	})
	nextWindow("mwwin", dst, nil, x, nil, c, o)
}

// gemv512: 128 columns (eight accumulators) at a time: for each p,
// broadcast x[p] and fuse it with row p's 128 values; then 64 columns
// (four accumulators), then 16 columns at a time and the masked rest.
func gemv512() {
	vecFunc("gemvAVX512", "func(y, x, w *float32, k, n, ldw int)",
		"gemvAVX512 runs Gemv for all n ≥ 1 columns, k ≥ 1.")
	y := Load(Param("y"), GP64())
	x := Load(Param("x"), GP64())
	w := Load(Param("w"), GP64())
	k := Load(Param("k"), GP64())
	n := Load(Param("n"), GP64())
	ldw := Load(Param("ldw"), GP64())
	SHLQ(Imm(2), ldw) // bytes per row
	j, next, row, p := GP64(), GP64(), GP64(), GP64()
	XORQ(j, j)

	// cols accumulates nv vectors of columns from j (nv = 1 with m: the
	// lanes of m only).
	cols := func(nv int, m reg.OpmaskVirtual, rowLoop string) {
		acc := zmms(nv)
		LEAQ(at(w, j, 0), row)
		XORQ(p, p)
		Label(rowLoop)
		xp := ZMM()
		VBROADCASTSS(at(x, p, 0), xp)
		for i := range acc {
			if m == nil {
				VFMADD231PS(Mem{Base: row, Disp: 64 * i}, xp, acc[i])
				continue
			}
			wv := ZMM()
			zload(Mem{Base: row, Disp: 64 * i}, wv, m)
			VFMADD231PS(wv, xp, acc[i])
		}
		ADDQ(ldw, row)
		INCQ(p)
		CMPQ(p, k)
		JLT(LabelRef(rowLoop))
		for i := range acc {
			zstore(acc[i], at(y, j, 64*i), m)
		}
	}
	Label("gv128")
	LEAQ(Mem{Base: j, Disp: 128}, next)
	CMPQ(next, n)
	JGT(LabelRef("gv64"))
	cols(8, nil, "gv128row")
	MOVQ(next, j)
	JMP(LabelRef("gv128"))
	// 64 columns in four accumulators: a 64-wide slab (nn's MatMulPacked)
	// in one pass over k instead of four one-accumulator passes, each
	// bound by the FMA latency.
	Label("gv64")
	LEAQ(Mem{Base: j, Disp: 64}, next)
	CMPQ(next, n)
	JGT(LabelRef("gv16"))
	cols(4, nil, "gv64row")
	MOVQ(next, j)
	JMP(LabelRef("gv64"))
	lanes16("gv", j, n, func(m reg.OpmaskVirtual, pfx string) { cols(1, m, pfx+"row") })
	VZEROUPPER()
	RET()
}

// mulAdd512: acc[i] += a[i]·b[i], 64 and then 16 at a time, then the
// masked rest, fused.
func mulAdd512() {
	vecFunc("mulAddAVX512", "func(acc, a, b *float32, n int)",
		"mulAddAVX512 runs MulAdd over all n ≥ 1 elements.")
	acc := Load(Param("acc"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	n := Load(Param("n"), GP64())
	i := GP64()
	loop512("ma", i, n, func(nv int, k reg.OpmaskVirtual) {
		av, bv, sv := zregs(nv), zregs(nv), zregs(nv)
		for q := range av {
			zload(at(a, i, 64*q), av[q], k)
			zload(at(b, i, 64*q), bv[q], k)
			zload(at(acc, i, 64*q), sv[q], k)
		}
		for q := range sv {
			VFMADD231PS(bv[q], av[q], sv[q])
		}
		for q := range sv {
			zstore(sv[q], at(acc, i, 64*q), k)
		}
	})
	VZEROUPPER()
	RET()
}

// add512: dst = a + b, 64 values at a time, then 16, the rest under a
// mask.
func add512() {
	vecFunc("addAVX512", "func(dst, a, b *float32, n int)",
		"addAVX512 runs Add over all n ≥ 1 elements.")
	dst := Load(Param("dst"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	n := Load(Param("n"), GP64())
	i := GP64()
	loop512("ad", i, n, func(nv int, k reg.OpmaskVirtual) {
		av, bv := zregs(nv), zregs(nv)
		for q := range av {
			zload(at(a, i, 64*q), av[q], k)
			zload(at(b, i, 64*q), bv[q], k)
		}
		for q := range av {
			VADDPS(bv[q], av[q], av[q])
		}
		for q := range av {
			zstore(av[q], at(dst, i, 64*q), k)
		}
	})
	VZEROUPPER()
	RET()
}

// loop512 emits a loop over the elements i < n from i = 0: group(4,
// nil) for each 64 elements at i, group(1, nil) for each 16 left, then
// group(1, k) once for the rest under the mask k (lanes16); lbl
// prefixes its labels.
func loop512(lbl string, i reg.GPVirtual, n reg.Register, group func(nv int, k reg.OpmaskVirtual)) {
	next := GP64()
	XORQ(i, i)
	Label(lbl + "64")
	LEAQ(Mem{Base: i, Disp: 64}, next)
	CMPQ(next, n)
	JGT(LabelRef(lbl + "16"))
	group(4, nil)
	MOVQ(next, i)
	JMP(LabelRef(lbl + "64"))
	lanes16(lbl, i, n, func(k reg.OpmaskVirtual, _ string) { group(1, k) })
}

// argmaxReluGradSum512: argmaxReluGradSum sixteen channels at a time,
// the rest under a mask (a masked tail's z lanes load as zero, so its
// extra lanes compare false and store nothing).
func argmaxReluGradSum512(iota16 Mem) {
	vecFunc("argmaxReluGradSumAVX512", "func(dx, grad, z *float32, arg *int32, acc *float64, cols, rep, c int, base int32)",
		"argmaxReluGradSumAVX512 runs ArgmaxReluGradSum for cols, rep, c ≥ 1.")
	f := loadArgmaxReluGrad()
	lanes, zz := ZMM(), ZMM()
	VMOVDQU32(iota16, lanes)
	zero(zz)
	idx := GP64()
	f.loops(func(j reg.GPVirtual) {
		lanes16("ag", j, f.c, func(k reg.OpmaskVirtual, _ string) {
			zv, av, iv, d := ZMM(), ZMM(), ZMM(), ZMM()
			pos, keep := K(), K()
			zload(at(f.z, j, 0), zv, k)
			Comment("z > 0 (GT_OQ: NaN gives false)")
			VCMPPS(Imm(0x1e), zz, zv, pos)
			Comment("and arg == base + j + lane")
			if k == nil {
				VMOVDQU32(at(f.arg, j, 0), av)
			} else {
				VMOVDQU32_Z(at(f.arg, j, 0), k, av)
			}
			LEAQ(Mem{Base: j, Index: f.base, Scale: 1}, idx)
			VPBROADCASTD(idx.As32(), iv)
			VPADDD(lanes, iv, iv)
			VPCMPEQD(av, iv, pos, keep)
			zload(at(f.grad, j, 0), d, k)
			VMOVUPS_Z(d, keep, d)
			VADDPS(zz, d, d)
			zstore(d, at(f.dx, j, 0), k)
			addSums512(d, f.acc, j, k)
		})
	})
}

// addSums512 adds the sixteen floats of d, as float64, to acc[j:j+16]
// (with k, the lanes of k only).
func addSums512(d reg.VecVirtual, acc, j reg.Register, k reg.OpmaskVirtual) {
	lo, hi := ZMM(), ZMM()
	VCVTPS2PD(d.AsY(), lo)
	VEXTRACTF64X4(Imm(1), d, hi.AsY())
	VCVTPS2PD(hi.AsY(), hi)
	accAt := func(disp int) Mem { return Mem{Base: acc, Index: j, Scale: 8, Disp: disp} }
	if k == nil {
		VADDPD(accAt(0), lo, lo)
		VADDPD(accAt(64), hi, hi)
		VMOVUPD(lo, accAt(0))
		VMOVUPD(hi, accAt(64))
		return
	}
	al, ah, kh := ZMM(), ZMM(), K()
	KSHIFTRW(Imm(8), k, kh)
	VMOVUPD_Z(accAt(0), k, al)
	VMOVUPD_Z(accAt(64), kh, ah)
	VADDPD(al, lo, lo)
	VADDPD(ah, hi, hi)
	VMOVUPD(lo, k, accAt(0))
	VMOVUPD(hi, kh, accAt(64))
}

// copyRows512: rows of n values from src (rows srcStride apart) to dst
// (dstStride apart), sixteen at a time, the rest under a mask.
func copyRows512() {
	vecFunc("copyRowsAVX512", "func(dst *float32, dstStride int, src *float32, srcStride, n, rows int)",
		"copyRowsAVX512 runs CopyRows over rows ≥ 1 of n ≥ 1 values.")
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstStride"), GP64())
	src := Load(Param("src"), GP64())
	ss := Load(Param("srcStride"), GP64())
	n := Load(Param("n"), GP64())
	rows := Load(Param("rows"), GP64())
	j := GP64()
	Label("cprow")
	XORQ(j, j)
	lanes16("cp", j, n, func(k reg.OpmaskVirtual, _ string) {
		v := ZMM()
		zload(at(src, j, 0), v, k)
		zstore(v, at(dst, j, 0), k)
	})
	LEAQ(at(src, ss, 0), src)
	LEAQ(at(dst, ds, 0), dst)
	DECQ(rows)
	JNZ(LabelRef("cprow"))
	VZEROUPPER()
	RET()
}
