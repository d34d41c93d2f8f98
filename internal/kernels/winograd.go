package kernels

import (
	"fmt"
	"unsafe"
)

// Winograd's minimal filtering algorithm F(2×2, 5×5) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): a 2×2 block of a
// stride-1 5×5 convolution's outputs is
//
//	Y = Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A
//
// for the 6×6 input tile d under the block and the 5×5 filter g. Summed
// over input channels, the elementwise products become 36 independent
// matrix products, one per tile cell ξ: M_ξ[tile, f] = Σ_c V_ξ[tile, c] ·
// U_ξ[c, f], with V = Bᵀ·d·B and U = G·g·Gᵀ. They take 36 multiplies per
// 2×2 block and channel pair instead of 100.
//
// The matrices come from Toom–Cook interpolation at the points 0, 1, −1,
// 2, −2 and ∞; the rows of Bᵀ are scaled to small integers and G carries
// the inverse scales. Coefficients up to 5 keep the float32 error of the
// transforms within a few units in the last place of the direct sum.

// The filter gradient is the adjoint of the same algorithm. Y is linear
// in g, so for an output-gradient block dy the gradient of the filter is
//
//	dg = Gᵀ·[(A·dy·Aᵀ) ⊙ (Bᵀ·d·B)]·G
//
// (the forward's transforms transposed: Aᵀ becomes A, G becomes Gᵀ).
// Summed over the tiles, the elementwise products again become 36
// products, one per cell: Ŵ_ξ[c, f] = Σ_tiles V_ξ[tile, c] · Dŷ_ξ[tile, f]
// with Dŷ = A·dy·Aᵀ (WinoScheme.OutputGrad), and dg = Gᵀ·Ŵ·G per channel
// pair (WinoScheme.FilterGrad). With G's scales 1/s_i (s = 4, 6, 6, 24, 24, 1)
// pulled out, this is the F(5×5, 2×2) algorithm: Gᵀ = A₅ᵀ·diag(1/s), with
// A₅ᵀ the 5×6 Vandermonde-like matrix of the points 0, 1, −1, 2, −2, ∞.

// F(4×4, 5×5) is the same construction with the points 0, ±1, ±2, ±1/2
// and ∞: 8×8 input tiles, 4×4 output blocks, 64 products. Per output pixel
// that is 64/16 = 4 multiply-adds per channel pair instead of F(2×2,
// 5×5)'s 9 (and the direct 25), at the cost of larger coefficients (up to
// 21 in Bᵀ, whose rows and Aᵀ's columns are scaled to integers): in
// float32 the error stays near 1e-6 of the sum of the terms' magnitudes,
// about 1.5 times F(2×2, 5×5)'s.

// F(4×4, 3×3) (Lavin & Gray's example) takes the same six points as
// F(2×2, 5×5), and so the same 6×6 input transform Bᵀ (the generated
// assembly is shared): a 4×4 output block of a 3×3 convolution from a
// 6×6 input tile in 36 products, 36/16 = 2.25 multiply-adds per output
// pixel and channel pair instead of the direct 9. Its Aᵀ (4×6) holds the
// powers 0 to 3 of the points and G (6×3) the powers 0 to 2 over the
// same scales as F(2×2, 5×5)'s G. Its filter gradient is F(3×3, 4×4),
// the adjoint as above.

// WinoTile and WinoOut are the input tile and output block sizes of
// F(2×2, 5×5), WinoK its filter size.
const (
	WinoTile = 6
	WinoOut  = 2
	WinoK    = 5
	// WinoCells is the number of tile cells ξ (independent products) of
	// F(2×2, 5×5).
	WinoCells = WinoTile * WinoTile
)

