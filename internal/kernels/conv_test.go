package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/internal/cputime"
	"github.com/convnet-go/convnet/tensor"
)

// TestConvC1MatchesDirectSum checks ConvC1 and ConvC1Grad on both paths
// against float64 sums, with strides wider than the 32 channels and
// taps at uneven offsets.
func TestConvC1MatchesDirectSum(t *testing.T) {
	vecPaths(t, func(t *testing.T) {
		r := tensor.NewRand(9)
		const rows, cols, xRow, ldy, ldw = 3, 5, 8, 40, 37
		offs := []int{0, 1, 9, 17, 2}
		x := vecRand(r, (rows-1)*xRow+cols+17)
		w := vecRand(r, (len(offs)-1)*ldw+32)
		y := make([]float32, (rows*cols-1)*ldy+32)
		ConvC1(y, ldy, x, xRow, w, ldw, offs, rows, cols)
		for p := 0; p < rows*cols; p++ {
			for j := 0; j < 32; j++ {
				var want float64
				for ti, o := range offs {
					want += float64(x[p/cols*xRow+p%cols+o]) * float64(w[ti*ldw+j])
				}
				if got := y[p*ldy+j]; math.Abs(float64(got)-want) > 1e-5 {
					t.Fatalf("y[pixel %d][%d] = %g, want %g", p, j, got, want)
				}
			}
		}

		dy := vecRand(r, len(y))
		for n := 1; n <= 3; n++ {
			dw := vecRand(r, (n-1)*ldw+32)
			before := append([]float32(nil), dw...)
			ConvC1Grad(dw, ldw, x, xRow, dy, ldy, offs[:n], rows, cols)
			for ti, o := range offs[:n] {
				for j := 0; j < 32; j++ {
					want := float64(before[ti*ldw+j])
					for p := 0; p < rows*cols; p++ {
						want += float64(x[p/cols*xRow+p%cols+o]) * float64(dy[p*ldy+j])
					}
					if got := dw[ti*ldw+j]; math.Abs(float64(got)-want) > 1e-5 {
						t.Fatalf("%d taps: dw[%d][%d] = %g, want %g", n, ti, j, got, want)
					}
				}
			}
			// The gaps between the taps' rows are left alone.
			for i := 32; i < ldw && n > 1; i++ {
				if dw[i] != before[i] {
					t.Fatalf("%d taps: dw[%d] between rows changed", n, i)
				}
			}
		}
	})
}

// c1Paths runs f on every path of the conv-c1 family this CPU and build
// can run (Go, then AVX2 and AVX-512 where the assembly and the CPU
// allow; AVX-512 also under CONVNET_KERNELS=avx2), each selected by its
// flags.
func c1Paths(t *testing.T, f func(t *testing.T)) {
	paths := []vecPath{{"go", false, false}}
	if vecFMA {
		paths = append(paths, vecPath{"avx2", true, false})
		if hasAVX512F {
			paths = append(paths, vecPath{"avx512", true, true})
		}
	}
	for _, p := range paths {
		fma, wide := vecFMA, c1Wide
		vecFMA, c1Wide = p.fma, p.wide
		t.Run("path="+p.name, f)
		vecFMA, c1Wide = fma, wide
	}
}

// c1Shapes are odd shapes for the conv-c1 loops: every pixel-group size
// of every path (AVX-512 28, 8, 4, 1 and 14, 4, 1; AVX2 6, 2, 1 and 3,
// 1) and its tails, one to 25 taps, strides ldy and ldw wider than the
// channels by extraY and extraW, input rows xRow−cols cells longer.
var c1Shapes = []struct {
	name                   string
	rows, cols, taps, xPad int
	extraY, extraW         int
}{
	{"1 pixel 1 tap", 1, 1, 1, 0, 0, 0},
	{"1 row of 2, 2 taps", 1, 2, 2, 1, 3, 1},
	{"2 rows of 5, 6 taps", 2, 5, 6, 4, 0, 16},
	{"3 rows of 7, 7 taps", 3, 7, 7, 2, 16, 0},
	{"2 rows of 13, 9 taps", 2, 13, 9, 3, 1, 5},
	{"4 rows of 28, 9 taps", 4, 28, 9, 2, 0, 0},
	{"2 rows of 29, 4 taps", 2, 29, 4, 0, 17, 3},
	{"3 rows of 37, 25 taps", 3, 37, 25, 4, 48, 32},
	{"1 row of 61, 5 taps", 1, 61, 5, 9, 2, 2},
}

