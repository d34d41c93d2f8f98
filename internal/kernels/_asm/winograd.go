package main

// The tile transforms of the Winograd convolutions F(2×2, 5×5), F(4×4,
// 5×5) and F(4×4, 3×3) (see package kernels' winograd.go for the
// algorithm and the matrices). One vector register holds the same tile
// cell of consecutive channels, which are contiguous in the
// channels-last layouts the callers use: the AVX2 routines take eight
// channels at a time (whole groups only; Go does the rest), the AVX-512
// ones sixteen, then eight of the last n mod 16 in YMM registers, and
// the last n mod 8 in the same code under a k-mask (masked loads read
// zeros and do not fault past the end, masked stores leave the other
// lanes' memory alone), so no channel is left to Go.
//
// The code is unrolled from the constant matrices below: a coefficient of
// ±1 becomes an add or a subtract, any other one a (negated) fused
// multiply-add with the coefficient's magnitude. The magnitudes live in
// a table of 32-byte vectors; the AVX2 routines load those they use
// into YMM registers once per call (ymmConsts: at most seven, beside
// eight cells and a result), the AVX-512 ones broadcast them into ZMM
// registers, and the AVX-512 routines' eight-channel groups, confined to
// Y0–Y15, read them from the table as memory operands. Both
// widths emit the same operations in the same order, so every lane's
// result has the same bits on either path. Every routine works in place
// in its transformed buffer (the input transform writes its column pass
// where the result goes, the output transform overwrites its products),
// so none needs a stack frame.