// WinoScheme is one Winograd algorithm F(m×m, K×K) for stride-1 K×K
// convolutions: Tile = m+K−1 is the input tile's side, Out = m the
// output block's, and its transforms have Tile² cells ξ = Tile·i+j.
type WinoScheme struct {
	Name         string
	Tile, Out, K int
	// Filter sets u [Tile², C, F] to the transformed filters U_ξ = G·g·Gᵀ
	// of w [K, K, C, F] (channels-last), one C×F matrix per cell: the
	// right-hand operands of the products.
	Filter func(u, w []float32, c, f int)
	// Input transforms one input tile of c channels: cell (i, j) of the
	// tile is src[i·rowStride + j·colStride:][:c], and V_ξ = (Bᵀ·d·B)[i][j]
	// is written to dst[ξ·dstStride:][:c].
	Input func(dst []float32, dstStride int, src []float32, rowStride, colStride, c int)
	// Output transforms one tile of products, M_ξ at src[ξ·srcStride:][:c],
	// to its Out×Out outputs Y = Aᵀ·M·A: Y[a][b] is written to
	// dst[a·rowStride + b·colStride:][:c]. src may be overwritten.
	Output func(dst []float32, rowStride, colStride int, src []float32, srcStride, c int)
	// OutputBias is Output followed, on each output's c values y, by
	// BiasAdd(y, y, bias), or BiasRelu(y, y, bias) when relu, or
	// BiasSkipRelu(y, y, s, bias) when skip is not nil (relu must be
	// set), s being skip's values at y's offset from dst; with a nil
	// bias and a skip (relu not set), by Add(y, y, s): the same bits, in
	// one pass over the outputs instead of two.
	OutputBias func(dst []float32, rowStride, colStride int, src []float32, srcStride, c int, bias, skip []float32, relu bool)
	// OutputStream and OutputBiasStream are Output and OutputBias with
	// the outputs stored streaming (non-temporal stores: to memory, not
	// kept in the caches) where the path and dst's alignment allow it,
	// else stored as Output and OutputBias store them; the bits are the
	// same. They are for outputs too large to be read back from the
	// caches. A goroutine that used them runs StreamFence before another
	// reads the outputs.
	OutputStream     func(dst []float32, rowStride, colStride int, src []float32, srcStride, c int)
	OutputBiasStream func(dst []float32, rowStride, colStride int, src []float32, srcStride, c int, bias, skip []float32, relu bool)
	// OutputGrad is the adjoint of Output, for the filter gradient: dy[a][b]
	// is src[a·rowStride + b·colStride:][:c], and Dŷ_ξ = (A·dy·Aᵀ)[i][j] is
	// written to dst[ξ·dstStride:][:c].
	OutputGrad func(dst []float32, dstStride int, src []float32, rowStride, colStride, c int)
	// FilterGrad, the adjoint of Filter, sets dw [K, K, C, F] = (G⊗G)ᵀ·ŵ
	// for the summed products ŵ [Tile², C, F].
	FilterGrad func(dw, what []float32, c, f int)
}

// Cells is the number of products, Tile².
func (s *WinoScheme) Cells() int { return s.Tile * s.Tile }

// Wino2 is F(2×2, 5×5), Wino4 F(4×4, 5×5), Wino43 F(4×4, 3×3).
var (
	Wino2  = wino2.scheme("F(2x2,5x5)")
	Wino4  = wino4.scheme("F(4x4,5x5)")
	Wino43 = wino43.scheme("F(4x4,3x3)")
)

// WinoSchemes lists the schemes, for tests and for the planner's
// choice among them.
var WinoSchemes = []*WinoScheme{Wino2, Wino4, Wino43}

