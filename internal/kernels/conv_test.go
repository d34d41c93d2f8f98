package kernels

import (
	"math"
	"testing"

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
