package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinoSchemesMatchDirect runs each scheme's three transforms on
// random tiles cut from a wider image and compares its m×m outputs with
// the direct correlation in float64, on both paths and with channel
// counts that use the AVX2 loop, the Go loop or both.
func TestWinoSchemesMatchDirect(t *testing.T) {
	for _, s := range WinoSchemes {
		t.Run(s.Name, func(t *testing.T) {
			vecPaths(t, func(t *testing.T) {
				r := rand.New(rand.NewPCG(5, uint64(s.Tile)))
				for _, cf := range [][2]int{{1, 1}, {8, 8}, {3, 16}, {13, 9}, {32, 64}, {64, 32}, {24, 17}} {
					c, f := cf[0], cf[1]
					t.Run(fmt.Sprintf("c=%d,f=%d", c, f), func(t *testing.T) {
						n, m, cells := s.Tile, s.Out, s.Cells()
						colStride := c + 2
						rowStride := (n + 3) * colStride
						d := vecRand(r, n*rowStride)
						k := s.K
						g := vecRand(r, k*k*c*f)
						u := make([]float32, cells*c*f)
						s.Filter(u, g, c, f)
						vs, ms := c+3, f+5
						v := make([]float32, (cells-1)*vs+c)
						s.Input(v, vs, d, rowStride, colStride, c)
						prod := make([]float32, (cells-1)*ms+f)
						for xi := 0; xi < cells; xi++ {
							for o := 0; o < f; o++ {
								var acc float32
								for ch := 0; ch < c; ch++ {
									acc += v[xi*vs+ch] * u[(xi*c+ch)*f+o]
								}
								prod[xi*ms+o] = acc
							}
						}
						yr, yc := m*(f+1)+7, f+1
						y := make([]float32, (m-1)*(yr+yc)+f)
						s.Output(y, yr, yc, prod, ms, f)
						for a := 0; a < m; a++ {
							for b := 0; b < m; b++ {
								for o := 0; o < f; o++ {
									var want, mag float64
									for kh := 0; kh < k; kh++ {
										for kw := 0; kw < k; kw++ {
											for ch := 0; ch < c; ch++ {
												p := float64(d[(a+kh)*rowStride+(b+kw)*colStride+ch]) * float64(g[((kh*k+kw)*c+ch)*f+o])
												want += p
												mag += math.Abs(p)
											}
										}
									}
									got := y[a*yr+b*yc+o]
									if diff := math.Abs(float64(got) - want); diff > 1e-5*mag+1e-6 || math.IsNaN(float64(got)) {
										t.Fatalf("y[%d][%d][%d] = %g, direct sum %g (|terms| %g)", a, b, o, got, want, mag)
									}
								}
							}
						}
					})
				}
			})
		})
	}
}

// TestWinoSchemesAsmMatchGo: the AVX2 transforms of each scheme agree
// with the Go loops within a few ulps of the terms.
func TestWinoSchemesAsmMatchGo(t *testing.T) {
	if !vecFMA {
		t.Skip("no AVX2 assembly on this CPU or build")
	}
	defer func() { vecFMA = true }()
	r := rand.New(rand.NewPCG(3, 8))
	for _, s := range WinoSchemes {
		for _, c := range []int{8, 24, 40} {
			n, m, cells := s.Tile, s.Out, s.Cells()
			colStride := c + 8
			rowStride := (n + 1) * colStride
			d := vecRand(r, n*rowStride)
			var v, y, dyh [2][]float32
			for path, on := range []bool{false, true} {
				vecFMA = on
				v[path] = make([]float32, cells*c)
				s.Input(v[path], c, d, rowStride, colStride, c)
				y[path] = make([]float32, m*m*c)
				s.Output(y[path], m*c, c, append([]float32(nil), d[:cells*c]...), c, c)
				dyh[path] = make([]float32, cells*c)
				s.OutputGrad(dyh[path], c, d, rowStride, colStride, c)
			}
			for what, pair := range map[string][2][]float32{"input": v, "output": y, "output grad": dyh} {
				for i := range pair[0] {
					if diff := math.Abs(float64(pair[0][i] - pair[1][i])); diff > 1e-4*(1+math.Abs(float64(pair[0][i]))) {
						t.Fatalf("%s c=%d %s[%d]: Go %g, AVX2 %g", s.Name, c, what, i, pair[0][i], pair[1][i])
					}
				}
			}
		}
	}
}