// The transform matrices. Bᵀ and Aᵀ must match the generator's copies in
// _asm/winograd.go, which unrolls them into the assembly (the tests check
// both paths against the direct sum).
var (
	wino2 = &winoAlg{
		bt: [][]float32{
			{4, 0, -5, 0, 1, 0},
			{0, 4, 4, -1, -1, 0},
			{0, -4, 4, 1, -1, 0},
			{0, -2, -1, 2, 1, 0},
			{0, 2, -1, -2, 1, 0},
			{0, 4, 0, -5, 0, 1},
		},
		at: [][]float32{
			{1, 1, 1, 1, 1, 0},
			{0, 1, -1, 2, -2, 1},
		},
		gg: kron([][]float64{
			{1.0 / 4, 0, 0, 0, 0},
			{1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6},
			{1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6},
			{1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
			{1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
			{0, 0, 0, 0, 1},
		}),
		input: winoInputAVX2, outputGrad: winoOutputGradAVX2, input512: winoInputAVX512, outputGrad512: winoOutputGradAVX512,
		stored: winoOutputs{output: winoOutputAVX2, output512: winoOutputAVX512,
			ep:    [4]winoOutputEp{winoOutputBiasAVX2, winoOutputBiasReluAVX2, winoOutputBiasSkipReluAVX2, winoOutputSkipAVX2},
			ep512: [4]winoOutputEp{winoOutputBiasAVX512, winoOutputBiasReluAVX512, winoOutputBiasSkipReluAVX512, winoOutputSkipAVX512}},
	}
	wino4 = &winoAlg{
		bt: [][]float32{
			{4, 0, -21, 0, 21, 0, -4, 0},
			{0, -4, -4, 17, 17, -4, -4, 0},
			{0, 4, -4, -17, 17, 4, -4, 0},
			{0, 2, 1, -10, -5, 8, 4, 0},
			{0, -2, 1, 10, -5, -8, 4, 0},
			{0, 4, 8, -5, -10, 1, 2, 0},
			{0, -4, 8, 5, -10, -1, 2, 0},
			{0, -4, 0, 21, 0, -21, 0, 4},
		},
		at: [][]float32{
			{1, 1, 1, 1, 1, 8, 8, 0},
			{0, 1, -1, 2, -2, 4, -4, 0},
			{0, 1, 1, 4, 4, 2, 2, 0},
			{0, 1, -1, 8, -8, 1, -1, 1},
		},
		gg: kron([][]float64{
			{1.0 / 4, 0, 0, 0, 0},
			{1.0 / 18, 1.0 / 18, 1.0 / 18, 1.0 / 18, 1.0 / 18},
			{1.0 / 18, -1.0 / 18, 1.0 / 18, -1.0 / 18, 1.0 / 18},
			{1.0 / 360, 1.0 / 180, 1.0 / 90, 1.0 / 45, 2.0 / 45},
			{1.0 / 360, -1.0 / 180, 1.0 / 90, -1.0 / 45, 2.0 / 45},
			{2.0 / 45, 1.0 / 45, 1.0 / 90, 1.0 / 180, 1.0 / 360},
			{2.0 / 45, -1.0 / 45, 1.0 / 90, -1.0 / 180, 1.0 / 360},
			{0, 0, 0, 0, 1.0 / 4},
		}),
		input: winoInput8AVX2, outputGrad: winoOutputGrad8AVX2, input512: winoInput8AVX512, outputGrad512: winoOutputGrad8AVX512,
		stored: winoOutputs{output: winoOutput8AVX2, output512: winoOutput8AVX512,
			ep:    [4]winoOutputEp{winoOutput8BiasAVX2, winoOutput8BiasReluAVX2, winoOutput8BiasSkipReluAVX2, winoOutput8SkipAVX2},
			ep512: [4]winoOutputEp{winoOutput8BiasAVX512, winoOutput8BiasReluAVX512, winoOutput8BiasSkipReluAVX512, winoOutput8SkipAVX512}},
	}
	wino43 = &winoAlg{
		bt: wino2.bt,
		at: [][]float32{
			{1, 1, 1, 1, 1, 0},
			{0, 1, -1, 2, -2, 0},
			{0, 1, 1, 4, 4, 0},
			{0, 1, -1, 8, -8, 1},
		},
		gg: kron([][]float64{
			{1.0 / 4, 0, 0},
			{1.0 / 6, 1.0 / 6, 1.0 / 6},
			{1.0 / 6, -1.0 / 6, 1.0 / 6},
			{1.0 / 24, 1.0 / 12, 1.0 / 6},
			{1.0 / 24, -1.0 / 12, 1.0 / 6},
			{0, 0, 1},
		}),
		input: winoInputAVX2, outputGrad: winoOutputGrad43AVX2, input512: winoInputAVX512, outputGrad512: winoOutputGrad43AVX512,
		stored: winoOutputs{output: winoOutput43AVX2, output512: winoOutput43AVX512,
			ep:    [4]winoOutputEp{winoOutput43BiasAVX2, winoOutput43BiasReluAVX2, winoOutput43BiasSkipReluAVX2, winoOutput43SkipAVX2},
			ep512: [4]winoOutputEp{winoOutput43BiasAVX512, winoOutput43BiasReluAVX512, winoOutput43BiasSkipReluAVX512, winoOutput43SkipAVX512}},
	}
)

// winoAlg is one F(m×m, k×k): Bᵀ (n×n, n = m+k−1), Aᵀ (m×n), G⊗G
// (n²×k², row ξ = n·i+j, column t = k·kh+kw) and the assembly routines
// that unroll Bᵀ and Aᵀ (same arguments as the methods): the AVX2 ones
// over n8 whole groups of 8 channels, the AVX-512 ones over all n
// channels, 16 at a time and the rest under a mask. Both do the same
// operations in the same order per channel, so they give the same bits
// on the channels both take; the Go loops (which do the AVX2 path's
// last c mod 8 channels) sum in another order and agree within a few
// ulps.
type winoAlg struct {
	bt, at                  [][]float32
	a                       [][]float32 // A = Aᵀ transposed, set by scheme
	gg                      []float32
	input, outputGrad       func(dst *float32, dstStride int, src *float32, rowStride, colStride, n8 int)
	input512, outputGrad512 func(dst *float32, dstStride int, src *float32, rowStride, colStride, n int)
	// stored and streamed are the output routines that store plainly
	// and streaming (the latter set where there is assembly, in
	// vec_amd64.go).
	stored, streamed winoOutputs
}

// winoOutputs are one set of the assembly output transforms: plain
// (output over n8 groups of 8, output512 over all n channels as above)
// and fused with BiasAdd, BiasRelu, BiasSkipRelu and Add (ep and ep512,
// indexed by epBias, epBiasRelu, epBiasSkipRelu and epSkip).
type winoOutputs struct {
	output, output512 func(dst *float32, rowStride, colStride int, src *float32, srcStride, n int)
	ep, ep512         [4]winoOutputEp
}

// outputs returns w's routines that store streaming when stream, else
// those that store plainly.
func (w *winoAlg) outputs(stream bool) *winoOutputs {
	if stream {
		return &w.streamed
	}
	return &w.stored
}

// WinoStreams reports whether the output transforms on this path store
// streaming (WinoScheme.OutputStream) where dst's alignment allows: the
// AVX-512 and AVX2 paths do; without assembly OutputStream is Output.
func WinoStreams() bool { return (vecWide || vecFMA) && wino43.streamed.output512 != nil }

// streams reports whether the output transform can store dst streaming:
// assembly runs, and it stores whole 64-byte lines at addresses aligned
// to 64 bytes, as non-temporal stores need and as write-combining wants
// (c a multiple of 16: one ZMM register, or two YMM ones stored one
// after the other).
func (w *winoAlg) streams(dst []float32, rowStride, colStride, c int) bool {
	return WinoStreams() && c%16 == 0 && rowStride%16 == 0 && colStride%16 == 0 &&
		uintptr(unsafe.Pointer(&dst[0]))%64 == 0
}

// winoOutputEp is the signature of the fused output transforms: output's,
// with the bias and the skip (read at dst's offsets; nil without one).
type winoOutputEp func(dst *float32, rowStride, colStride int, src *float32, srcStride int, bias, skip *float32, n int)

// The epilogues of the fused output transforms, indexing winoOutputs.ep.
const (
	epBias = iota
	epBiasRelu
	epBiasSkipRelu
	epSkip
)

func (w *winoAlg) scheme(name string) *WinoScheme {
	w.a = make([][]float32, len(w.bt))
	for i := range w.a {
		for r := range w.at {
			w.a[i] = append(w.a[i], w.at[r][i])
		}
	}
	return &WinoScheme{Name: name, Tile: len(w.bt), Out: len(w.at), K: w.k(),
		Filter: w.filter, Input: w.input8, Output: w.output8, OutputBias: w.outputBias,
		OutputStream: w.outputStream8, OutputBiasStream: w.outputBiasStream,
		OutputGrad: w.outputGrad8, FilterGrad: w.filterGrad}
}

// kron returns G⊗G in float32 (n²×k² for the n×k matrix g).
func kron(g [][]float64) []float32 {
	n, k := len(g), len(g[0])
	gg := make([]float32, n*n*k*k)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			for kh := 0; kh < k; kh++ {
				for kw := 0; kw < k; kw++ {
					gg[(i*n+j)*k*k+kh*k+kw] = float32(g[i][kh] * g[j][kw])
				}
			}
		}
	}
	return gg
}

