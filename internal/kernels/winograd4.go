package kernels

import "fmt"

// F(4×4, 5×5): the same construction as F(2×2, 5×5) (winograd.go) with
// the points 0, ±1, ±2, ±1/2 and ∞: 8×8 input tiles, 4×4 output blocks,
// 64 products. Per output pixel that is 64/16 = 4 multiply-adds per
// channel pair instead of F(2×2, 5×5)'s 9 (and the direct 25), at the
// cost of larger transform coefficients (up to 21 in Bᵀ): in float32
// the error stays near 1e-6 of the sum of the terms' magnitudes, about
// 1.5 times F(2×2, 5×5)'s. The rows of Bᵀ and the columns of Aᵀ are
// scaled to integers; G carries the inverse scales.

// WinoScheme is one Winograd algorithm F(m×m, 5×5) for stride-1 5×5
// convolutions: Tile = m+4 is the input tile's side, Out = m the output
// block's, and its three transforms work as WinogradFilter,
// WinogradInput and WinogradOutput do for F(2×2, 5×5).
type WinoScheme struct {
	Name      string
	Tile, Out int
	// Filter sets u [Tile², C, F] from w [5, 5, C, F].
	Filter func(u, w []float32, c, f int)
	// Input transforms one Tile×Tile input tile of c channels.
	Input func(dst []float32, dstStride int, src []float32, rowStride, colStride, c int)
	// Output transforms one tile of products to its Out×Out outputs; it
	// may overwrite src.
	Output func(dst []float32, rowStride, colStride int, src []float32, srcStride, c int)
	// OutputGrad and FilterGrad are the adjoints of Output and Filter,
	// for the filter gradient (see WinogradOutputGrad).
	OutputGrad func(dst []float32, dstStride int, src []float32, rowStride, colStride, c int)
	FilterGrad func(dw, what []float32, c, f int)
}

// Cells is the number of products, Tile².
func (s *WinoScheme) Cells() int { return s.Tile * s.Tile }

// Wino2 is F(2×2, 5×5), Wino4 F(4×4, 5×5).
var (
	Wino2 = &WinoScheme{Name: "F(2x2,5x5)", Tile: WinoTile, Out: WinoOut,
		Filter: WinogradFilter, Input: WinogradInput, Output: WinogradOutput,
		OutputGrad: WinogradOutputGrad, FilterGrad: WinogradFilterGrad}
	Wino4 = &WinoScheme{Name: "F(4x4,5x5)", Tile: 8, Out: 4,
		Filter: winograd4Filter, Input: winograd4Input, Output: winograd4Output,
		OutputGrad: winograd4OutputGrad, FilterGrad: winograd4FilterGrad}
)

// wino8BT (Bᵀ) and wino8AT (Aᵀ) must match the generator's copies in
// _asm/winograd.go.
var (
	wino8BT = [][]float32{
		{4, 0, -21, 0, 21, 0, -4, 0},
		{0, -4, -4, 17, 17, -4, -4, 0},
		{0, 4, -4, -17, 17, 4, -4, 0},
		{0, 2, 1, -10, -5, 8, 4, 0},
		{0, -2, 1, 10, -5, -8, 4, 0},
		{0, 4, 8, -5, -10, 1, 2, 0},
		{0, -4, 8, 5, -10, -1, 2, 0},
		{0, -4, 0, 21, 0, -21, 0, 4},
	}
	wino8AT = [][]float32{
		{1, 1, 1, 1, 1, 8, 8, 0},
		{0, 1, -1, 2, -2, 4, -4, 0},
		{0, 1, 1, 4, 4, 2, 2, 0},
		{0, 1, -1, 8, -8, 1, -1, 1},
	}
	// wino8G is G (8×5), exact fractions.
	wino8G = [][]float64{
		{1.0 / 4, 0, 0, 0, 0},
		{1.0 / 18, 1.0 / 18, 1.0 / 18, 1.0 / 18, 1.0 / 18},
		{1.0 / 18, -1.0 / 18, 1.0 / 18, -1.0 / 18, 1.0 / 18},
		{1.0 / 360, 1.0 / 180, 1.0 / 90, 1.0 / 45, 2.0 / 45},
		{1.0 / 360, -1.0 / 180, 1.0 / 90, -1.0 / 45, 2.0 / 45},
		{2.0 / 45, 1.0 / 45, 1.0 / 90, 1.0 / 180, 1.0 / 360},
		{2.0 / 45, -1.0 / 45, 1.0 / 90, -1.0 / 180, 1.0 / 360},
		{0, 0, 0, 0, 1.0 / 4},
	}
	wino8GG = kron(wino8G)
)

// kron returns G⊗G (n²×25, row ξ = n·i+j, column t = 5·kh+kw) in float32.
func kron(g [][]float64) []float32 {
	n := len(g)
	gg := make([]float32, n*n*WinoK*WinoK)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			for kh := 0; kh < WinoK; kh++ {
				for kw := 0; kw < WinoK; kw++ {
					gg[(i*n+j)*WinoK*WinoK+kh*WinoK+kw] = float32(g[i][kh] * g[j][kw])
				}
			}
		}
	}
	return gg
}

