package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winoTile runs the three transforms on one tile: d [6, 6, c] (a tile
// cut from a wider image, cells at the given strides), g [5, 5, c, f];
// it returns the 2×2×f outputs.
func winoTile(t *testing.T, d []float32, rowStride, colStride int, g []float32, c, f int) []float32 {
	t.Helper()
	u := make([]float32, WinoCells*c*f)
	WinogradFilter(u, g, c, f)
	// Odd strides for the transformed tile and the products, so that the
	// kernels' addressing is exercised beyond dense layouts.
	vs, ms := c+3, f+5
	v := make([]float32, (WinoCells-1)*vs+c)
	WinogradInput(v, vs, d, rowStride, colStride, c)
	m := make([]float32, (WinoCells-1)*ms+f)
	for xi := 0; xi < WinoCells; xi++ {
		for o := 0; o < f; o++ {
			var s float32
			for ch := 0; ch < c; ch++ {
				s += v[xi*vs+ch] * u[(xi*c+ch)*f+o]
			}
			m[xi*ms+o] = s
		}
	}
	// Outputs at padded strides too: row stride 2·(f+1)+7, column f+1.
	yr, yc := 2*(f+1)+7, f+1
	y := make([]float32, yr+yc+f)
	WinogradOutput(y, yr, yc, m, ms, f)
	out := make([]float32, 0, 4*f)
	for a := 0; a < 2; a++ {
		for b := 0; b < 2; b++ {
			out = append(out, y[a*yr+b*yc:a*yr+b*yc+f]...)
		}
	}
	return out
}

// TestWinogradTileMatchesDirect checks F(2×2, 5×5) against the direct
// correlation (in float64) of random tiles, with channel counts that use
// the AVX2 loop, the Go loop, or both.
func TestWinogradTileMatchesDirect(t *testing.T) {
	vecPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 11))
		for _, cf := range [][2]int{{1, 1}, {8, 8}, {3, 16}, {13, 9}, {32, 64}, {64, 32}, {24, 17}} {
			c, f := cf[0], cf[1]
			t.Run(fmt.Sprintf("c=%d,f=%d", c, f), func(t *testing.T) {
				// The tile sits in a 9-wide image with 2 spare channels per cell.
				colStride := c + 2
				rowStride := 9 * colStride
				d := vecRand(r, 6*rowStride)
				g := vecRand(r, 25*c*f)
				got := winoTile(t, d, rowStride, colStride, g, c, f)
				for a := 0; a < 2; a++ {
					for b := 0; b < 2; b++ {
						for o := 0; o < f; o++ {
							var want, mag float64
							for kh := 0; kh < 5; kh++ {
								for kw := 0; kw < 5; kw++ {
									for ch := 0; ch < c; ch++ {
										p := float64(d[(a+kh)*rowStride+(b+kw)*colStride+ch]) * float64(g[((kh*5+kw)*c+ch)*f+o])
										want += p
										mag += math.Abs(p)
									}
								}
							}
							if diff := math.Abs(float64(got[(a*2+b)*f+o]) - want); diff > 1e-5*mag+1e-6 {
								t.Fatalf("y[%d][%d][%d] = %g, direct sum %g (|terms| %g)", a, b, o, got[(a*2+b)*f+o], want, mag)
							}
						}
					}
				}
			})
		}
	})
}

// TestWinogradTransformsAsmMatchGo checks that the AVX2 transforms and
// the Go loops agree (same coefficients; the order of the additions may
// differ, so within a few ulps).
func TestWinogradTransformsAsmMatchGo(t *testing.T) {
	if !vecFMA {
		t.Skip("no AVX2 assembly on this CPU or build")
	}
	r := rand.New(rand.NewPCG(3, 5))
	for _, c := range []int{8, 16, 40} {
		colStride := c + 8
		rowStride := 7 * colStride
		d := vecRand(r, 6*rowStride)
		v := [2][]float32{make([]float32, WinoCells*c), make([]float32, WinoCells*c)}
		y := [2][]float32{make([]float32, 4*c), make([]float32, 4*c)}
		for path, on := range []bool{false, true} {
			vecFMA = on
			WinogradInput(v[path], c, d, rowStride, colStride, c)
			WinogradOutput(y[path], 2*c, c, d, c, c)
		}
		vecFMA = true
		for what, pair := range map[string][2][]float32{"input": {v[0], v[1]}, "output": {y[0], y[1]}} {
			for i := range pair[0] {
				if diff := math.Abs(float64(pair[0][i] - pair[1][i])); diff > 1e-5*(1+math.Abs(float64(pair[0][i]))) {
					t.Fatalf("c=%d %s[%d]: Go %g, AVX2 %g", c, what, i, pair[0][i], pair[1][i])
				}
			}
		}
	}
}

func TestWinogradPanicsOutOfRange(t *testing.T) {
	for name, f := range map[string]func(){
		"input src":  func() { WinogradInput(make([]float32, 36*8), 8, make([]float32, 35*8), 6*8, 8, 8) },
		"input dst":  func() { WinogradInput(make([]float32, 35*8), 8, make([]float32, 36*8), 6*8, 8, 8) },
		"output src": func() { WinogradOutput(make([]float32, 4*8), 16, 8, make([]float32, 35*8), 8, 8) },
		"output dst": func() { WinogradOutput(make([]float32, 3*8), 16, 8, make([]float32, 36*8), 8, 8) },
		"filter":     func() { WinogradFilter(make([]float32, 36*4), make([]float32, 24*4), 2, 2) },
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
