package main

// The AVX2 loops behind package kernels' vec*.go routines. Each one is
// called by a Go wrapper that has checked lengths and offsets, and that
// finishes the elements the loop leaves (see the wrappers' docs for the
// exact contracts and for which routines fuse multiply-adds).

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func vecRoutines() {
	sumProducts()
	adam()
	repeat()
	biasRelu(true)
	biasRelu(false)
	biasSkipRelu()
	reluGradSum()
	reluMask()
	iota8 := GLOBL("iota8", RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(i))
	}
	argmaxWindow(iota8)
	argmaxReluGradSum(iota8)
	maxWindow()
	gemv()
	mulAdd()
	add()
	copyRows()
	winograd()
	streamFence()
	prefetchLines()
}

// streamFence emits the fence after streaming stores: SFENCE orders
// them before the stores that follow (such as the one that tells
// another goroutine the outputs are written).
func streamFence() {
	TEXT("streamFence", NOSPLIT, "func()")
	Doc("streamFence orders the streaming stores before it before the stores after it (SFENCE).")
	SFENCE()
	RET()
}

// prefetchLines emits the software prefetch of n ≥ 1 cache lines from p
// into L2 (PREFETCHT1), one every 64 bytes.
func prefetchLines() {
	vecFunc("prefetchLines", "func(p *float32, n int)",
		"prefetchLines asks for the n ≥ 1 cache lines from p into L2 (PREFETCHT1).")
	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	Label("prefetchLoop")
	PREFETCHT1(Mem{Base: p})
	ADDQ(Imm(64), p)
	DECQ(n)
	JNZ(LabelRef("prefetchLoop"))
	RET()
}

// vecFunc starts a function with a doc comment and //go:noescape (every
// vec routine takes only pointers into the caller's slices and ints).
func vecFunc(name, signature string, doc ...string) {
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(doc...)
}

// at is base + 4·index (a float32 or int32 element), plus disp bytes.
func at(base, index reg.Register, disp int) Mem {
	return Mem{Base: base, Index: index, Scale: 4, Disp: disp}
}

func ymms(n int) []reg.VecVirtual {
	v := make([]reg.VecVirtual, n)
	for i := range v {
		v[i] = YMM()
	}
	return v
}

// zero clears vector registers: VXORPS for XMM and YMM, VPXORD for ZMM
// (VXORPS on ZMM needs AVX-512DQ; the AVX-512 loops may rely on
// AVX-512F alone).
func zero(vs ...reg.VecVirtual) {
	for _, v := range vs {
		if v.Size() == 64 {
			VPXORD(v, v, v)
		} else {
			VXORPS(v, v, v)
		}
	}
}

// nextWindow ends a routine over windows: dst (and arg, unless nil)
// advance c values, x (and base, unless nil) the parameter step, and
// while the parameter windows counts down, back to loop; o is scratch.
func nextWindow(loop string, dst, arg, x, base, c, o reg.Register) {
	if arg != nil {
		Comment("next window: dst and arg advance c values, x and base step")
	} else {
		Comment("next window: dst advances c values, x step")
	}
	LEAQ(at(dst, c, 0), dst)
	if arg != nil {
		LEAQ(at(arg, c, 0), arg)
	}
	MOVQ(paramAddr("step"), o)
	LEAQ(at(x, o, 0), x)
	if base != nil {
		ADDQ(o, base)
	}
	DECQ(paramAddr("windows"))
	JNZ(LabelRef(loop))
	VZEROUPPER()
	RET()
}