func winograd4Filter(u, w []float32, c, f int) {
	const cells = 64
	cf := c * f
	if len(w) != WinoK*WinoK*cf || len(u) != cells*cf {
		panic(fmt.Sprintf("kernels: Wino4.Filter: filter of %d values, transform of %d, want %d and %d for %d×%d channels",
			len(w), len(u), WinoK*WinoK*cf, cells*cf, c, f))
	}
	if cf == 0 {
		return
	}
	Sgemm(false, false, cells, cf, WinoK*WinoK, 1, wino8GG, WinoK*WinoK, w, cf, 0, u, cf)
}

func winograd4Input(dst []float32, dstStride int, src []float32, rowStride, colStride, c int) {
	const n = 8
	if c <= 0 {
		return
	}
	if rowStride < 0 || colStride < 0 || dstStride < c || (n-1)*(rowStride+colStride)+c > len(src) || (n*n-1)*dstStride+c > len(dst) {
		panic(fmt.Sprintf("kernels: Wino4.Input: %d channels at strides %d, %d in %d values, out at stride %d in %d",
			c, rowStride, colStride, len(src), dstStride, len(dst)))
	}
	n8 := 0
	if vecFMA {
		n8 = c / 8
		if n8 > 0 {
			winoInput8AVX2(&dst[0], dstStride, &src[0], rowStride, colStride, n8)
		}
	}
	for ch := 8 * n8; ch < c; ch++ {
		var d, t [n][n]float32
		for i := range d {
			for j := range d[i] {
				d[i][j] = src[i*rowStride+j*colStride+ch]
			}
		}
		for i := range t {
			for j := range t[i] {
				var s float32
				for r := range d {
					s += wino8BT[i][r] * d[r][j]
				}
				t[i][j] = s
			}
		}
		for i := range t {
			for j := range t[i] {
				var s float32
				for r := range t[i] {
					s += t[i][r] * wino8BT[j][r]
				}
				dst[(i*n+j)*dstStride+ch] = s
			}
		}
	}
}

func winograd4Output(dst []float32, rowStride, colStride int, src []float32, srcStride, c int) {
	const n, m = 8, 4
	if c <= 0 {
		return
	}
	if rowStride < 0 || colStride < 0 || srcStride < c || (n*n-1)*srcStride+c > len(src) || (m-1)*(rowStride+colStride)+c > len(dst) {
		panic(fmt.Sprintf("kernels: Wino4.Output: %d channels at stride %d in %d values, out at strides %d, %d in %d",
			c, srcStride, len(src), rowStride, colStride, len(dst)))
	}
	n8 := 0
	if vecFMA {
		n8 = c / 8
		if n8 > 0 {
			winoOutput8AVX2(&dst[0], rowStride, colStride, &src[0], srcStride, n8)
		}
	}
	for ch := 8 * n8; ch < c; ch++ {
		var s [n][m]float32
		for i := range s {
			for b := range s[i] {
				var v float32
				for j := 0; j < n; j++ {
					v += src[(i*n+j)*srcStride+ch] * wino8AT[b][j]
				}
				s[i][b] = v
			}
		}
		for a := 0; a < m; a++ {
			for b := 0; b < m; b++ {
				var v float32
				for i := range s {
					v += wino8AT[a][i] * s[i][b]
				}
				dst[a*rowStride+b*colStride+ch] = v
			}
		}
	}
}

func winograd4FilterGrad(dw, what []float32, c, f int) {
	const cells = 64
	cf := c * f
	if len(dw) != WinoK*WinoK*cf || len(what) != cells*cf {
		panic(fmt.Sprintf("kernels: Wino4.FilterGrad: gradient of %d values, products of %d, want %d and %d for %d×%d channels",
			len(dw), len(what), WinoK*WinoK*cf, cells*cf, c, f))
	}
	if cf == 0 {
		return
	}
	Sgemm(true, false, WinoK*WinoK, cf, cells, 1, wino8GG, WinoK*WinoK, what, cf, 0, dw, cf)
}

func winograd4OutputGrad(dst []float32, dstStride int, src []float32, rowStride, colStride, c int) {
	const n, m = 8, 4
	if c <= 0 {
		return
	}
	if rowStride < 0 || colStride < 0 || dstStride < c || (m-1)*(rowStride+colStride)+c > len(src) || (n*n-1)*dstStride+c > len(dst) {
		panic(fmt.Sprintf("kernels: Wino4.OutputGrad: %d channels at strides %d, %d in %d values, out at stride %d in %d",
			c, rowStride, colStride, len(src), dstStride, len(dst)))
	}
	n8 := 0
	if vecFMA {
		n8 = c / 8
		if n8 > 0 {
			winoOutputGrad8AVX2(&dst[0], dstStride, &src[0], rowStride, colStride, n8)
		}
	}
	for ch := 8 * n8; ch < c; ch++ {
		// t = A·dy (8×4), then Dŷ = t·Aᵀ; A[i][a] = wino8AT[a][i].
		var t [n][m]float32
		for i := range t {
			for b := range t[i] {
				var v float32
				for a := 0; a < m; a++ {
					v += wino8AT[a][i] * src[a*rowStride+b*colStride+ch]
				}
				t[i][b] = v
			}
		}
		for i := range t {
			for j := 0; j < n; j++ {
				var v float32
				for b := 0; b < m; b++ {
					v += t[i][b] * wino8AT[b][j]
				}
				dst[(i*n+j)*dstStride+ch] = v
			}
		}
	}
}