// k is the filter size: Tile − Out + 1.
func (w *winoAlg) k() int { return len(w.bt) - len(w.at) + 1 }

// filter sets u [n², C, F] = (G⊗G)·w [k², C, F].
func (w *winoAlg) filter(u, wt []float32, c, f int) {
	cells, cf, taps := len(w.bt)*len(w.bt), c*f, w.k()*w.k()
	if len(wt) != taps*cf || len(u) != cells*cf {
		panic(fmt.Sprintf("kernels: Winograd filter transform: filter of %d values, transform of %d, want %d and %d for %d×%d channels",
			len(wt), len(u), taps*cf, cells*cf, c, f))
	}
	if cf > 0 {
		Sgemm(false, false, cells, cf, taps, 1, w.gg, taps, wt, cf, 0, u, cf)
	}
}

// filterGrad sets dw [k², C, F] = (G⊗G)ᵀ·what [n², C, F].
func (w *winoAlg) filterGrad(dw, what []float32, c, f int) {
	cells, cf, taps := len(w.bt)*len(w.bt), c*f, w.k()*w.k()
	if len(dw) != taps*cf || len(what) != cells*cf {
		panic(fmt.Sprintf("kernels: Winograd filter gradient: gradient of %d values, products of %d, want %d and %d for %d×%d channels",
			len(dw), len(what), taps*cf, cells*cf, c, f))
	}
	if cf > 0 {
		Sgemm(true, false, taps, cf, cells, 1, w.gg, taps, what, cf, 0, dw, cf)
	}
}