// sumProducts: out[i] = Σ_t a[aOff[t]+i]·b[bOff[t]+i] for i < n (n a
// multiple of 8), 32 outputs (four accumulators) at a time across all
// taps, then 8 at a time; one fused multiply-add per tap and lane.
func sumProducts() {
	vecFunc("sumProductsAVX2", "func(out *float32, n int, a, b *float32, aOff, bOff *int, taps int)",
		"sumProductsAVX2 computes SumProducts for the first n outputs, n a",
		"multiple of 8, taps > 0; the caller has checked every offset.")
	out := Load(Param("out"), GP64())
	n := Load(Param("n"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	aOff := Load(Param("aOff"), GP64())
	bOff := Load(Param("bOff"), GP64())
	taps := Load(Param("taps"), GP64())
	i, t, next, ao, bo := GP64(), GP64(), GP64(), GP64(), GP64()
	XORQ(i, i)

	// block sums w YMM-wide runs of outputs from i over every tap.
	block := func(w int, loop, tap, exit string) {
		Label(loop)
		LEAQ(Mem{Base: i, Disp: 8 * w}, next)
		CMPQ(next, n)
		JGT(LabelRef(exit))
		acc := ymms(w)
		zero(acc...)
		XORQ(t, t)
		Label(tap)
		MOVQ(Mem{Base: aOff, Index: t, Scale: 8}, ao)
		ADDQ(i, ao)
		MOVQ(Mem{Base: bOff, Index: t, Scale: 8}, bo)
		ADDQ(i, bo)
		x := ymms(w)
		for j := range x {
			VMOVUPS(at(a, ao, 32*j), x[j])
		}
		for j := range x {
			VFMADD231PS(at(b, bo, 32*j), x[j], acc[j])
		}
		INCQ(t)
		CMPQ(t, taps)
		JLT(LabelRef(tap))
		for j := range acc {
			VMOVUPS(acc[j], at(out, i, 32*j))
		}
		MOVQ(next, i)
		JMP(LabelRef(loop))
	}
	block(4, "loop32", "tap32", "loop8")
	block(1, "loop8", "tap8", "done")
	Label("done")
	VZEROUPPER()
	RET()
}

// adam: AdamUpdate for n elements (a multiple of 8), eight at a time,
// with the Go loop's operations in its order and no fused multiply-add,
// so that the bits agree with it.
func adam() {
	vecFunc("adamAVX2", "func(w, grad, m, v *float32, n int, k *[4]float32)",
		"adamAVX2 runs AdamUpdate's loop over the first n elements, n a",
		"multiple of 8; k holds lrT, b1c, b2c, eps.")
	w := Load(Param("w"), GP64())
	grad := Load(Param("grad"), GP64())
	m := Load(Param("m"), GP64())
	v := Load(Param("v"), GP64())
	n := Load(Param("n"), GP64())
	k := Load(Param("k"), GP64())
	lrT, b1c, b2c, eps := YMM(), YMM(), YMM(), YMM()
	VBROADCASTSS(Mem{Base: k}, lrT)
	VBROADCASTSS(Mem{Base: k, Disp: 4}, b1c)
	VBROADCASTSS(Mem{Base: k, Disp: 8}, b2c)
	VBROADCASTSS(Mem{Base: k, Disp: 12}, eps)
	i := GP64()
	XORQ(i, i)
	Label("adamloop")
	CMPQ(i, n)
	JGE(LabelRef("adamdone"))
	g, mv, vv, t, g2, step, den, wv := YMM(), YMM(), YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
	VMOVUPS(at(grad, i, 0), g)
	VMOVUPS(at(m, i, 0), mv)
	VMOVUPS(at(v, i, 0), vv)
	Comment("m' = m + (g − m)·b1c")
	VSUBPS(mv, g, t)
	VMULPS(b1c, t, t)
	VADDPS(t, mv, mv)
	Comment("v' = v + (g² − v)·b2c")
	VMULPS(g, g, g2)
	VSUBPS(vv, g2, g2)
	VMULPS(b2c, g2, g2)
	VADDPS(g2, vv, vv)
	VMOVUPS(mv, at(m, i, 0))
	VMOVUPS(vv, at(v, i, 0))
	Comment("w −= (m'·lrT)/(√v' + eps)")
	VMULPS(lrT, mv, step)
	VSQRTPS(vv, den)
	VADDPS(eps, den, den)
	VDIVPS(den, step, step)
	VMOVUPS(at(w, i, 0), wv)
	VSUBPS(step, wv, wv)
	VMOVUPS(wv, at(w, i, 0))
	ADDQ(Imm(8), i)
	JMP(LabelRef("adamloop"))
	Label("adamdone")
	VZEROUPPER()
	RET()
}

// repeat: for each of n pixels, load 8 source values, permute them into
// the pixel's 16 (cm used) output values and store 16; the next pixel's
// stores overwrite the excess.
func repeat() {
	vecFunc("repeatAVX2", "func(dst, src *float32, n, c, cm int, idx *[16]int32)",
		"repeatAVX2 runs Repeat's loop over the first n pixels; the caller",
		"makes sure 8 values can be read at the last pixel's source and 16",
		"written at its destination. idx[q] is the source channel of output q.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	c := Load(Param("c"), GP64())
	cm := Load(Param("cm"), GP64())
	idx := Load(Param("idx"), GP64())
	lo, hi := YMM(), YMM()
	VMOVDQU(Mem{Base: idx}, lo)
	VMOVDQU(Mem{Base: idx, Disp: 32}, hi)
	SHLQ(Imm(2), c)  // bytes per source pixel
	SHLQ(Imm(2), cm) // bytes per output pixel
	TESTQ(n, n)
	JLE(LabelRef("repdone"))
	Label("reploop")
	x, y0, y1 := YMM(), YMM(), YMM()
	VMOVUPS(Mem{Base: src}, x)
	VPERMPS(x, lo, y0)
	VPERMPS(x, hi, y1)
	VMOVUPS(y0, Mem{Base: dst})
	VMOVUPS(y1, Mem{Base: dst, Disp: 32})
	ADDQ(c, src)
	ADDQ(cm, dst)
	DECQ(n)
	JNZ(LabelRef("reploop"))
	Label("repdone")
	VZEROUPPER()
	RET()
}

// biasRelu: dst = max(0, x + b) eight at a time (biasReluAVX2), or
// without the ReLU dst = x + b (biasAddAVX2). VMAXPS returns its second
// source operand in Intel order (here x + b) when either is NaN or both
// are zeros, so NaN and −0 pass through as in the Go loop.
func biasRelu(relu bool) {
	name, doc := "biasReluAVX2", "biasReluAVX2 runs BiasRelu over rows of c values, c a multiple of 8."
	if !relu {
		name, doc = "biasAddAVX2", "biasAddAVX2 runs BiasAdd over rows of c values, c a multiple of 8."
	}
	vecFunc(name, "func(dst, x, b *float32, rows, c int)", doc)
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	z := YMM()
	if relu {
		zero(z)
	}
	j := GP64()
	Label(name + "row")
	XORQ(j, j)
	Label(name + "col")
	s := YMM()
	VMOVUPS(at(x, j, 0), s)
	VADDPS(at(b, j, 0), s, s)
	if relu {
		Comment("Intel order: vmaxps s, zero, s")
		VMAXPS(s, z, s)
	}
	VMOVUPS(s, at(dst, j, 0))
	ADDQ(Imm(8), j)
	CMPQ(j, c)
	JLT(LabelRef(name + "col"))
	LEAQ(at(x, c, 0), x)
	LEAQ(at(dst, c, 0), dst)
	DECQ(rows)
	JNZ(LabelRef(name + "row"))
	VZEROUPPER()
	RET()
}

// biasSkipRelu: dst = max(0, (x + b) + s) eight at a time (VMAXPS as in
// biasRelu).
func biasSkipRelu() {
	vecFunc("biasSkipReluAVX2", "func(dst, x, s, b *float32, rows, c int)",
		"biasSkipReluAVX2 runs BiasSkipRelu over rows of c values, c a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	sk := Load(Param("s"), GP64())
	b := Load(Param("b"), GP64())
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	z := YMM()
	zero(z)
	j := GP64()
	Label("bsrow")
	XORQ(j, j)
	Label("bscol")
	v := YMM()
	VMOVUPS(at(x, j, 0), v)
	VADDPS(at(b, j, 0), v, v)
	VADDPS(at(sk, j, 0), v, v)
	Comment("Intel order: vmaxps v, zero, v")
	VMAXPS(v, z, v)
	VMOVUPS(v, at(dst, j, 0))
	ADDQ(Imm(8), j)
	CMPQ(j, c)
	JLT(LabelRef("bscol"))
	LEAQ(at(x, c, 0), x)
	LEAQ(at(sk, c, 0), sk)
	LEAQ(at(dst, c, 0), dst)
	DECQ(rows)
	JNZ(LabelRef("bsrow"))
	VZEROUPPER()
	RET()
}

// reluMask: the two masked copies behind Relu and ReluGrad, 32 and then
// 8 values at a time. reluAVX2 keeps x where x < 0 is false (NLT_UQ, so
// NaN and −0 pass), reluGradAVX2 keeps g where y > 0 (GT_OQ, false for
// NaN); the other lanes become +0.
func reluMask() {
	maskCopyAVX2("reluAVX2", "func(dst, x *float32, n int)",
		"reluAVX2 runs Relu over the first n values, n a multiple of 8.",
		[]string{"dst", "x"}, 0x05, "x < 0 is false (NLT_UQ: true for NaN)", "re")
	maskCopyAVX2("reluGradAVX2", "func(dx, grad, y *float32, n int)",
		"reluGradAVX2 runs ReluGrad over the first n values, n a multiple of 8.",
		[]string{"dx", "grad", "y"}, 0x1e, "y > 0 (GT_OQ: NaN gives false)", "rg")
}

// maskCopyAVX2 emits a function whose pointer parameters are ptrs (out
// first, the compared in last, and between them the values to keep when
// they are not in's own): out[i] = value[i] where pred(in[i], 0) holds
// and +0 elsewhere, for i < n, n a multiple of 8; lbl prefixes the
// labels.
func maskCopyAVX2(name, sig, doc string, ptrs []string, pred uint64, cmpDoc, lbl string) {
	vecFunc(name, sig, doc)
	regs := make([]reg.Register, len(ptrs))
	for j, p := range ptrs {
		regs[j] = Load(Param(p), GP64())
	}
	out, in := regs[0], regs[len(regs)-1]
	n := Load(Param("n"), GP64())
	z := YMM()
	zero(z)
	i := GP64()
	loopAVX2(lbl, i, n, func(nv int) {
		xs, ms := ymms(nv), ymms(nv)
		for q := range xs {
			VMOVUPS(at(in, i, 32*q), xs[q])
		}
		for q := range xs {
			Comment(cmpDoc)
			VCMPPS(Imm(pred), z, xs[q], ms[q])
			if len(regs) == 3 {
				VANDPS(at(regs[1], i, 32*q), ms[q], ms[q])
			} else {
				VANDPS(xs[q], ms[q], ms[q])
			}
			VMOVUPS(ms[q], at(out, i, 32*q))
		}
	})
	VZEROUPPER()
	RET()
}

// reluGradSum: dx = grad & (y > 0), and acc[j] += float64(dx[j]) row
// after row.
func reluGradSum() {
	vecFunc("reluGradSumAVX2", "func(dx, grad, y *float32, acc *float64, rows, c int)",
		"reluGradSumAVX2 runs ReluGradSum over rows of c values, c a multiple",
		"of 8.")
	dx := Load(Param("dx"), GP64())
	grad := Load(Param("grad"), GP64())
	y := Load(Param("y"), GP64())
	acc := Load(Param("acc"), GP64())
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	z := YMM()
	zero(z)
	j := GP64()
	Label("rgrow")
	XORQ(j, j)
	Label("rgcol")
	yv, d := YMM(), YMM()
	VMOVUPS(at(y, j, 0), yv)
	Comment("y > 0 (GT_OQ: NaN gives false)")
	VCMPPS(Imm(0x1e), z, yv, d)
	VANDPS(at(grad, j, 0), d, d)
	VMOVUPS(d, at(dx, j, 0))
	addSums(d, acc, j)
	ADDQ(Imm(8), j)
	CMPQ(j, c)
	JLT(LabelRef("rgcol"))
	LEAQ(at(grad, c, 0), grad)
	LEAQ(at(dx, c, 0), dx)
	LEAQ(at(y, c, 0), y)
	DECQ(rows)
	JNZ(LabelRef("rgrow"))
	VZEROUPPER()
	RET()
}

// argmaxWindow: eight channels at a time, the best value and its index
// from the first cell, then for each later cell blend in the values that
// are strictly greater (VCMPPS GT_OQ: false for NaN) and their indices
// base + offs[k] + j + lane.
func argmaxWindow(iota8 Mem) {
	vecFunc("argmaxWindowAVX2", "func(dst *float32, arg *int32, x *float32, offs *int, cells, c int, base int32, windows, step int)",
		"argmaxWindowAVX2 runs ArgmaxWindows for c a multiple of 8, cells,",
		"windows ≥ 1.")
	dst := Load(Param("dst"), GP64())
	arg := Load(Param("arg"), GP64())
	x := Load(Param("x"), GP64())
	offs := Load(Param("offs"), GP64())
	cells := Load(Param("cells"), GP64())
	c := Load(Param("c"), GP64())
	base := GP64()
	MOVLQSX(paramAddr("base"), base)
	lanes := YMM()
	VMOVDQU(iota8, lanes)
	j, o, idx, cell := GP64(), GP64(), GP64(), GP64()
	Comment("next window from here")
	Label("amwin")
	XORQ(j, j)

	// index sets v to base + o + lane for the eight lanes.
	index := func(v reg.VecVirtual) {
		LEAQ(Mem{Base: o, Index: base, Scale: 1}, idx)
		VMOVQ(idx, v.AsX())
		VPBROADCASTD(v.AsX(), v)
		VPADDD(lanes, v, v)
	}

	Label("amcol")
	best, bestArg := YMM(), YMM()
	MOVQ(Mem{Base: offs}, o)
	ADDQ(j, o)
	VMOVUPS(at(x, o, 0), best)
	index(bestArg)
	MOVQ(U32(1), cell)
	Label("amcell")
	CMPQ(cell, cells)
	JGE(LabelRef("amstore"))
	v, gt, vArg := YMM(), YMM(), YMM()
	MOVQ(Mem{Base: offs, Index: cell, Scale: 8}, o)
	ADDQ(j, o)
	VMOVUPS(at(x, o, 0), v)
	Comment("v > best")
	VCMPPS(Imm(0x1e), best, v, gt)
	VBLENDVPS(gt, v, best, best)
	index(vArg)
	VBLENDVPS(gt, vArg, bestArg, bestArg)
	INCQ(cell)
	JMP(LabelRef("amcell"))
	Label("amstore")
	VMOVUPS(best, at(dst, j, 0))
	VMOVDQU(bestArg, at(arg, j, 0))
	ADDQ(Imm(8), j)
	CMPQ(j, c)
	JLT(LabelRef("amcol"))
	nextWindow("amwin", dst, arg, x, base, c, o)
}

// maxWindow: VMAXPS with the new cell's values as the first source (Intel
// order) returns them only when strictly greater, the running maximum
// otherwise (also on NaN).
func maxWindow() {
	vecFunc("maxWindowAVX2", "func(dst, x *float32, offs *int, cells, c, windows, step int)",
		"maxWindowAVX2 runs MaxWindows for c a multiple of 8, cells, windows",
		"≥ 1.")
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	offs := Load(Param("offs"), GP64())
	cells := Load(Param("cells"), GP64())
	c := Load(Param("c"), GP64())
	j, o, cell := GP64(), GP64(), GP64()
	Comment("next window from here")
	Label("mwwin")
	XORQ(j, j)
	Label("mwcol")
	best := YMM()
	MOVQ(Mem{Base: offs}, o)
	ADDQ(j, o)
	VMOVUPS(at(x, o, 0), best)
	MOVQ(U32(1), cell)
	Label("mwcell")
	CMPQ(cell, cells)
	JGE(LabelRef("mwstore"))
	v := YMM()
	MOVQ(Mem{Base: offs, Index: cell, Scale: 8}, o)
	ADDQ(j, o)
	VMOVUPS(at(x, o, 0), v)
	Comment("Intel order: vmaxps best, v(new), best(running)")
	VMAXPS(best, v, best)
	INCQ(cell)
	JMP(LabelRef("mwcell"))
	Label("mwstore")
	VMOVUPS(best, at(dst, j, 0))
	ADDQ(Imm(8), j)
	CMPQ(j, c)
	JLT(LabelRef("mwcol"))
	nextWindow("mwwin", dst, nil, x, nil, c, o)
}

// gemv: 64 columns (eight accumulators) at a time: for each p, broadcast
// x[p] and fuse it with row p's 64 values; then 8 columns at a time.
func gemv() {
	vecFunc("gemvAVX2", "func(y, x, w *float32, k, n, ldw int)",
		"gemvAVX2 runs Gemv for the first n columns, n a multiple of 8, k ≥ 1.")
	y := Load(Param("y"), GP64())
	x := Load(Param("x"), GP64())
	w := Load(Param("w"), GP64())
	k := Load(Param("k"), GP64())
	n := Load(Param("n"), GP64())
	ldw := Load(Param("ldw"), GP64())
	SHLQ(Imm(2), ldw) // bytes per row
	j, next, row, p := GP64(), GP64(), GP64(), GP64()
	XORQ(j, j)

	block := func(nv int, loop, rowLoop, exit string) {
		Label(loop)
		LEAQ(Mem{Base: j, Disp: 8 * nv}, next)
		CMPQ(next, n)
		JGT(LabelRef(exit))
		acc := ymms(nv)
		zero(acc...)
		LEAQ(at(w, j, 0), row)
		XORQ(p, p)
		Label(rowLoop)
		xp := YMM()
		VBROADCASTSS(at(x, p, 0), xp)
		for i := range acc {
			VFMADD231PS(Mem{Base: row, Disp: 32 * i}, xp, acc[i])
		}
		ADDQ(ldw, row)
		INCQ(p)
		CMPQ(p, k)
		JLT(LabelRef(rowLoop))
		for i := range acc {
			VMOVUPS(acc[i], at(y, j, 32*i))
		}
		MOVQ(next, j)
		JMP(LabelRef(loop))
	}
	block(8, "gv64", "gv64row", "gv8")
	block(1, "gv8", "gv8row", "gvdone")
	Label("gvdone")
	VZEROUPPER()
	RET()
}

// mulAdd: acc[i] += a[i]·b[i], 32 and then 8 at a time, fused.
func mulAdd() {
	vecFunc("mulAddAVX2", "func(acc, a, b *float32, n int)",
		"mulAddAVX2 runs MulAdd over the first n elements, n a multiple of 8.")
	acc := Load(Param("acc"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	n := Load(Param("n"), GP64())
	i := GP64()
	loopAVX2("ma", i, n, func(nv int) {
		av, sv := ymms(nv), ymms(nv)
		for q := range av {
			VMOVUPS(at(a, i, 32*q), av[q])
		}
		for q := range sv {
			VMOVUPS(at(acc, i, 32*q), sv[q])
		}
		for q := range sv {
			VFMADD231PS(at(b, i, 32*q), av[q], sv[q])
		}
		for q := range sv {
			VMOVUPS(sv[q], at(acc, i, 32*q))
		}
	})
	VZEROUPPER()
	RET()
}

// add: dst = a + b, 32 and then 8 values at a time (dst may be a or b).
func add() {
	vecFunc("addAVX2", "func(dst, a, b *float32, n int)",
		"addAVX2 runs Add over the first n elements, n a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	n := Load(Param("n"), GP64())
	i := GP64()
	loopAVX2("ad", i, n, func(nv int) {
		av := ymms(nv)
		for q := range av {
			VMOVUPS(at(a, i, 32*q), av[q])
		}
		for q := range av {
			VADDPS(at(b, i, 32*q), av[q], av[q])
		}
		for q := range av {
			VMOVUPS(av[q], at(dst, i, 32*q))
		}
	})
	VZEROUPPER()
	RET()
}

// copyRows: rows of n values (n a multiple of 8) from src (rows
// srcStride apart) to dst (dstStride apart), 32 then 8 at a time.
func copyRows() {
	vecFunc("copyRowsAVX2", "func(dst *float32, dstStride int, src *float32, srcStride, n, rows int)",
		"copyRowsAVX2 runs CopyRows over rows ≥ 1 of n values, n ≥ 8 a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstStride"), GP64())
	src := Load(Param("src"), GP64())
	ss := Load(Param("srcStride"), GP64())
	n := Load(Param("n"), GP64())
	rows := Load(Param("rows"), GP64())
	i := GP64()
	Label("cprow")
	loopAVX2("cp", i, n, func(nv int) {
		v := ymms(nv)
		for q := range v {
			VMOVUPS(at(src, i, 32*q), v[q])
		}
		for q := range v {
			VMOVUPS(v[q], at(dst, i, 32*q))
		}
	})
	LEAQ(at(src, ss, 0), src)
	LEAQ(at(dst, ds, 0), dst)
	DECQ(rows)
	JNZ(LabelRef("cprow"))
	VZEROUPPER()
	RET()
}

// loopAVX2 emits a loop over the elements i < n (n a multiple of 8)
// from i = 0: group(4) for each 32 elements at i, then group(1) for
// each 8 left; lbl prefixes its labels.
func loopAVX2(lbl string, i reg.GPVirtual, n reg.Register, group func(nv int)) {
	next := GP64()
	XORQ(i, i)
	block := func(nv int, loop, exit string) {
		Label(loop)
		LEAQ(Mem{Base: i, Disp: 8 * nv}, next)
		CMPQ(next, n)
		JGT(LabelRef(exit))
		group(nv)
		MOVQ(next, i)
		JMP(LabelRef(loop))
	}
	block(4, lbl+"32", lbl+"8")
	block(1, lbl+"8", lbl+"done")
	Label(lbl + "done")
}

// argmaxReluGradSum: for each of cols pooled cells (c values of grad, z
// and arg) and each of its rep input positions in turn (c values of dx,
// offsets base, base + c, …): dx = grad where arg equals the position's
// offset and z > 0, then +0 + dx (a −0 becomes +0, as the scatter's
// 0 + g does), and acc[j] += float64(dx[j]) position after position.
func argmaxReluGradSum(iota8 Mem) {
	vecFunc("argmaxReluGradSumAVX2", "func(dx, grad, z *float32, arg *int32, acc *float64, cols, rep, c int, base int32)",
		"argmaxReluGradSumAVX2 runs ArgmaxReluGradSum for cols, rep ≥ 1 and c a",
		"multiple of 8.")
	f := loadArgmaxReluGrad()
	lanes, zz := YMM(), YMM()
	VMOVDQU(iota8, lanes)
	zero(zz)
	idx := GP64()
	f.loops(func(j reg.GPVirtual) {
		Label("aglane")
		zv, m, eq, iv, d := YMM(), YMM(), YMM(), YMM(), YMM()
		VMOVUPS(at(f.z, j, 0), zv)
		Comment("z > 0 (GT_OQ: NaN gives false)")
		VCMPPS(Imm(0x1e), zz, zv, m)
		Comment("arg == base + j + lane")
		LEAQ(Mem{Base: j, Index: f.base, Scale: 1}, idx)
		VMOVQ(idx, iv.AsX())
		VPBROADCASTD(iv.AsX(), iv)
		VPADDD(lanes, iv, iv)
		VPCMPEQD(at(f.arg, j, 0), iv, eq)
		VANDPS(eq, m, m)
		VANDPS(at(f.grad, j, 0), m, d)
		VADDPS(zz, d, d)
		VMOVUPS(d, at(f.dx, j, 0))
		addSums(d, f.acc, j)
		ADDQ(Imm(8), j)
		CMPQ(j, f.c)
		JLT(LabelRef("aglane"))
	})
}

// argmaxReluGrad holds the parameters of an ArgmaxReluGradSum routine
// in registers (base sign-extended).
type argmaxReluGrad struct {
	dx, grad, z, arg, acc, cols, rep, c reg.Register
	base                                reg.GPVirtual
}

func loadArgmaxReluGrad() argmaxReluGrad {
	var f argmaxReluGrad
	for _, p := range []struct {
		r    *reg.Register
		name string
	}{{&f.dx, "dx"}, {&f.grad, "grad"}, {&f.z, "z"}, {&f.arg, "arg"}, {&f.acc, "acc"}, {&f.cols, "cols"}, {&f.rep, "rep"}, {&f.c, "c"}} {
		*p.r = Load(Param(p.name), GP64())
	}
	f.base = GP64()
	MOVLQSX(paramAddr("base"), f.base)
	return f
}

// loops emits the two outer loops of an ArgmaxReluGradSum routine around
// position, which handles one input position's c channels with j
// running from 0: over the pooled cells, and over each cell's rep
// positions (dx advancing c values and base c offsets per position, grad,
// z and arg c values per cell); then returns.
func (f argmaxReluGrad) loops(position func(j reg.GPVirtual)) {
	r, j := GP64(), GP64()
	Label("agcol")
	XORQ(r, r)
	Label("agpos")
	XORQ(j, j)
	position(j)
	Comment("next position")
	LEAQ(at(f.dx, f.c, 0), f.dx)
	ADDQ(f.c, f.base)
	INCQ(r)
	CMPQ(r, f.rep)
	JLT(LabelRef("agpos"))
	Comment("next pooled cell")
	LEAQ(at(f.grad, f.c, 0), f.grad)
	LEAQ(at(f.z, f.c, 0), f.z)
	LEAQ(at(f.arg, f.c, 0), f.arg)
	DECQ(f.cols)
	JNZ(LabelRef("agcol"))
	VZEROUPPER()
	RET()
}

// addSums adds the eight floats of d, as float64, to acc[j:j+8].
func addSums(d reg.VecVirtual, acc, j reg.Register) {
	lo, hi := YMM(), YMM()
	VCVTPS2PD(d.AsX(), lo)
	VEXTRACTF128(Imm(1), d, hi.AsX())
	VCVTPS2PD(hi.AsX(), hi)
	accAt := func(disp int) Mem { return Mem{Base: acc, Index: j, Scale: 8, Disp: disp} }
	VADDPD(accAt(0), lo, lo)
	VADDPD(accAt(32), hi, hi)
	VMOVUPD(lo, accAt(0))
	VMOVUPD(hi, accAt(32))
}
