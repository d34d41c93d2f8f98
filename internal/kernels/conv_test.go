package kernels

import (
	"fmt"
	"math"
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

// TestConvC1Wide checks that the AVX-512 loops of ConvC1 and ConvC1Grad
// give the AVX2 loops' bits (the same fused multiply-adds in the same
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
			dw0 := vecRand(r, 2*ldw+32)
			run := func(wide bool) (y, dw []float32) {
				c1Wide = wide
				y = make([]float32, (rows*cols-1)*ldy+32)
				ConvC1(y, ldy, x, xRow, w, ldw, offs, rows, cols)
				dw = append([]float32(nil), dw0...)
				ConvC1Grad(dw, ldw, x, xRow, dy, ldy, offs[:3], rows, cols)
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
func BenchmarkConvC1(b *testing.B) {
	r := tensor.NewRand(1)
	const rows, cols, xRow = 28, 28, 32
	var offs []int
	for i := 0; i < 5; i++ {
		for j := 0; j < 5; j++ {
			offs = append(offs, i*xRow+j)
		}
	}
	x := vecRand(r, xRow*xRow)
	w := vecRand(r, 25*32)
	y := make([]float32, rows*cols*32)
	dw := make([]float32, 25*32)
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
					ConvC1(y, 32, x, xRow, w, 32, offs, rows, cols)
				}
				reportFlops(b, 2*rows*cols*25*32, cputime.Process()-cpu0)
			})
			b.Run("filter", func(b *testing.B) {
				cpu0 := cputime.Process()
				for b.Loop() {
					for t := 0; t < 25; t += 3 {
						ConvC1Grad(dw[t*32:], 32, x, xRow, y, 32, offs[t:min(t+3, 25)], rows, cols)
					}
				}
				reportFlops(b, 2*rows*cols*25*32, cputime.Process()-cpu0)
			})
		})
	}
}