// groups8 is the number of whole groups of 8 of c channels that the
// AVX2 routines take (none without them); the Go loops do the rest. With
// the AVX-512 vector loops on (vecWide), the AVX-512 routines take all c
// instead.
func groups8(c int) int {
	if !vecFMA {
		return 0
	}
	return c / 8
}

// WinoMaskedTails reports whether the Winograd transforms run every
// channel in assembly (the AVX-512 path: 16 at a time, then 8, the rest
// under a mask) rather than whole groups of 8 with the rest in Go loops
// (the AVX2 path) or all of them in Go.
func WinoMaskedTails() bool { return vecWide }

// input8 is WinoScheme.Input for n×n tiles: V_ξ = (Bᵀ·d·B)[i][j], ξ = n·i+j.
func (w *winoAlg) input8(dst []float32, dstStride int, src []float32, rowStride, colStride, c int) {
	n := len(w.bt)
	if c <= 0 {
		return
	}
	if rowStride < 0 || colStride < 0 || dstStride < c || (n-1)*(rowStride+colStride)+c > len(src) || (n*n-1)*dstStride+c > len(dst) {
		panic(fmt.Sprintf("kernels: Winograd input transform (%d×%d): %d channels at strides %d, %d in %d values, out at stride %d in %d",
			n, n, c, rowStride, colStride, len(src), dstStride, len(dst)))
	}
	if vecWide {
		w.input512(&dst[0], dstStride, &src[0], rowStride, colStride, c)
		return
	}
	n8 := groups8(c)
	if n8 > 0 {
		w.input(&dst[0], dstStride, &src[0], rowStride, colStride, n8)
	}
	if 8*n8 == c {
		return // no channel left for the Go loop: skip zeroing its arrays
	}
	var d, t [8][8]float32
	for ch := 8 * n8; ch < c; ch++ {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				d[i][j] = src[i*rowStride+j*colStride+ch]
			}
		}
		sandwich(&t, w.bt, &d, w.bt, n, n, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				dst[(i*n+j)*dstStride+ch] = t[i][j]
			}
		}
	}
}