// c1Inputs returns a random padded input and offsets for shape s: taps
// at distinct uneven offsets within the padding (at most 2 rows below
// and xPad+3 cells right of each pixel).
func c1Inputs(r *rand.Rand, rows, cols, taps, xPad int) (x []float32, xRow int, offs []int) {
	xRow = cols + xPad + 3
	for len(offs) < taps {
		offs = append(offs, r.IntN(3)*xRow+r.IntN(xPad+4))
	}
	return vecRand(r, (rows+2)*xRow), xRow, offs
}

// TestConvC1Widths checks ConvC1, ConvC1x16, ConvC1Grad and ConvC1Grad16
// on every path against float64 sums of the same products (within the
// rounding of one float32 sum of that many terms) on c1Shapes, and that
// they leave every value outside their channels alone.
func TestConvC1Widths(t *testing.T) {
	const fill = 1e6 // a value no sum here reaches
	for _, k := range []struct {
		n, maxTaps int
		conv       func(y []float32, ldy int, x []float32, xRow int, w []float32, ldw int, offs []int, rows, cols int)
		grad       func(dw []float32, ldw int, x []float32, xRow int, dy []float32, ldy int, offs []int, rows, cols int)
	}{
		{32, C1GradTaps, ConvC1, ConvC1Grad},
		{16, C1Grad16Taps, ConvC1x16, ConvC1Grad16},
	} {
		t.Run(fmt.Sprintf("channels=%d", k.n), func(t *testing.T) {
			c1Paths(t, func(t *testing.T) {
				for si, s := range c1Shapes {
					t.Run(s.name, func(t *testing.T) {
						r := tensor.NewRand(uint64(100*k.n + si))
						x, xRow, offs := c1Inputs(r, s.rows, s.cols, s.taps, s.xPad)
						ldy, ldw, px := k.n+s.extraY, k.n+s.extraW, s.rows*s.cols
						in := func(p, o int) float64 { return float64(x[p/s.cols*xRow+p%s.cols+o]) }
						w := vecRand(r, s.taps*ldw)
						y := make([]float32, px*ldy)
						for i := range y {
							y[i] = fill
						}
						k.conv(y, ldy, x, xRow, w, ldw, offs, s.rows, s.cols)
						for p := 0; p < px; p++ {
							for j := 0; j < ldy; j++ {
								got := y[p*ldy+j]
								if j >= k.n {
									if got != fill {
										t.Fatalf("y[pixel %d][%d] = %g, outside the %d channels", p, j, got, k.n)
									}
									continue
								}
								var want, mag float64
								for ti, o := range offs {
									want += in(p, o) * float64(w[ti*ldw+j])
									mag += math.Abs(in(p, o) * float64(w[ti*ldw+j]))
								}
								if !(math.Abs(float64(got)-want) <= float64(s.taps)*0x1p-23*mag) { // NaN fails too
									t.Fatalf("y[pixel %d][%d] = %g, want %g", p, j, got, want)
								}
							}
						}

						dy := vecRand(r, px*ldy)
						for lo := 0; lo < s.taps; lo += k.maxTaps {
							hi := min(lo+k.maxTaps, s.taps)
							dw := vecRand(r, (hi-lo)*ldw)
							before := slices.Clone(dw)
							k.grad(dw, ldw, x, xRow, dy, ldy, offs[lo:hi], s.rows, s.cols)
							for ti, o := range offs[lo:hi] {
								for j := 0; j < ldw; j++ {
									got := dw[ti*ldw+j]
									if j >= k.n {
										if got != before[ti*ldw+j] {
											t.Fatalf("taps %d–%d: dw[%d][%d] changed, outside the %d channels", lo, hi-1, ti, j, k.n)
										}
										continue
									}
									want, mag := float64(before[ti*ldw+j]), math.Abs(float64(before[ti*ldw+j]))
									for p := 0; p < px; p++ {
										want += in(p, o) * float64(dy[p*ldy+j])
										mag += math.Abs(in(p, o) * float64(dy[p*ldy+j]))
									}
									if !(math.Abs(float64(got)-want) <= float64(px+1)*0x1p-23*mag) {
										t.Fatalf("taps %d–%d: dw[%d][%d] = %g, want %g", lo, hi-1, ti, j, got, want)
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

// TestConvC1x16SameBitsAs32 checks the 16-channel loops' contract: on
// every path, ConvC1x16 and ConvC1Grad16 give the bits ConvC1 and
// ConvC1Grad give for the same 16 channels, also when the filter
// gradient's taps are grouped differently (six per call against three).
func TestConvC1x16SameBitsAs32(t *testing.T) {
	c1Paths(t, func(t *testing.T) {
		for si, s := range c1Shapes {
			t.Run(s.name, func(t *testing.T) {
				r := tensor.NewRand(uint64(500 + si))
				x, xRow, offs := c1Inputs(r, s.rows, s.cols, s.taps, s.xPad)
				ldy, ldw, px := 32+s.extraY, 32+s.extraW, s.rows*s.cols
				w := vecRand(r, s.taps*ldw)
				y32, y16 := make([]float32, px*ldy), make([]float32, px*ldy)
				ConvC1(y32, ldy, x, xRow, w, ldw, offs, s.rows, s.cols)
				ConvC1x16(y16, ldy, x, xRow, w, ldw, offs, s.rows, s.cols)
				dy := vecRand(r, px*ldy)
				dw0 := vecRand(r, s.taps*ldw)
				dw32, dw16 := slices.Clone(dw0), slices.Clone(dw0)
				for t := 0; t < s.taps; t += C1GradTaps {
					ConvC1Grad(dw32[t*ldw:], ldw, x, xRow, dy, ldy, offs[t:min(t+C1GradTaps, s.taps)], s.rows, s.cols)
				}
				for t := 0; t < s.taps; t += C1Grad16Taps {
					ConvC1Grad16(dw16[t*ldw:], ldw, x, xRow, dy, ldy, offs[t:min(t+C1Grad16Taps, s.taps)], s.rows, s.cols)
				}
				for i := range px * ldy {
					if i%ldy < 16 && math.Float32bits(y16[i]) != math.Float32bits(y32[i]) {
						t.Fatalf("y[pixel %d][%d]: 16 channels %g, 32 channels %g", i/ldy, i%ldy, y16[i], y32[i])
					}
				}
				for i := range dw0 {
					if i%ldw < 16 && math.Float32bits(dw16[i]) != math.Float32bits(dw32[i]) {
						t.Fatalf("dw[tap %d][%d]: 16 channels %g, 32 channels %g", i/ldw, i%ldw, dw16[i], dw32[i])
					}
				}
			})
		}
	})
}

func TestConvC1PanicsOutOfRange(t *testing.T) {
	offs := []int{0, 1}
	for name, f := range map[string]func(){
		"short y": func() { ConvC1(make([]float32, 63), 32, make([]float32, 10), 4, make([]float32, 64), 32, offs, 1, 2) },
		"short x": func() { ConvC1(make([]float32, 64), 32, make([]float32, 2), 4, make([]float32, 64), 32, offs, 1, 2) },
		"short w": func() { ConvC1(make([]float32, 64), 32, make([]float32, 10), 4, make([]float32, 63), 32, offs, 1, 2) },
		"four taps": func() {
			ConvC1Grad(make([]float32, 128), 32, make([]float32, 10), 4, make([]float32, 64), 32, []int{0, 1, 2, 3}, 1, 2)
		},
		"short dw": func() {
			ConvC1Grad(make([]float32, 63), 32, make([]float32, 10), 4, make([]float32, 64), 32, offs, 1, 2)
		},
		"short y x16": func() {
			ConvC1x16(make([]float32, 31), 16, make([]float32, 10), 4, make([]float32, 32), 16, offs, 1, 2)
		},
		"narrow ldy x16": func() {
			ConvC1x16(make([]float32, 64), 15, make([]float32, 10), 4, make([]float32, 32), 16, offs, 1, 2)
		},
		"short dw x16": func() {
			ConvC1Grad16(make([]float32, 31), 16, make([]float32, 10), 4, make([]float32, 32), 16, offs, 1, 2)
		},
		"seven taps x16": func() {
			ConvC1Grad16(make([]float32, 7*16), 16, make([]float32, 20), 4, make([]float32, 32), 16, []int{0, 1, 2, 3, 4, 5, 6}, 1, 2)
		},
		"negative o": func() {
			ConvC1(make([]float32, 64), 32, make([]float32, 10), 4, make([]float32, 64), 32, []int{-1, 0}, 1, 2)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: did not panic", name)
				}
			}()
			f()
		}()
	}
}

// TestConvC1Wide checks that the AVX-512 loops of ConvC1, ConvC1Grad,
// ConvC1x16 and ConvC1Grad16 give the AVX2 loops' bits (the same fused multiply-adds in the same
// order) on widths that use every pixel-group size (14, 4, 1).
func TestConvC1Wide(t *testing.T) {
	if !hasAVX512F || !vecFMA {
		t.Skip("AVX-512 conv-c1 NOT EXECUTED: no AVX-512F on this CPU, or no assembly in this build")
	}
	defer func(saved bool) { c1Wide = saved }(c1Wide)
	for _, cols := range []int{1, 3, 4, 5, 14, 18, 19, 28, 33} {
		t.Run(fmt.Sprintf("cols=%d", cols), func(t *testing.T) {
			r := tensor.NewRand(uint64(cols))
			const rows, ldy, ldw = 3, 40, 37
			xRow := cols + 9
			offs := []int{0, 1, 9, 17, 2}
			x := vecRand(r, (rows-1)*xRow+cols+17)
			w := vecRand(r, (len(offs)-1)*ldw+32)
			dy := vecRand(r, (rows*cols-1)*ldy+32)
			dw0 := vecRand(r, 4*ldw+32)
			run := func(wide bool) (y, dw []float32) {
				c1Wide = wide
				y = make([]float32, (rows*cols-1)*ldy+32)
				ConvC1(y, ldy, x, xRow, w, ldw, offs, rows, cols)
				dw = append([]float32(nil), dw0...)
				ConvC1Grad(dw, ldw, x, xRow, dy, ldy, offs[:3], rows, cols)
				// The 16-channel loops, offset by 8 channels into the
				// same buffers (their results after ConvC1's).
				ConvC1x16(y[8:], ldy, x, xRow, w, ldw, offs, rows, cols)
				ConvC1Grad16(dw[8:], ldw, x, xRow, dy, ldy, offs[:5], rows, cols)
				return y, dw
			}
			y2, dw2 := run(false)
			y5, dw5 := run(true)
			for i := range y2 {
				if math.Float32bits(y2[i]) != math.Float32bits(y5[i]) {
					t.Fatalf("y[%d]: AVX-512 %g, AVX2 %g", i, y5[i], y2[i])
				}
			}
			for i := range dw2 {
				if math.Float32bits(dw2[i]) != math.Float32bits(dw5[i]) {
					t.Fatalf("dw[%d]: AVX-512 %g, AVX2 %g", i, dw5[i], dw2[i])
				}
			}
		})
	}
}

// BenchmarkConvC1 times the lecture's first layer on one 28×28 image
// (SAME 5×5, input padded to 32×32, 32 channels) and its filter
// gradient, per path: go test -run '^$' -bench ConvC1 ./internal/kernels
func BenchmarkConvC1(b *testing.B) { benchConvC1(b, 5, 32) }

// BenchmarkConvC1x16 times the small ResNet's stem on one 28×28 image
// (SAME 3×3, input padded to 30×30, 16 channels) and its filter
// gradient, per path: go test -run '^$' -bench ConvC1x16 ./internal/kernels
func BenchmarkConvC1x16(b *testing.B) { benchConvC1(b, 3, 16) }

// benchConvC1 times a SAME k×k single-channel convolution to n (32 or
// 16) channels on one 28×28 image and its filter gradient, per path,
// through the package function for n channels.
func benchConvC1(b *testing.B, k, n int) {
	r := tensor.NewRand(1)
	const rows, cols = 28, 28
	xRow, taps := cols+k-1, k*k
	var offs []int
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			offs = append(offs, i*xRow+j)
		}
	}
	fwd, grad, perCall := ConvC1, ConvC1Grad, C1GradTaps
	if n == 16 {
		fwd, grad, perCall = ConvC1x16, ConvC1Grad16, C1Grad16Taps
	}
	x := vecRand(r, xRow*xRow)
	w := vecRand(r, taps*n)
	y := make([]float32, rows*cols*n)
	dw := make([]float32, taps*n)
	defer func(v, c bool) { vecFMA, c1Wide = v, c }(vecFMA, c1Wide)
	for _, p := range []struct {
		name     string
		ok, wide bool
	}{{"go", true, false}, {"avx2", vecFMA, false}, {"avx512", vecFMA && hasAVX512F, true}} {
		b.Run("path="+p.name, func(b *testing.B) {
			if !p.ok {
				b.Skipf("%s NOT EXECUTED: not available here", p.name)
			}
			vecFMA, c1Wide = p.name != "go", p.wide
			b.Run("forward", func(b *testing.B) {
				cpu0 := cputime.Process()
				for b.Loop() {
					fwd(y, n, x, xRow, w, n, offs, rows, cols)
				}
				reportFlops(b, float64(2*rows*cols*taps*n), cputime.Process()-cpu0)
			})
			b.Run("filter", func(b *testing.B) {
				cpu0 := cputime.Process()
				for b.Loop() {
					for t := 0; t < taps; t += perCall {
						grad(dw[t*n:], n, x, xRow, y, n, offs[t:min(t+perCall, taps)], rows, cols)
					}
				}
				reportFlops(b, float64(2*rows*cols*taps*n), cputime.Process()-cpu0)
			})
		})
	}
}