func TestWino4PanicsOutOfRange(t *testing.T) {
	for name, f := range map[string]func(){
		"input src":  func() { Wino4.Input(make([]float32, 64*8), 8, make([]float32, 63*8), 8*8, 8, 8) },
		"input dst":  func() { Wino4.Input(make([]float32, 63*8), 8, make([]float32, 64*8), 8*8, 8, 8) },
		"output src": func() { Wino4.Output(make([]float32, 16*8), 32, 8, make([]float32, 63*8), 8, 8) },
		"output dst": func() { Wino4.Output(make([]float32, 15*8), 32, 8, make([]float32, 64*8), 8, 8) },
		"filter":     func() { Wino4.Filter(make([]float32, 63*4), make([]float32, 25*4), 2, 2) },
		"grad src":   func() { Wino4.OutputGrad(make([]float32, 64*8), 8, make([]float32, 15*8), 32, 8, 8) },
		"grad dst":   func() { Wino4.OutputGrad(make([]float32, 63*8), 8, make([]float32, 16*8), 32, 8, 8) },
		"filtergrad": func() { Wino4.FilterGrad(make([]float32, 25*4), make([]float32, 63*4), 2, 2) },
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

// TestWinoSchemesFilterGradMatchesDirect checks each scheme's adjoint
// transforms: Σ over tiles of V⊙Dŷ, through FilterGrad, is the direct
// filter gradient Σ_tiles Σ_{a,b} d[a+kh][b+kw]·dy[a][b], on both paths.
// The tolerance counts a fifth of the largest magnitude, as a tile mixes
// all its inputs.
func TestWinoSchemesFilterGradMatchesDirect(t *testing.T) {
	const tiles = 3
	for _, s := range WinoSchemes {
		t.Run(s.Name, func(t *testing.T) {
			vecPaths(t, func(t *testing.T) {
				r := rand.New(rand.NewPCG(17, uint64(s.Tile)))
				for _, cf := range [][2]int{{1, 1}, {3, 13}, {8, 8}, {24, 32}, {32, 64}} {
					c, f := cf[0], cf[1]
					t.Run(fmt.Sprintf("c=%d,f=%d", c, f), func(t *testing.T) {
						n, m, cells := s.Tile, s.Out, s.Cells()
						colStride, dyCol := c+2, f+1
						rowStride, dyRow := (n+3)*colStride, (m+1)*dyCol
						vs, ds := c+3, f+5
						what := make([]float32, cells*c*f)
						v, dyh := make([]float32, (cells-1)*vs+c), make([]float32, (cells-1)*ds+f)
						d, dy := make([][]float32, tiles), make([][]float32, tiles)
						for tl := range d {
							d[tl], dy[tl] = vecRand(r, n*rowStride), vecRand(r, m*dyRow)
							s.Input(v, vs, d[tl], rowStride, colStride, c)
							s.OutputGrad(dyh, ds, dy[tl], dyRow, dyCol, f)
							for xi := 0; xi < cells; xi++ {
								for ch := 0; ch < c; ch++ {
									for o := 0; o < f; o++ {
										what[(xi*c+ch)*f+o] += v[xi*vs+ch] * dyh[xi*ds+o]
									}
								}
							}
						}
						taps := s.K * s.K
						dw := make([]float32, taps*c*f)
						s.FilterGrad(dw, what, c, f)
						want, mag := make([]float64, len(dw)), make([]float64, len(dw))
						top := 0.0
						for k := 0; k < taps; k++ {
							kh, kw := k/s.K, k%s.K
							for ch := 0; ch < c; ch++ {
								for o := 0; o < f; o++ {
									i := (k*c+ch)*f + o
									for tl := range d {
										for a := 0; a < m; a++ {
											for b := 0; b < m; b++ {
												p := float64(d[tl][(a+kh)*rowStride+(b+kw)*colStride+ch]) * float64(dy[tl][a*dyRow+b*dyCol+o])
												want[i] += p
												mag[i] += math.Abs(p)
											}
										}
									}
									top = max(top, mag[i])
								}
							}
						}
						for i, got := range dw {
							if diff := math.Abs(float64(got) - want[i]); diff > 1e-5*(mag[i]+top/5) || math.IsNaN(float64(got)) {
								t.Fatalf("dw[%d] = %g, direct sum %g (|terms| %g, largest %g)", i, got, want[i], mag[i], top)
							}
						}
					})
				}
			})
		})
	}
}