// output8 is WinoScheme.Output for n×n tiles and m×m blocks: Y = Aᵀ·M·A.
func (w *winoAlg) output8(dst []float32, rowStride, colStride int, src []float32, srcStride, c int) {
	w.outputTo(dst, rowStride, colStride, src, srcStride, c, false)
}

// outputStream8 is WinoScheme.OutputStream.
func (w *winoAlg) outputStream8(dst []float32, rowStride, colStride int, src []float32, srcStride, c int) {
	w.outputTo(dst, rowStride, colStride, src, srcStride, c, true)
}

// outputTo is output8, storing streaming when stream and w.streams.
func (w *winoAlg) outputTo(dst []float32, rowStride, colStride int, src []float32, srcStride, c int, stream bool) {
	m, n := len(w.at), len(w.bt)
	if c <= 0 {
		return
	}
	if !w.outputFits(dst, rowStride, colStride, src, srcStride, c) {
		w.outputMisfit("output transform", dst, rowStride, colStride, src, srcStride, c)
	}
	r := w.outputs(stream && w.streams(dst, rowStride, colStride, c))
	if vecWide {
		r.output512(&dst[0], rowStride, colStride, &src[0], srcStride, c)
		return
	}
	n8 := groups8(c)
	if n8 > 0 {
		r.output(&dst[0], rowStride, colStride, &src[0], srcStride, n8)
	}
	if 8*n8 == c {
		return // no channel left for the Go loop: skip zeroing its arrays
	}
	var p, y [8][8]float32
	for ch := 8 * n8; ch < c; ch++ {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				p[i][j] = src[(i*n+j)*srcStride+ch]
			}
		}
		sandwich(&y, w.at, &p, w.at, m, n, m)
		for a := 0; a < m; a++ {
			for b := 0; b < m; b++ {
				dst[a*rowStride+b*colStride+ch] = y[a][b]
			}
		}
	}
}

// outputMisfit panics with what an output transform (op) that
// outputFits refused was given; apart from outputFits so that the check
// stays small enough to inline.
func (w *winoAlg) outputMisfit(op string, dst []float32, rowStride, colStride int, src []float32, srcStride, c int) {
	m := len(w.at)
	panic(fmt.Sprintf("kernels: Winograd %s (%d×%d): %d channels at stride %d in %d values, out at strides %d, %d in %d",
		op, m, m, c, srcStride, len(src), rowStride, colStride, len(dst)))
}

// outputFits reports whether an output transform of c ≥ 1 channels
// stays within src and dst at the strides given (small enough to be
// inlined into the transforms, which run once per tile).
func (w *winoAlg) outputFits(dst []float32, rowStride, colStride int, src []float32, srcStride, c int) bool {
	m, n := len(w.at), len(w.bt)
	return rowStride >= 0 && colStride >= 0 && srcStride >= c && (n*n-1)*srcStride+c <= len(src) && (m-1)*(rowStride+colStride)+c <= len(dst)
}

// outputBias is WinoScheme.OutputBias: the fused routine for the path,
// or (the AVX2 path with channels outside whole groups of 8, or no
// assembly) the transform and then the vector loop on each row of
// outputs (each output when they are not side by side).
func (w *winoAlg) outputBias(dst []float32, rowStride, colStride int, src []float32, srcStride, c int, bias, skip []float32, relu bool) {
	w.outputBiasTo(dst, rowStride, colStride, src, srcStride, c, bias, skip, relu, false)
}

// outputBiasStream is WinoScheme.OutputBiasStream.
func (w *winoAlg) outputBiasStream(dst []float32, rowStride, colStride int, src []float32, srcStride, c int, bias, skip []float32, relu bool) {
	w.outputBiasTo(dst, rowStride, colStride, src, srcStride, c, bias, skip, relu, true)
}

