package main

// The tile transforms of the Winograd convolution F(2×2, 5×5) (see
// package kernels' winograd.go for the algorithm and the matrices). Each
// routine works on eight channels at a time: one YMM register holds the
// same tile cell of eight consecutive channels, which are contiguous in
// the channels-last layouts the callers use.
//
// The code is unrolled from the constant matrices below: a coefficient of
// ±1 becomes an add or a subtract, any other one a (negated) fused
// multiply-add with the coefficient's magnitude broadcast once into a
// register.

import (
	"fmt"

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
	consts := GLOBL("winoConsts", RODATA|NOPTR)
	// The magnitudes the matrices use besides 1, one float32 each.
	mags := []int{2, 4, 5}
	for i, m := range mags {
		DATA(4*i, F32(float32(m)))
	}
	winoInput(consts, mags)
	winoOutput(consts, mags)
	winoOutputGrad(consts, mags)

	// F(4×4, 5×5): its magnitudes as 32-byte vectors, read by the
	// multiply-adds from memory (eight inputs and the result leave too
	// few registers to hold seven constants).
	vecs := GLOBL("wino8Consts", RODATA|NOPTR)
	k := map[int]Mem{}
	for _, rows := range [][][]int{wino8BT, wino8AT} {
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
	winoInput8(k)
	winoOutput8(k)
	winoOutputGrad8(k)
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

// winoInput8: v[ξ=8i+j] = (Bᵀ·d·B)[i][j] for an 8×8 tile d, as winoInput
// (same arguments and layouts), the column pass written to dst and read
// back by the row pass.
func winoInput8(k map[int]Mem) {
	vecFunc("winoInput8AVX2", "func(dst *float32, dstStride int, src *float32, rowStride, colStride int, n8 int)",
		"winoInput8AVX2 transforms one 8×8 input tile of 8·n8 channels (n8 ≥ 1).")
	const n = 8
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstStride"), GP64())
	src := Load(Param("src"), GP64())
	rs := Load(Param("rowStride"), GP64())
	cs := Load(Param("colStride"), GP64())
	n8 := Load(Param("n8"), GP64())
	SHLQ(Imm(2), ds)
	SHLQ(Imm(2), rs)
	SHLQ(Imm(2), cs)
	ds8 := GP64() // one row of the result: n cells
	LEAQ(Mem{Base: ds, Index: ds, Scale: 1}, ds8)
	SHLQ(Imm(2), ds8)
	p, d := GP64(), GP64()

	Label("wi8loop")
	// Columns: t[·][j] = Bᵀ·d[·][j], to cells 8i+j of dst.
	MOVQ(src, p)
	MOVQ(dst, d)
	for j := 0; j < n; j++ {
		in := ymms(n)
		for i, m := range cellsAt(p, rs, n) {
			VMOVUPS(m, in[i])
		}
		outs := cellsAt(d, ds8, n)
		for i := 0; i < n; i++ {
			t := YMM()
			lincomb(t, wino8BT[i], in, k)
			VMOVUPS(t, outs[i])
		}
		if j < n-1 {
			ADDQ(cs, p)
			ADDQ(ds, d)
		}
	}
	// Rows: v[i][·] = t[i][·]·B, over dst's row i.
	MOVQ(dst, d)
	for i := 0; i < n; i++ {
		cells := cellsAt(d, ds, n)
		in := ymms(n)
		for j := range in {
			VMOVUPS(cells[j], in[j])
		}
		for j := 0; j < n; j++ {
			v := YMM()
			lincomb(v, wino8BT[j], in, k)
			VMOVUPS(v, cells[j])
		}
		if i < n-1 {
			ADDQ(ds8, d)
		}
	}
	ADDQ(Imm(32), src)
	ADDQ(Imm(32), dst)
	DECQ(n8)
	JNZ(LabelRef("wi8loop"))
	VZEROUPPER()
	RET()
}

// winoOutput8: y = Aᵀ·m·A (4×4) for the 8×8 products m, as winoOutput
// (same arguments and layouts). The row pass writes its results over the
// first four cells of each row of src, which the column pass reads: src
// is left changed.
func winoOutput8(k map[int]Mem) {
	vecFunc("winoOutput8AVX2", "func(dst *float32, rowStride, colStride int, src *float32, srcStride int, n8 int)",
		"winoOutput8AVX2 transforms one tile of 8×8 products of 8·n8 channels to its 4×4 outputs, overwriting part of src (n8 ≥ 1).")
	const n, m = 8, 4
	dst := Load(Param("dst"), GP64())
	rs := Load(Param("rowStride"), GP64())
	cs := Load(Param("colStride"), GP64())
	src := Load(Param("src"), GP64())
	ss := Load(Param("srcStride"), GP64())
	n8 := Load(Param("n8"), GP64())
	SHLQ(Imm(2), rs)
	SHLQ(Imm(2), cs)
	SHLQ(Imm(2), ss)
	ss8 := GP64()
	LEAQ(Mem{Base: ss, Index: ss, Scale: 1}, ss8)
	SHLQ(Imm(2), ss8)
	p, y := GP64(), GP64()

	Label("wo8loop")
	// Rows: s[i][b] = m[i][·]·A[·][b], over cells 8i+b (b < 4).
	MOVQ(src, p)
	for i := 0; i < n; i++ {
		cells := cellsAt(p, ss, n)
		in := ymms(n)
		for j := range in {
			VMOVUPS(cells[j], in[j])
		}
		for b := 0; b < m; b++ {
			s := YMM()
			lincomb(s, wino8AT[b], in, k)
			VMOVUPS(s, cells[b])
		}
		if i < n-1 {
			ADDQ(ss8, p)
		}
	}
	// Columns: y[a][b] = Aᵀ[a]·s[·][b].
	MOVQ(src, p)
	MOVQ(dst, y)
	for b := 0; b < m; b++ {
		in := ymms(n)
		for i, c := range cellsAt(p, ss8, n) {
			VMOVUPS(c, in[i])
		}
		outs := cellsAt(y, rs, m)
		for a := 0; a < m; a++ {
			v := YMM()
			lincomb(v, wino8AT[a], in, k)
			VMOVUPS(v, outs[a])
		}
		if b < m-1 {
			ADDQ(ss, p)
			ADDQ(cs, y)
		}
	}
	ADDQ(Imm(32), src)
	ADDQ(Imm(32), dst)
	DECQ(n8)
	JNZ(LabelRef("wo8loop"))
	VZEROUPPER()
	RET()
}

// constRegs broadcasts the magnitudes the matrix rows use (other than 1)
// into registers.
func constRegs(rows [][]int, consts Mem, mags []int) map[int]reg.VecVirtual {
	regs := map[int]reg.VecVirtual{}
	for _, row := range rows {
		for _, c := range row {
			m := max(c, -c)
			if m <= 1 || regs[m] != nil {
				continue
			}
			idx := -1
			for i, v := range mags {
				if v == m {
					idx = i
				}
			}
			if idx < 0 {
				panic(fmt.Sprintf("winograd: coefficient %d has no constant", c))
			}
			r := YMM()
			VBROADCASTSS(consts.Offset(4*idx), r)
			regs[m] = r
		}
	}
	return regs
}

// lincomb sets out = Σ_j row[j]·in[j].
func lincomb[K Op](out reg.VecVirtual, row []int, in []reg.VecVirtual, k map[int]K) {
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

// rows6 returns the addresses of six rows at stride s (bytes, in a
// register) from base b: rows 0–2 from b, rows 3–5 from b3 = b + 3·s.
func rows6(b, b3, s reg.Register) [6]Mem {
	return [6]Mem{
		{Base: b}, {Base: b, Index: s, Scale: 1}, {Base: b, Index: s, Scale: 2},
		{Base: b3}, {Base: b3, Index: s, Scale: 1}, {Base: b3, Index: s, Scale: 2},
	}
}

// winoInput: v[ξ=6i+j] = (Bᵀ·d·B)[i][j] for a 6×6 tile d, eight channels
// at a time: cell (i, j) of channel group g at src + i·rowStride +
// j·colStride + 8g, result ξ at dst + ξ·dstStride + 8g (strides in
// float32 elements).
func winoInput(consts Mem, mags []int) {
	vecFunc("winoInputAVX2", "func(dst *float32, dstStride int, src *float32, rowStride, colStride int, n8 int)",
		"winoInputAVX2 transforms one 6×6 input tile of 8·n8 channels (n8 ≥ 1).")
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstStride"), GP64())
	src := Load(Param("src"), GP64())
	rs := Load(Param("rowStride"), GP64())
	cs := Load(Param("colStride"), GP64())
	n8 := Load(Param("n8"), GP64())
	SHLQ(Imm(2), ds)
	SHLQ(Imm(2), rs)
	SHLQ(Imm(2), cs)
	k := constRegs(winoBT, consts, mags)
	p, p3, d, d3 := GP64(), GP64(), GP64(), GP64()

	Label("wiloop")
	// Columns: t[·][j] = Bᵀ·d[·][j], written to dst in place of the
	// result (t[i][j] where v[i][j] goes), so no stack is needed.
	MOVQ(src, p)
	for j := 0; j < 6; j++ {
		LEAQ(Mem{Base: p, Index: rs, Scale: 2}, p3)
		ADDQ(rs, p3)
		in := ymms(6)
		for i, m := range rows6(p, p3, rs) {
			VMOVUPS(m, in[i])
		}
		MOVQ(dst, d)
		for i := 0; i < 6; i++ {
			t := YMM()
			lincomb(t, winoBT[i], in, k)
			// t[i][j] at ξ = 6i+j: d is dst + 6i·stride here.
			VMOVUPS(t, cell(d, d3, ds, j))
			if i < 5 {
				LEAQ(Mem{Base: d, Index: ds, Scale: 4}, d)
				LEAQ(Mem{Base: d, Index: ds, Scale: 2}, d)
			}
		}
		if j < 5 {
			ADDQ(cs, p)
		}
	}
	// Rows: v[i][·] = t[i][·]·B, read from and written over dst's row i.
	MOVQ(dst, d)
	for i := 0; i < 6; i++ {
		LEAQ(Mem{Base: d, Index: ds, Scale: 2}, d3)
		ADDQ(ds, d3)
		cells := rows6(d, d3, ds)
		in := ymms(6)
		for j := range in {
			VMOVUPS(cells[j], in[j])
		}
		for j := 0; j < 6; j++ {
			v := YMM()
			lincomb(v, winoBT[j], in, k)
			VMOVUPS(v, cells[j])
		}
		if i < 5 {
			// d moves on by six rows of the output: d3 + 3·stride.
			LEAQ(Mem{Base: d3, Index: ds, Scale: 2}, d)
			ADDQ(ds, d)
		}
	}
	ADDQ(Imm(32), src)
	ADDQ(Imm(32), dst)
	DECQ(n8)
	JNZ(LabelRef("wiloop"))
	VZEROUPPER()
	RET()
}

// cell addresses cell j (0–5) of a row of six at stride s from b, with
// b3 as scratch for cells 3–5.
func cell(b, b3, s reg.Register, j int) Mem {
	if j >= 3 {
		LEAQ(Mem{Base: b, Index: s, Scale: 2}, b3)
		ADDQ(s, b3)
	}
	return rows6(b, b3, s)[j]
}

// winoOutput: y = Aᵀ·m·A (2×2) for the 6×6 products m, eight channels at
// a time: m[ξ=6i+j] of channel group g at src + ξ·srcStride + 8g, y[a][b]
// at dst + a·rowStride + b·colStride + 8g (strides in float32 elements).
func winoOutput(consts Mem, mags []int) {
	vecFunc("winoOutputAVX2", "func(dst *float32, rowStride, colStride int, src *float32, srcStride int, n8 int)",
		"winoOutputAVX2 transforms one tile of 6×6 products of 8·n8 channels to its 2×2 outputs (n8 ≥ 1).")
	scratch := AllocLocal(12 * 32)
	dst := Load(Param("dst"), GP64())
	rs := Load(Param("rowStride"), GP64())
	cs := Load(Param("colStride"), GP64())
	src := Load(Param("src"), GP64())
	ss := Load(Param("srcStride"), GP64())
	n8 := Load(Param("n8"), GP64())
	SHLQ(Imm(2), rs)
	SHLQ(Imm(2), cs)
	SHLQ(Imm(2), ss)
	k := constRegs(winoAT, consts, mags)
	p, p3 := GP64(), GP64()

	Label("woloop")
	// Rows: s[i][·] = m[i][·]·A, into the scratch (2 per row).
	MOVQ(src, p)
	for i := 0; i < 6; i++ {
		LEAQ(Mem{Base: p, Index: ss, Scale: 2}, p3)
		ADDQ(ss, p3)
		in := ymms(6)
		for j, m := range rows6(p, p3, ss) {
			VMOVUPS(m, in[j])
		}
		for b := 0; b < 2; b++ {
			s := YMM()
			lincomb(s, winoAT[b], in, k)
			VMOVUPS(s, scratch.Offset(32*(2*i+b)))
		}
		if i < 5 {
			LEAQ(Mem{Base: p3, Index: ss, Scale: 2}, p)
			ADDQ(ss, p)
		}
	}
	// Columns: y[·][b] = Aᵀ·s[·][b].
	for b := 0; b < 2; b++ {
		in := ymms(6)
		for i := range in {
			VMOVUPS(scratch.Offset(32*(2*i+b)), in[i])
		}
		for a := 0; a < 2; a++ {
			y := YMM()
			lincomb(y, winoAT[a], in, k)
			addr := Mem{Base: dst}
			switch {
			case a == 1 && b == 1:
				MOVQ(dst, p)
				ADDQ(rs, p)
				addr = Mem{Base: p, Index: cs, Scale: 1}
			case a == 1:
				addr = Mem{Base: dst, Index: rs, Scale: 1}
			case b == 1:
				addr = Mem{Base: dst, Index: cs, Scale: 1}
			}
			VMOVUPS(y, addr)
		}
	}
	ADDQ(Imm(32), src)
	ADDQ(Imm(32), dst)
	DECQ(n8)
	JNZ(LabelRef("woloop"))
	VZEROUPPER()
	RET()
}

// winoOutputGrad: m = A·dy·Aᵀ (6×6) for a 2×2 block dy of an output
// gradient, the adjoint of winoOutput, eight channels at a time: dy[a][b]
// of channel group g at src + a·rowStride + b·colStride + 8g, m[ξ=6i+j]
// at dst + ξ·dstStride + 8g (strides in float32 elements). A is winoAT
// transposed, so row i of A is column i of winoAT.
func winoOutputGrad(consts Mem, mags []int) {
	vecFunc("winoOutputGradAVX2", "func(dst *float32, dstStride int, src *float32, rowStride, colStride int, n8 int)",
		"winoOutputGradAVX2 transforms one 2×2 block of an output gradient of 8·n8 channels to its 6×6 cells (n8 ≥ 1).")
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstStride"), GP64())
	src := Load(Param("src"), GP64())
	rs := Load(Param("rowStride"), GP64())
	cs := Load(Param("colStride"), GP64())
	n8 := Load(Param("n8"), GP64())
	SHLQ(Imm(2), ds)
	SHLQ(Imm(2), rs)
	SHLQ(Imm(2), cs)
	a := make([][]int, 6)
	for i := range a {
		a[i] = []int{winoAT[0][i], winoAT[1][i]}
	}
	k := constRegs(a, consts, mags)
	p, d, d3 := GP64(), GP64(), GP64()

	Label("wgloop")
	// y[a][b]: the four cells of the block.
	y := ymms(4)
	MOVQ(src, p)
	VMOVUPS(Mem{Base: p}, y[0])
	VMOVUPS(Mem{Base: p, Index: cs, Scale: 1}, y[1])
	ADDQ(rs, p)
	VMOVUPS(Mem{Base: p}, y[2])
	VMOVUPS(Mem{Base: p, Index: cs, Scale: 1}, y[3])
	// Row i of the result from t[i][·] = A[i]·dy (two cells): m[i][j] =
	// t[i][·]·A[j], with d at dst + 6i·stride.
	MOVQ(dst, d)
	for i := 0; i < 6; i++ {
		t := ymms(2)
		for b := range t {
			lincomb(t[b], a[i], []reg.VecVirtual{y[b], y[2+b]}, k)
		}
		LEAQ(Mem{Base: d, Index: ds, Scale: 2}, d3)
		ADDQ(ds, d3)
		for j, c := range rows6(d, d3, ds) {
			m := YMM()
			lincomb(m, a[j], t, k)
			VMOVUPS(m, c)
		}
		if i < 5 {
			// d moves on by six cells: d3 + 3·stride.
			LEAQ(Mem{Base: d3, Index: ds, Scale: 2}, d)
			ADDQ(ds, d)
		}
	}
	ADDQ(Imm(32), src)
	ADDQ(Imm(32), dst)
	DECQ(n8)
	JNZ(LabelRef("wgloop"))
	VZEROUPPER()
	RET()
}

// winoOutputGrad8: m = A·dy·Aᵀ (8×8) for a 4×4 block dy of an output
// gradient, the adjoint of winoOutput8, as winoOutputGrad (same arguments
// and layouts). Columns first: t[·][b] = A·dy[·][b] to cells 8i+b (b <
// 4), then each row i from those four cells to all eight.
func winoOutputGrad8(k map[int]Mem) {
	vecFunc("winoOutputGrad8AVX2", "func(dst *float32, dstStride int, src *float32, rowStride, colStride int, n8 int)",
		"winoOutputGrad8AVX2 transforms one 4×4 block of an output gradient of 8·n8 channels to its 8×8 cells (n8 ≥ 1).")
	const n, m = 8, 4
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstStride"), GP64())
	src := Load(Param("src"), GP64())
	rs := Load(Param("rowStride"), GP64())
	cs := Load(Param("colStride"), GP64())
	n8 := Load(Param("n8"), GP64())
	SHLQ(Imm(2), ds)
	SHLQ(Imm(2), rs)
	SHLQ(Imm(2), cs)
	ds8 := GP64()
	LEAQ(Mem{Base: ds, Index: ds, Scale: 1}, ds8)
	SHLQ(Imm(2), ds8)
	// Row i of A is column i of Aᵀ.
	a := make([][]int, n)
	for i := range a {
		for r := 0; r < m; r++ {
			a[i] = append(a[i], wino8AT[r][i])
		}
	}
	p, d := GP64(), GP64()

	Label("wg8loop")
	MOVQ(src, p)
	MOVQ(dst, d)
	for b := 0; b < m; b++ {
		in := ymms(m)
		for r, c := range cellsAt(p, rs, m) {
			VMOVUPS(c, in[r])
		}
		outs := cellsAt(d, ds8, n)
		for i := 0; i < n; i++ {
			t := YMM()
			lincomb(t, a[i], in, k)
			VMOVUPS(t, outs[i])
		}
		if b < m-1 {
			ADDQ(cs, p)
			ADDQ(ds, d)
		}
	}
	MOVQ(dst, d)
	for i := 0; i < n; i++ {
		cells := cellsAt(d, ds, n)
		in := ymms(m)
		for b := range in {
			VMOVUPS(cells[b], in[b])
		}
		for j := 0; j < n; j++ {
			v := YMM()
			lincomb(v, a[j], in, k)
			VMOVUPS(v, cells[j])
		}
		if i < n-1 {
			ADDQ(ds8, d)
		}
	}
	ADDQ(Imm(32), src)
	ADDQ(Imm(32), dst)
	DECQ(n8)
	JNZ(LabelRef("wg8loop"))
	VZEROUPPER()
	RET()
}
