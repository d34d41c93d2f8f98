package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinogradFilterGradMatchesDirect checks the filter gradient,
// F(5×5, 2×2), against the direct sum (in float64) over a few random
// tiles: dw[kh][kw][c][f] = Σ_tiles Σ_{a,b} d[a+kh][b+kw][c]·dy[a][b][f],
// with channel counts that use the AVX2 loop, the Go loop, or both.
//
// The rounding is bounded by that of the transformed values, not of the
// direct terms: each cell of V mixes the whole 6×6 tile, and with few
// tiles its cancellations are not averaged out (one tile can be off by
// 1e-4 of its four direct terms). So the bound is a few float32 ulps of
// |Gᵀ|·(|Bᵀ|·|d|·|B| ⊙ |A|·|dy|·|Aᵀ|)·|G| summed over the tiles (seen:
// up to 0.05 ulp; a wrong coefficient is off by the terms themselves).
func TestWinogradFilterGradMatchesDirect(t *testing.T) {
	const tiles = 3
	vecPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 17))
		for _, cf := range [][2]int{{1, 1}, {3, 13}, {13, 3}, {8, 8}, {24, 32}, {32, 64}, {64, 24}, {1, 64}} {
			c, f := cf[0], cf[1]
			t.Run(fmt.Sprintf("c=%d,f=%d", c, f), func(t *testing.T) {
				// Each input tile sits in a 9-wide image with 2 spare
				// channels per cell; each dy block in a 3-wide one with 1.
				colStride, dyCol := c+2, f+1
				rowStride, dyRow := 9*colStride, 3*dyCol
				d, dy := make([][]float32, tiles), make([][]float32, tiles)
				// Odd cell strides for the transformed tiles.
				vs, ds := c+3, f+5
				what := make([]float32, WinoCells*c*f)
				bound := make([]float64, WinoCells*c*f) // Σ_tiles |V|⊙|Dŷ| per cell
				v, dyh := make([]float32, (WinoCells-1)*vs+c), make([]float32, (WinoCells-1)*ds+f)
				for tl := range d {
					d[tl], dy[tl] = vecRand(r, 6*rowStride), vecRand(r, 2*dyRow)
					Wino2.Input(v, vs, d[tl], rowStride, colStride, c)
					Wino2.OutputGrad(dyh, ds, dy[tl], dyRow, dyCol, f)
					av := absTransform(d[tl], rowStride, colStride, c, 6, func(i, p int) float32 { return wino2.bt[i][p] })
					ad := absTransform(dy[tl], dyRow, dyCol, f, 2, func(i, a int) float32 { return wino2.at[a][i] })
					for xi := 0; xi < WinoCells; xi++ {
						for ch := 0; ch < c; ch++ {
							for o := 0; o < f; o++ {
								what[(xi*c+ch)*f+o] += v[xi*vs+ch] * dyh[xi*ds+o]
								bound[(xi*c+ch)*f+o] += av[xi*c+ch] * ad[xi*f+o]
							}
						}
					}
				}
				dw := make([]float32, WinoK*WinoK*c*f)
				Wino2.FilterGrad(dw, what, c, f)
				for k := 0; k < WinoK*WinoK; k++ {
					kh, kw := k/WinoK, k%WinoK
					for ch := 0; ch < c; ch++ {
						for o := 0; o < f; o++ {
							var want, mag float64
							for tl := range d {
								for a := 0; a < 2; a++ {
									for b := 0; b < 2; b++ {
										want += float64(d[tl][(a+kh)*rowStride+(b+kw)*colStride+ch]) * float64(dy[tl][a*dyRow+b*dyCol+o])
									}
								}
							}
							for xi := 0; xi < WinoCells; xi++ {
								mag += math.Abs(float64(wino2.gg[xi*WinoK*WinoK+k])) * bound[(xi*c+ch)*f+o]
							}
							got := dw[(k*c+ch)*f+o]
							if diff := math.Abs(float64(got) - want); diff > 1e-6*mag || math.IsNaN(float64(got)) {
								t.Fatalf("dw[%d][%d][%d][%d] = %g, direct sum %g (bound %g)", kh, kw, ch, o, got, want, 1e-6*mag)
							}
						}
					}
				}
			})
		}
	})
}

// absTransform returns |M|·|x|·|M|ᵀ (6×6 cells of c channels, cell ξ at
// [ξ·c:]) for the n×n tile x (cell (a, b) at x[a·rowStride + b·colStride:])
// and the 6×n matrix M given by m(i, a).
func absTransform(x []float32, rowStride, colStride, c, n int, m func(i, a int) float32) []float64 {
	out := make([]float64, WinoCells*c)
	for i := 0; i < WinoTile; i++ {
		for j := 0; j < WinoTile; j++ {
			for a := 0; a < n; a++ {
				for b := 0; b < n; b++ {
					w := math.Abs(float64(m(i, a)) * float64(m(j, b)))
					if w == 0 {
						continue
					}
					for ch := 0; ch < c; ch++ {
						out[(i*WinoTile+j)*c+ch] += w * math.Abs(float64(x[a*rowStride+b*colStride+ch]))
					}
				}
			}
		}
	}
	return out
}

func TestWinogradPanicsOutOfRange(t *testing.T) {
	for name, f := range map[string]func(){
		"input src":   func() { Wino2.Input(make([]float32, 36*8), 8, make([]float32, 35*8), 6*8, 8, 8) },
		"input dst":   func() { Wino2.Input(make([]float32, 35*8), 8, make([]float32, 36*8), 6*8, 8, 8) },
		"output src":  func() { Wino2.Output(make([]float32, 4*8), 16, 8, make([]float32, 35*8), 8, 8) },
		"output dst":  func() { Wino2.Output(make([]float32, 3*8), 16, 8, make([]float32, 36*8), 8, 8) },
		"filter":      func() { Wino2.Filter(make([]float32, 36*4), make([]float32, 24*4), 2, 2) },
		"grad src":    func() { Wino2.OutputGrad(make([]float32, 36*8), 8, make([]float32, 3*8), 16, 8, 8) },
		"grad dst":    func() { Wino2.OutputGrad(make([]float32, 35*8), 8, make([]float32, 4*8), 16, 8, 8) },
		"grad stride": func() { Wino2.OutputGrad(make([]float32, 36*8), 7, make([]float32, 4*8), 16, 8, 8) },
		"filter grad": func() { Wino2.FilterGrad(make([]float32, 25*4), make([]float32, 35*4), 2, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: out-of-range call did not panic", name)
				}
			}()
			f()
		}()
	}
}