// outputBiasTo is outputBias, storing streaming when stream and
// w.streams.
func (w *winoAlg) outputBiasTo(dst []float32, rowStride, colStride int, src []float32, srcStride, c int, bias, skip []float32, relu, stream bool) {
	if c <= 0 {
		return
	}
	m := len(w.at)
	span := (m-1)*(rowStride+colStride) + c
	if !w.outputFits(dst, rowStride, colStride, src, srcStride, c) {
		w.outputMisfit("output transform with bias", dst, rowStride, colStride, src, srcStride, c)
	}
	addOnly := bias == nil && skip != nil && !relu
	if !addOnly && (len(bias) != c || skip != nil && !relu) || skip != nil && len(skip) < span {
		panic(fmt.Sprintf("kernels: Winograd output transform with bias: %d channels, bias of %d, skip of %d values (want %d or none), relu %v (a skip needs relu, or no bias)",
			c, len(bias), len(skip), span, relu))
	}
	kind, bp, sp := epBias, (*float32)(nil), (*float32)(nil)
	switch {
	case addOnly:
		kind, sp = epSkip, &skip[0]
	case skip != nil:
		kind, sp = epBiasSkipRelu, &skip[0]
	case relu:
		kind = epBiasRelu
	}
	if !addOnly {
		bp = &bias[0]
	}
	r := w.outputs(stream && w.streams(dst, rowStride, colStride, c))
	if vecWide {
		r.ep512[kind](&dst[0], rowStride, colStride, &src[0], srcStride, bp, sp, c)
		return
	}
	if vecFMA && c%8 == 0 {
		r.ep[kind](&dst[0], rowStride, colStride, &src[0], srcStride, bp, sp, c/8)
		return
	}
	w.output8(dst, rowStride, colStride, src, srcStride, c)
	// Rows of m outputs side by side (colStride = c) take one call each.
	px, run := m, m*c
	if colStride != c {
		px, run = 1, c
	}
	for a := 0; a < m; a++ {
		for b := 0; b < m; b += px {
			o := a*rowStride + b*colStride
			y := dst[o : o+run]
			switch {
			case addOnly:
				Add(y, y, skip[o:o+run])
			case skip != nil:
				BiasSkipRelu(y, y, skip[o:o+run], bias)
			case relu:
				BiasRelu(y, y, bias)
			default:
				BiasAdd(y, y, bias)
			}
		}
	}
}

// outputGrad8 is WinoScheme.OutputGrad for m×m blocks and n×n cells:
// Dŷ = A·dy·Aᵀ.
func (w *winoAlg) outputGrad8(dst []float32, dstStride int, src []float32, rowStride, colStride, c int) {
	m, n := len(w.at), len(w.bt)
	if c <= 0 {
		return
	}
	if rowStride < 0 || colStride < 0 || dstStride < c || (m-1)*(rowStride+colStride)+c > len(src) || (n*n-1)*dstStride+c > len(dst) {
		panic(fmt.Sprintf("kernels: Winograd output-gradient transform (%d×%d): %d channels at strides %d, %d in %d values, out at stride %d in %d",
			m, m, c, rowStride, colStride, len(src), dstStride, len(dst)))
	}
	if vecWide {
		w.outputGrad512(&dst[0], dstStride, &src[0], rowStride, colStride, c)
		return
	}
	n8 := groups8(c)
	if n8 > 0 {
		w.outputGrad(&dst[0], dstStride, &src[0], rowStride, colStride, n8)
	}
	if 8*n8 == c {
		return // no channel left for the Go loop: skip zeroing its arrays
	}
	var dy, t [8][8]float32
	for ch := 8 * n8; ch < c; ch++ {
		for r := 0; r < m; r++ {
			for b := 0; b < m; b++ {
				dy[r][b] = src[r*rowStride+b*colStride+ch]
			}
		}
		sandwich(&t, w.a, &dy, w.a, n, m, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				dst[(i*n+j)*dstStride+ch] = t[i][j]
			}
		}
	}
}

// sandwich sets out (rows×cols) = l·x·rᵀ for x (k×k), l (rows×k) and r
// (cols×k), in float32, the left product first.
func sandwich(out *[8][8]float32, l [][]float32, x *[8][8]float32, r [][]float32, rows, k, cols int) {
	var t [8][8]float32
	for i := 0; i < rows; i++ {
		for j := 0; j < k; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += l[i][p] * x[p][j]
			}
			t[i][j] = s
		}
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += t[i][p] * r[j][p]
			}
			out[i][j] = s
		}
	}
}