import (
	"fmt"
	"slices"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// winoBT is Bᵀ, the input transform (6×6); winoAT is Aᵀ, the output
// transform (2×6). They must equal kernels.winoBT and kernels.winoAT
// (the package's tests check the generated code against them).
var (
	winoBT = [][]int{
		{4, 0, -5, 0, 1, 0},
		{0, 4, 4, -1, -1, 0},
		{0, -4, 4, 1, -1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoAT = [][]int{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 1},
	}
)

func winograd() {
	vecs := GLOBL("winoConsts", RODATA|NOPTR)
	k := map[int]Mem{}
	for _, rows := range [][][]int{winoBT, winoAT, wino8BT, wino8AT, wino43AT} {
		for _, row := range rows {
			for _, c := range row {
				if m := max(c, -c); m > 1 && k[m].Base == nil {
					off := 32 * len(k)
					for l := 0; l < 8; l++ {
						DATA(off+4*l, F32(float32(m)))
					}
					k[m] = vecs.Offset(off)
				}
			}
		}
	}
	// F(4×4, 3×3) shares F(2×2, 5×5)'s input transform (bt nil here).
	for _, w := range []*width{{"AVX2", false, k}, {"AVX512", true, k}} {
		for _, r := range []struct {
			suffix string
			bt, at [][]int
		}{{"", winoBT, winoAT}, {"8", wino8BT, wino8AT}, {"43", nil, wino43AT}} {
			if r.bt != nil {
				winoInput("winoInput"+r.suffix+w.suffix, r.bt, w)
			}
			for _, stream := range []string{"", "Stream"} {
				winoOutput("winoOutput"+r.suffix+stream+w.suffix, r.at, w, nil, stream != "")
				for _, ep := range outEpilogues {
					winoOutput("winoOutput"+r.suffix+ep.name+stream+w.suffix, r.at, w, &ep, stream != "")
				}
			}
			winoOutputGrad("winoOutputGrad"+r.suffix+w.suffix, r.at, w)
		}
	}
}

// width is one register width of the transforms: "AVX2" (YMM, eight
// channels per group, n8 whole groups) or "AVX512" (ZMM, sixteen, n
// channels with a masked last group). table holds the constants'
// 32-byte vectors.
type width struct {
	suffix string
	wide   bool
	table  map[int]Mem
}

// lanes is what a pass needs of one group of channels: fresh vector
// registers, the constants by magnitude (table vectors or registers),
// the mask of the group's lanes (nil: all of them), and whether the
// group's results may be stored streaming (a whole group of the width's
// own registers in a routine that streams: see width.loop).
type lanes struct {
	vec    func() reg.VecVirtual
	k      map[int]Op
	mask   reg.OpmaskVirtual
	stream bool
}

func (l *lanes) load(m Mem, v reg.VecVirtual) {
	if l.mask == nil {
		VMOVUPS(m, v)
		return
	}
	VMOVUPS_Z(m, l.mask, v)
}

func (l *lanes) store(v reg.VecVirtual, m Mem) {
	if l.stream {
		VMOVNTPS(v, m)
		return
	}
	if l.mask == nil {
		VMOVUPS(v, m)
		return
	}
	VMOVUPS(v, l.mask, m)
}

// sig is the routine's Go signature with its channel count: n8 groups
// of eight (AVX2) or n channels (AVX-512).
func (w *width) sig(s string) string {
	if w.wide {
		return s + " n int)"
	}
	return s + " n8 int)"
}

// channels is the doc's phrase for the channels a call transforms.
func (w *width) channels() string {
	if w.wide {
		return "n channels (n ≥ 1; sixteen at a time, then eight, the last n mod 8 under a mask)"
	}
	return "8·n8 channels (n8 ≥ 1)"
}

// tableOps returns the constants' table vectors by magnitude, as the
// operands of the AVX2 instructions (lanes.k).
func (w *width) tableOps() map[int]Op {
	ops := map[int]Op{}
	for m, v := range w.table {
		ops[m] = v
	}
	return ops
}

// magnitudes returns the magnitudes other than 1 of the coefficients of
// mats, in the order they first appear.
func magnitudes(mats [][][]int) []int {
	var ms []int
	for _, mat := range mats {
		for _, row := range mat {
			for _, c := range row {
				if m := max(c, -c); m > 1 && !slices.Contains(ms, m) {
					ms = append(ms, m)
				}
			}
		}
	}
	return ms
}

// ymmConsts loads the constants of mats for an AVX2 routine into YMM
// registers, once, before the loop. In registers, a pass's multiply-adds
// read memory only for its cells: reading the constants from the table
// had made the AVX2 transforms of F(4×4, 3×3) a sixth to a third slower
// than the AVX-512 ones, which hold them in registers
// (BenchmarkWinoTransforms, Zen 4). They must fit beside what a pass
// holds, the widest line's cells and a result, plus extra for an
// epilogue, in sixteen: every routine of the three schemes does (the
// most, F(4×4, 5×5)'s input transform, holds seven constants, eight
// cells and a result); a matrix that did not would stop the generator
// here rather than fail register allocation.
func (w *width) ymmConsts(mats [][][]int, extra int) map[int]Op {
	ms := magnitudes(mats)
	widest := 0
	for _, mat := range mats {
		widest = max(widest, len(mat[0]))
	}
	if need := len(ms) + widest + 1 + extra; need > 16 {
		panic(fmt.Sprintf("winograd: %d constants, %d cells, a result and %d epilogue registers need %d YMM registers", len(ms), widest, extra, need))
	}
	k := map[int]Op{}
	for _, m := range ms {
		y := YMM()
		VMOVUPS(w.table[m], y)
		k[m] = y
	}
	return k
}

// loop emits the loop over the channel groups from dst and src (count
// as the signature gives it), body being one group's code from the
// pointers' current values; the pointers in more move on with them.
// The AVX2 loop takes the constants of mats as ymmConsts gives them,
// extra being the registers body's epilogue holds. The AVX-512 loop
// first broadcasts the magnitudes other than 1 of mats into registers,
// runs body unmasked while sixteen channels or more remain, then on
// eight in YMM registers if eight or more remain, then once under the
// mask of the rest.
//
// With stream, the sixteen-channel groups of the AVX-512 loop are
// marked for streaming stores (lanes.stream), which need their addresses
// aligned to 64 bytes: the caller sees to it, and to a channel count
// that leaves no eight-channel or masked group (whose stores stay
// plain). The AVX2 routines that stream have their own loop
// (winoOutputPairs).
func (w *width) loop(name string, dst, src, count reg.Register, more []reg.Register, mats [][][]int, extra int, stream bool, body func(l *lanes)) {
	step := func(bytes int) {
		for _, r := range append([]reg.Register{src, dst}, more...) {
			ADDQ(Imm(uint64(bytes)), r)
		}
	}
	tableOps := w.tableOps()
	if !w.wide {
		k := w.ymmConsts(mats, extra)
		Label(name + "loop")
		body(&lanes{vec: YMM, k: k})
		step(32)
		DECQ(count)
		JNZ(LabelRef(name + "loop"))
		VZEROUPPER()
		RET()
		return
	}
	k := map[int]Op{}
	for _, m := range magnitudes(mats) {
		z := ZMM()
		VBROADCASTSS(w.table[m], z)
		k[m] = z
	}
	Label(name + "loop")
	CMPQ(count, Imm(16))
	JL(LabelRef(name + "tail"))
	body(&lanes{vec: ZMM, k: k, stream: stream})
	step(64)
	SUBQ(Imm(16), count)
	JMP(LabelRef(name + "loop"))
	// Eight or more left: eight in YMM registers (unmasked, the constants
	// from the table), as a masked 16-lane group measured slower than a
	// whole one (c = 24 against c = 32, BenchmarkWinoTransforms). These
	// are AVX2 instructions only on Y0–Y15 (above, EVEX needs
	// AVX-512VL): the seven constants and a pass's nine leave them that
	// room, which kernels' TestWinoAVX512YMMInVEXRange checks.
	Label(name + "tail")
	CMPQ(count, Imm(8))
	JL(LabelRef(name + "mask"))
	body(&lanes{vec: YMM, k: tableOps})
	step(32)
	SUBQ(Imm(8), count)
	Label(name + "mask")
	TESTQ(count, count)
	JZ(LabelRef(name + "done"))
	mask := K()
	tailMask(count.(reg.GPVirtual), mask)
	body(&lanes{vec: ZMM, k: k, mask: mask})
	Label(name + "done")
	VZEROUPPER()
	RET()
}

// lincomb sets out = Σ_j row[j]·in[j], the magnitudes other than 1 read
// from k.
func lincomb(out reg.VecVirtual, row []int, in []reg.VecVirtual, k map[int]Op) {
	// Start from a term with coefficient 1 if there is one, else from
	// one with a positive coefficient.
	first := -1
	for j, c := range row {
		if c == 1 {
			first = j
			break
		}
	}
	if first < 0 {
		for j, c := range row {
			if c > 1 {
				first = j
				break
			}
		}
	}
	if first < 0 {
		panic("winograd: a row without a positive coefficient")
	}
	if row[first] == 1 {
		VMOVAPS(in[first], out)
	} else {
		VMULPS(k[row[first]], in[first], out)
	}
	for j, c := range row {
		switch {
		case j == first || c == 0:
		case c == 1:
			VADDPS(in[j], out, out)
		case c == -1:
			VSUBPS(in[j], out, out)
		case c > 0:
			VFMADD231PS(k[c], in[j], out)
		default:
			VFNMADD231PS(k[-c], in[j], out)
		}
	}
}

// wino8BT (Bᵀ, 8×8) and wino8AT (Aᵀ, 4×8) are the transforms of F(4×4,
// 5×5); they must equal kernels.wino8BT and kernels.wino8AT.
var (
	wino8BT = [][]int{
		{4, 0, -21, 0, 21, 0, -4, 0},
		{0, -4, -4, 17, 17, -4, -4, 0},
		{0, 4, -4, -17, 17, 4, -4, 0},
		{0, 2, 1, -10, -5, 8, 4, 0},
		{0, -2, 1, 10, -5, -8, 4, 0},
		{0, 4, 8, -5, -10, 1, 2, 0},
		{0, -4, 8, 5, -10, -1, 2, 0},
		{0, -4, 0, 21, 0, -21, 0, 4},
	}
	wino8AT = [][]int{
		{1, 1, 1, 1, 1, 8, 8, 0},
		{0, 1, -1, 2, -2, 4, -4, 0},
		{0, 1, 1, 4, 4, 2, 2, 0},
		{0, 1, -1, 8, -8, 1, -1, 1},
	}
)

// wino43AT (Aᵀ, 4×6) is the output transform of F(4×4, 3×3), whose Bᵀ
// is winoBT; it must equal kernels.wino43.at.
var wino43AT = [][]int{
	{1, 1, 1, 1, 1, 0},
	{0, 1, -1, 2, -2, 0},
	{0, 1, 1, 4, 4, 0},
	{0, 1, -1, 8, -8, 1},
}

// pass emits one pass of a separable transform over lines lines: each
// line loads len(mat[0]) cells at stride inStride from in and stores
// Σ_c mat[r][c]·cell[c] for each row r of mat at stride outStride from
// out; in and out then move on by inStep and outStep. With out the same
// register as in (a pass in place), each line's cells are all loaded
// before any is stored, and the register moves on once.
//
// With ep, each result goes through the epilogue (passEpilogue.apply)
// before it is stored, its skip value read at the same offset from
// ep.skip as the result's from out (ep.skip moves on with out).
func pass(v *lanes, lines int, mat [][]int, in, inStride, inStep, out, outStride, outStep reg.Register, ep *passEpilogue) {
	if out == in && v.stream {
		panic("winograd: a pass in place must not stream")
	}
	for l := 0; l < lines; l++ {
		cells := make([]reg.VecVirtual, len(mat[0]))
		for c := range cells {
			cells[c] = v.vec()
		}
		inPlace := out == in && outStride == inStride
		count := len(cells)
		if inPlace {
			count = max(count, len(mat)) // the stores' addresses too
		}
		ins := cellsAt(in, inStride, count)
		for c := range cells {
			v.load(ins[c], cells[c])
		}
		outs := ins
		if !inPlace {
			outs = cellsAt(out, outStride, len(mat))
		}
		var skips []Mem
		if ep != nil && ep.skip != nil {
			skips = cellsAt(ep.skip, outStride, len(mat))
		}
		for r := range mat {
			sum := v.vec()
			lincomb(sum, mat[r], cells, v.k)
			if ep != nil {
				var skip Mem
				if skips != nil {
					skip = skips[r]
				}
				ep.apply(v, sum, skip)
			}
			v.store(sum, outs[r])
		}
		if l < lines-1 {
			ADDQ(inStep, in)
			if out != in {
				ADDQ(outStep, out)
			}
			if ep != nil && ep.skip != nil {
				ADDQ(outStep, ep.skip)
			}
		}
	}
}

// winoArgs loads the arguments dst, src and the channel count (n8 or n)
// and the strides named, turned from float32 elements into bytes.
func winoArgs(w *width, strides ...string) (dst, src, count reg.Register, st []reg.Register) {
	dst = Load(Param("dst"), GP64())
	src = Load(Param("src"), GP64())
	if w.wide {
		count = Load(Param("n"), GP64())
	} else {
		count = Load(Param("n8"), GP64())
	}
	for _, name := range strides {
		r := Load(Param(name), GP64())
		SHLQ(Imm(2), r)
		st = append(st, r)
	}
	return dst, src, count, st
}

// cellsAt returns the addresses of n cells at stride s (bytes, in a
// register) from base b: cells 3q … 3q+2 from b + 3q·s (computed into
// fresh registers).
func cellsAt(b, s reg.Register, n int) []Mem {
	var cells []Mem
	base := b
	for j := 0; j < n; j++ {
		if j%3 == 0 && j > 0 {
			next := GP64()
			LEAQ(Mem{Base: base, Index: s, Scale: 2}, next)
			ADDQ(s, next)
			base = next
		}
		if j%3 == 0 {
			cells = append(cells, Mem{Base: base})
		} else {
			cells = append(cells, Mem{Base: base, Index: s, Scale: uint8(j % 3)})
		}
	}
	return cells
}

// winoInput: v[ξ=n·i+j] = (Bᵀ·d·B)[i][j] for an n×n tile d, one group
// of channels at a time: cell (i, j) of channel c at src + i·rowStride +
// j·colStride + c, result ξ at dst + ξ·dstStride + c (strides in float32
// elements). The column pass is written to dst and read back by the row
// pass.
func winoInput(name string, bt [][]int, w *width) {
	n := len(bt)
	vecFunc(name, w.sig("func(dst *float32, dstStride int, src *float32, rowStride, colStride int,"),
		fmt.Sprintf("%s transforms one %d×%d input tile of %s.", name, n, n, w.channels()))
	dst, src, count, st := winoArgs(w, "dstStride", "rowStride", "colStride")
	ds, rs, cs := st[0], st[1], st[2]
	dsRow := GP64() // one row of the result: n cells
	IMUL3Q(Imm(uint64(n)), ds, dsRow)
	p, d := GP64(), GP64()

	w.loop(name, dst, src, count, nil, [][][]int{bt}, 0, false, func(l *lanes) {
		// Columns: t[·][j] = Bᵀ·d[·][j], to cells n·i+j of dst; then
		// rows: v[i][·] = t[i][·]·B, over dst's row i.
		MOVQ(src, p)
		MOVQ(dst, d)
		pass(l, n, bt, p, rs, cs, d, dsRow, ds, nil)
		MOVQ(dst, d)
		pass(l, n, bt, d, ds, dsRow, d, ds, dsRow, nil)
	})
}

// winoOutput: y = Aᵀ·m·A (m×m) for the n×n products, one group of
// channels at a time: product ξ = n·i+j of channel c at src + ξ·srcStride
// + c, y[a][b] at dst + a·rowStride + b·colStride + c (strides in float32
// elements). The row pass writes its results over the first m cells of
// each row of src, which the column pass reads: src is left changed.
// With ep, each y[a][b] goes through the epilogue before it is stored:
// + bias[c], then + skip at y's offset from dst (BiasSkipRelu), then the
// ReLU, in the order of the vector loops that would otherwise run over
// the outputs afterwards (biasRelu, biasSkipRelu), and so with their
// bits.
//
// With stream, the outputs are stored with non-temporal stores (straight
// to memory, not kept in the caches: for outputs too large to be read
// back from them) of whole 64-byte lines, which need dst, rowStride and
// colStride aligned to 64 bytes and the channels a multiple of 16; the
// callers check. The bits are the same.
func winoOutput(name string, at [][]int, w *width, ep *outEpilogue, stream bool) {
	n, m := len(at[0]), len(at)
	sig, doc := "func(dst *float32, rowStride, colStride int, src *float32, srcStride int,", ""
	if ep != nil {
		sig += " bias, skip *float32,"
		switch {
		case !ep.bias:
			doc = fmt.Sprintf(", then %s with skip (read at dst's offsets from skip; bias unused)", ep.does)
		case ep.skip:
			doc = fmt.Sprintf(", then %s with bias and skip (read at dst's offsets from skip)", ep.does)
		default:
			doc = fmt.Sprintf(", then %s with bias (skip unused)", ep.does)
		}
	}
	if stream {
		doc += ", stored streaming (dst and the strides aligned to 64 bytes, the channels a multiple of 16)"
	}
	vecFunc(name, w.sig(sig),
		fmt.Sprintf("%s transforms one tile of %d×%d products of %s to its %d×%d outputs%s, overwriting part of src.", name, n, n, w.channels(), m, m, doc))
	dst, src, count, st := winoArgs(w, "rowStride", "colStride", "srcStride")
	rs, cs, ss := st[0], st[1], st[2]
	ssRow := GP64()
	IMUL3Q(Imm(uint64(n)), ss, ssRow)
	p, y := GP64(), GP64()
	var more []reg.Register
	var bias, skip, sp reg.Register
	if ep != nil {
		bias = Load(Param("bias"), GP64())
		more = append(more, bias)
		if ep.skip {
			skip, sp = Load(Param("skip"), GP64()), GP64()
			more = append(more, skip)
		}
	}

	if stream && !w.wide {
		winoOutputPairs(name, at, w, ep, dst, src, count, rs, cs, ss, ssRow, bias, skip)
		return
	}
	w.loop(name, dst, src, count, more, [][][]int{at}, epilogueRegs(ep), stream, func(l *lanes) {
		// Rows: s[i][b] = m[i][·]·A[·][b], over cells n·i+b (b < m),
		// stored plainly (read back at once); then columns: y[a][b] =
		// Aᵀ[a]·s[·][b].
		rows := *l
		rows.stream = false
		MOVQ(src, p)
		pass(&rows, n, at, p, ss, ssRow, p, ss, ssRow, nil)
		MOVQ(src, p)
		MOVQ(dst, y)
		var pe *passEpilogue
		if ep != nil {
			pe = ep.inPass(l, Mem{Base: bias})
			if ep.skip {
				MOVQ(skip, sp)
				pe.skip = sp
			}
		}
		pass(l, m, at, p, ssRow, ss, y, rs, cs, pe)
	})
}

// winoOutputPairs is the loop of an AVX2 output transform that streams:
// two groups of eight channels at a time (n8 even), so that the two
// halves of each output's 64-byte line are stored one after the other.
// One group at a time, as the other routines go, a line's halves are
// stored a whole group's outputs apart, and the write-combining buffers
// go to memory part-filled: AVX2 routines that streamed so took the
// benchmark ResNet's batch-128 forward on Zen 4 from 11.6 ms to 14.3.
// Each group's row pass runs as in winoOutput; the column passes of the
// two groups then alternate line by line.
func winoOutputPairs(name string, at [][]int, w *width, ep *outEpilogue, dst, src, count, rs, cs, ss, ssRow, bias, skip reg.Register) {
	n, m := len(at[0]), len(at)
	k := w.ymmConsts([][][]int{at}, epilogueRegs(ep))
	rows := &lanes{vec: YMM, k: k}
	out := &lanes{vec: YMM, k: k, stream: true}
	p, y := GP64(), GP64()
	var sp reg.Register
	if ep != nil && ep.skip {
		sp = GP64()
	}
	Label(name + "loop")
	for half := range 2 {
		LEAQ(Mem{Base: src, Disp: 32 * half}, p)
		pass(rows, n, at, p, ss, ssRow, p, ss, ssRow, nil)
	}
	MOVQ(src, p)
	MOVQ(dst, y)
	if sp != nil {
		MOVQ(skip, sp)
	}
	var pe [2]*passEpilogue
	if ep != nil {
		for half := range 2 {
			pe[half] = ep.inPass(out, Mem{Base: bias, Disp: 32 * half})
			pe[half].skip = sp
		}
	}
	// The pointers step to the second group (32 bytes on) and back.
	ptrs := []reg.Register{p, y}
	if sp != nil {
		ptrs = append(ptrs, sp)
	}
	for line := range m {
		pass(out, 1, at, p, ssRow, ss, y, rs, cs, pe[0])
		for _, r := range ptrs {
			ADDQ(Imm(32), r)
		}
		pass(out, 1, at, p, ssRow, ss, y, rs, cs, pe[1])
		for _, r := range ptrs {
			SUBQ(Imm(32), r)
		}
		if line < m-1 {
			ADDQ(ss, p)
			ADDQ(cs, y)
			if sp != nil {
				ADDQ(cs, sp)
			}
		}
	}
	for _, r := range []reg.Register{src, dst, bias, skip} {
		if r != nil {
			ADDQ(Imm(64), r)
		}
	}
	SUBQ(Imm(2), count)
	JNZ(LabelRef(name + "loop"))
	VZEROUPPER()
	RET()
}

// outEpilogue is what a fused output transform does to each output
// before it stores it.
type outEpilogue struct {
	name, does       string
	bias, skip, relu bool
}

// outEpilogues are the fused output transforms' epilogues, named like
// the vector loops whose work they take over. Skip (Add) is an input
// gradient summed into the gradient already there.
var outEpilogues = []outEpilogue{
	{"Bias", "BiasAdd", true, false, false},
	{"BiasRelu", "BiasRelu", true, false, true},
	{"BiasSkipRelu", "BiasSkipRelu", true, true, true},
	{"Skip", "Add", false, true, false},
}

// epilogueRegs is the vector registers ep takes in a pass beside the
// pass's own (see passEpilogue): the bias, the zero of the ReLU and the
// skip value loaded for its add, each where ep has it; none without ep.
func epilogueRegs(ep *outEpilogue) int {
	n := 0
	if ep != nil {
		for _, has := range []bool{ep.bias, ep.relu, ep.skip} {
			if has {
				n++
			}
		}
	}
	return n
}

// passEpilogue is an outEpilogue in a pass: the group's bias in a
// register (nil without), zero in another (for the ReLU; nil without),
// and the pointer to the skip values matching the pass's out (nil
// without a skip; apply loads the value into a third register). It
// takes at most three registers beside the pass's nine; the output
// transforms broadcast at most three constants, so an eight-channel
// group still fits in Y0–Y15.
type passEpilogue struct {
	bias, zero reg.VecVirtual
	skip       reg.Register
	relu       bool
}

// inPass returns e as a pass's epilogue for the group l: its bias loaded
// from bias into a fresh register, and zero in another for the ReLU
// (the skip pointer is the caller's to set).
func (e *outEpilogue) inPass(l *lanes, bias Mem) *passEpilogue {
	pe := &passEpilogue{relu: e.relu}
	if e.bias {
		pe.bias = l.vec()
		l.load(bias, pe.bias)
	}
	if e.relu {
		pe.zero = l.vec()
		zero(pe.zero)
	}
	return pe
}

// apply runs the epilogue on sum: + bias, + the skip value at skip
// (each when the epilogue has one), then max(·, 0) with VMAXPS in Intel
// order (vmaxps sum, zero, sum: a NaN or −0 sum passes, as in biasRelu).
func (e *passEpilogue) apply(l *lanes, sum reg.VecVirtual, skip Mem) {
	if e.bias != nil {
		VADDPS(e.bias, sum, sum)
	}
	if e.skip != nil {
		t := l.vec()
		l.load(skip, t)
		VADDPS(t, sum, sum)
	}
	if e.relu {
		VMAXPS(sum, e.zero, sum)
	}
}

// winoOutputGrad: Dŷ = A·dy·Aᵀ (n×n) for an m×m block dy of an output
// gradient, the adjoint of winoOutput, one group of channels at a time:
// dy[a][b] of channel c at src + a·rowStride + b·colStride + c, cell ξ =
// n·i+j at dst + ξ·dstStride + c. Columns first: t[·][b] = A·dy[·][b] to
// cells n·i+b (b < m), then each row i from those m cells to all n.
func winoOutputGrad(name string, at [][]int, w *width) {
	n, m := len(at[0]), len(at)
	vecFunc(name, w.sig("func(dst *float32, dstStride int, src *float32, rowStride, colStride int,"),
		fmt.Sprintf("%s transforms one %d×%d block of an output gradient of %s to its %d×%d cells.", name, m, m, w.channels(), n, n))
	dst, src, count, st := winoArgs(w, "dstStride", "rowStride", "colStride")
	ds, rs, cs := st[0], st[1], st[2]
	dsRow := GP64()
	IMUL3Q(Imm(uint64(n)), ds, dsRow)
	// Row i of A is column i of Aᵀ.
	a := make([][]int, n)
	for i := range a {
		for r := 0; r < m; r++ {
			a[i] = append(a[i], at[r][i])
		}
	}
	p, d := GP64(), GP64()

	w.loop(name, dst, src, count, nil, [][][]int{a}, 0, false, func(l *lanes) {
		MOVQ(src, p)
		MOVQ(dst, d)
		pass(l, m, a, p, rs, cs, d, dsRow, ds, nil)
		MOVQ(dst, d)
		pass(l, n, a, d, ds, dsRow, d, ds, dsRow, nil)
	})
}
