package kernels

import "fmt"

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
// with Dŷ = A·dy·Aᵀ (WinogradOutputGrad), and dg = Gᵀ·Ŵ·G per channel pair
// (WinogradFilterGrad). With G's scales 1/s_i (s = 4, 6, 6, 24, 24, 1)
// pulled out, this is the F(5×5, 2×2) algorithm: Gᵀ = A₅ᵀ·diag(1/s), with
// A₅ᵀ the 5×6 Vandermonde-like matrix of the points 0, 1, −1, 2, −2, ∞.

// WinoTile and WinoOut are the input tile and output block sizes, WinoK
// the filter size.
const (
	WinoTile = 6
	WinoOut  = 2
	WinoK    = 5
	// WinoCells is the number of tile cells ξ (independent products).
	WinoCells = WinoTile * WinoTile
)

// winoBT (Bᵀ) and winoAT (Aᵀ) must match the generator's copies in
// _asm/winograd.go, which unroll them into the assembly.
var (
	winoBT = [WinoTile][WinoTile]float32{
		{4, 0, -5, 0, 1, 0},
		{0, 4, 4, -1, -1, 0},
		{0, -4, 4, 1, -1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoAT = [WinoOut][WinoTile]float32{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 1},
	}
	// winoG is G (6×5), exact fractions.
	winoG = [WinoTile][WinoK]float64{
		{1.0 / 4, 0, 0, 0, 0},
		{1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6},
		{1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
		{1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
		{0, 0, 0, 0, 1},
	}
	// winoGG is G⊗G (36×25): U_ξ = Σ_t winoGG[ξ][t]·g[t], ξ = 6i+j, t = 5kh+kw.
	winoGG = func() []float32 {
		gg := make([]float32, WinoCells*WinoK*WinoK)
		for i := 0; i < WinoTile; i++ {
			for j := 0; j < WinoTile; j++ {
				for kh := 0; kh < WinoK; kh++ {
					for kw := 0; kw < WinoK; kw++ {
						gg[(i*WinoTile+j)*WinoK*WinoK+kh*WinoK+kw] = float32(winoG[i][kh] * winoG[j][kw])
					}
				}
			}
		}
		return gg
	}()
)

// WinogradFilter sets u [36, C, F] to the transformed filters U_ξ = G·g·Gᵀ
// of w [5, 5, C, F] (a channels-last 2-D filter), one C×F matrix per tile
// cell ξ: the right-hand operands of the 36 products.
func WinogradFilter(u, w []float32, c, f int) {
	cf := c * f
	if len(w) != WinoK*WinoK*cf || len(u) != WinoCells*cf {
		panic(fmt.Sprintf("kernels: WinogradFilter: filter of %d values, transform of %d, want %d and %d for %d×%d channels",
			len(w), len(u), WinoK*WinoK*cf, WinoCells*cf, c, f))
	}
	if cf == 0 {
		return
	}
	Sgemm(false, false, WinoCells, cf, WinoK*WinoK, 1, winoGG, WinoK*WinoK, w, cf, 0, u, cf)
}

// WinogradInput transforms one 6×6 input tile of c channels: cell (i, j)
// of the tile is src[i·rowStride + j·colStride:][:c], and V_ξ = (Bᵀ·d·B)[i][j]
// is written to dst[ξ·dstStride:][:c] for ξ = 6i+j.
func WinogradInput(dst []float32, dstStride int, src []float32, rowStride, colStride, c int) {
	if c <= 0 {
		return
	}
	last := 5*rowStride + 5*colStride + c
	if rowStride < 0 || colStride < 0 || dstStride < c || last > len(src) || (WinoCells-1)*dstStride+c > len(dst) {
		panic(fmt.Sprintf("kernels: WinogradInput: %d channels at strides %d, %d in %d values, out at stride %d in %d",
			c, rowStride, colStride, len(src), dstStride, len(dst)))
	}
	n8 := 0
	if vecFMA {
		n8 = c / 8
	}
	if n8 > 0 {
		winoInputAVX2(&dst[0], dstStride, &src[0], rowStride, colStride, n8)
	}
	for ch := 8 * n8; ch < c; ch++ {
		var d, t [WinoTile][WinoTile]float32
		for i := range d {
			for j := range d[i] {
				d[i][j] = src[i*rowStride+j*colStride+ch]
			}
		}
		for i := range t {
			for j := range t[i] {
				var s float32
				for r := range d {
					s += winoBT[i][r] * d[r][j]
				}
				t[i][j] = s
			}
		}
		for i := range t {
			for j := range t[i] {
				var s float32
				for r := range t[i] {
					s += t[i][r] * winoBT[j][r]
				}
				dst[(i*WinoTile+j)*dstStride+ch] = s
			}
		}
	}
}

// WinogradOutput transforms one tile of products of c channels, M_ξ at
// src[ξ·srcStride:][:c], to its 2×2 outputs Y = Aᵀ·M·A: Y[a][b] is
// written to dst[a·rowStride + b·colStride:][:c].
func WinogradOutput(dst []float32, rowStride, colStride int, src []float32, srcStride, c int) {
	if c <= 0 {
		return
	}
	if rowStride < 0 || colStride < 0 || srcStride < c || (WinoCells-1)*srcStride+c > len(src) || rowStride+colStride+c > len(dst) {
		panic(fmt.Sprintf("kernels: WinogradOutput: %d channels at stride %d in %d values, out at strides %d, %d in %d",
			c, srcStride, len(src), rowStride, colStride, len(dst)))
	}
	n8 := 0
	if vecFMA {
		n8 = c / 8
	}
	if n8 > 0 {
		winoOutputAVX2(&dst[0], rowStride, colStride, &src[0], srcStride, n8)
	}
	for ch := 8 * n8; ch < c; ch++ {
		var s [WinoTile][WinoOut]float32
		for i := range s {
			for b := range s[i] {
				var v float32
				for j := 0; j < WinoTile; j++ {
					v += src[(i*WinoTile+j)*srcStride+ch] * winoAT[b][j]
				}
				s[i][b] = v
			}
		}
		for a := 0; a < WinoOut; a++ {
			for b := 0; b < WinoOut; b++ {
				var v float32
				for i := range s {
					v += winoAT[a][i] * s[i][b]
				}
				dst[a*rowStride+b*colStride+ch] = v
			}
		}
	}
}

// WinogradOutputGrad transforms one 2×2 block of an output gradient of c
// channels, the adjoint of WinogradOutput: dy[a][b] is src[a·rowStride +
// b·colStride:][:c], and Dŷ_ξ = (A·dy·Aᵀ)[i][j] is written to
// dst[ξ·dstStride:][:c] for ξ = 6i+j.
func WinogradOutputGrad(dst []float32, dstStride int, src []float32, rowStride, colStride, c int) {
	if c <= 0 {
		return
	}
	if rowStride < 0 || colStride < 0 || dstStride < c || rowStride+colStride+c > len(src) || (WinoCells-1)*dstStride+c > len(dst) {
		panic(fmt.Sprintf("kernels: WinogradOutputGrad: %d channels at strides %d, %d in %d values, out at stride %d in %d",
			c, rowStride, colStride, len(src), dstStride, len(dst)))
	}
	n8 := 0
	if vecFMA {
		n8 = c / 8
	}
	if n8 > 0 {
		winoOutputGradAVX2(&dst[0], dstStride, &src[0], rowStride, colStride, n8)
	}
	for ch := 8 * n8; ch < c; ch++ {
		var dy [WinoOut][WinoOut]float32
		for a := range dy {
			for b := range dy[a] {
				dy[a][b] = src[a*rowStride+b*colStride+ch]
			}
		}
		// t = A·dy (6×2), then Dŷ = t·Aᵀ; A[i][a] = winoAT[a][i].
		var t [WinoTile][WinoOut]float32
		for i := range t {
			for b := range t[i] {
				t[i][b] = winoAT[0][i]*dy[0][b] + winoAT[1][i]*dy[1][b]
			}
		}
		for i := range t {
			for j := 0; j < WinoTile; j++ {
				dst[(i*WinoTile+j)*dstStride+ch] = t[i][0]*winoAT[0][j] + t[i][1]*winoAT[1][j]
			}
		}
	}
}

// WinogradFilterGrad sets dw [5, 5, C, F] to the filter gradient Gᵀ·Ŵ·G
// of the summed products ŵ [36, C, F] (Ŵ_ξ at ŵ[ξ·C·F:]), the adjoint of
// WinogradFilter: dw = (G⊗G)ᵀ·ŵ, one small product.
func WinogradFilterGrad(dw, what []float32, c, f int) {
	cf := c * f
	if len(dw) != WinoK*WinoK*cf || len(what) != WinoCells*cf {
		panic(fmt.Sprintf("kernels: WinogradFilterGrad: gradient of %d values, products of %d, want %d and %d for %d×%d channels",
			len(dw), len(what), WinoK*WinoK*cf, WinoCells*cf, c, f))
	}
	if cf == 0 {
		return
	}
	Sgemm(true, false, WinoK*WinoK, cf, WinoCells, 1, winoGG, WinoK*WinoK, what, cf, 0, dw, cf)
}
