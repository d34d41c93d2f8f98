package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// im2colCases are odd geometries: size-1 and prime dimensions, windows
// wider than the input, padding larger than the window, strides and
// dilations that skip cells.
var im2colCases = []struct {
	name string
	g    ConvGeom
}{
	{"1x1", ConvGeom{N: 1, C: 1, In: [3]int{1, 1, 1}, K: [3]int{1, 1, 1}, Out: [3]int{1, 1, 1}, Stride: [3]int{1, 1, 1}, Dilation: [3]int{1, 1, 1}}},
	{"2d same 3x3", ConvGeom{N: 2, C: 3, In: [3]int{1, 5, 7}, K: [3]int{1, 3, 3}, Out: [3]int{1, 5, 7}, Stride: [3]int{1, 1, 1}, Dilation: [3]int{1, 1, 1}, Pad: [3]int{0, 1, 1}}},
	{"2d stride 2x3", ConvGeom{N: 1, C: 2, In: [3]int{1, 7, 11}, K: [3]int{1, 2, 4}, Out: [3]int{1, 4, 4}, Stride: [3]int{1, 2, 3}, Dilation: [3]int{1, 1, 1}, Pad: [3]int{0, 0, 1}}},
	{"2d dilation 2", ConvGeom{N: 2, C: 5, In: [3]int{1, 6, 5}, K: [3]int{1, 3, 2}, Out: [3]int{1, 6, 5}, Stride: [3]int{1, 1, 1}, Dilation: [3]int{1, 2, 2}, Pad: [3]int{0, 2, 1}}},
	{"window wider than input", ConvGeom{N: 1, C: 2, In: [3]int{1, 2, 3}, K: [3]int{1, 5, 7}, Out: [3]int{1, 2, 3}, Stride: [3]int{1, 1, 1}, Dilation: [3]int{1, 1, 1}, Pad: [3]int{0, 2, 3}}},
	{"explicit large pad", ConvGeom{N: 1, C: 1, In: [3]int{1, 3, 3}, K: [3]int{1, 2, 2}, Out: [3]int{1, 6, 6}, Stride: [3]int{1, 1, 1}, Dilation: [3]int{1, 1, 1}, Pad: [3]int{0, 3, 3}}},
	{"wide runs", ConvGeom{N: 2, C: 8, In: [3]int{1, 5, 6}, K: [3]int{1, 3, 3}, Out: [3]int{1, 5, 6}, Stride: [3]int{1, 1, 1}, Dilation: [3]int{1, 1, 1}, Pad: [3]int{0, 1, 1}}},
	{"wide runs stride 2 dilation", ConvGeom{N: 1, C: 9, In: [3]int{1, 7, 7}, K: [3]int{1, 2, 3}, Out: [3]int{1, 4, 3}, Stride: [3]int{1, 2, 2}, Dilation: [3]int{1, 2, 3}, Pad: [3]int{0, 1, 2}}},
	{"stride 2 wide runs", ConvGeom{N: 2, C: 16, In: [3]int{1, 9, 9}, K: [3]int{1, 3, 3}, Out: [3]int{1, 5, 5}, Stride: [3]int{1, 2, 2}, Dilation: [3]int{1, 1, 1}, Pad: [3]int{0, 1, 1}}},
	{"3d", ConvGeom{N: 2, C: 3, In: [3]int{3, 4, 5}, K: [3]int{2, 3, 3}, Out: [3]int{2, 2, 3}, Stride: [3]int{2, 2, 2}, Dilation: [3]int{1, 1, 1}, Pad: [3]int{0, 1, 1}}},
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestIm2colMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	defer func(v int) { shortRun = v }(shortRun)
	for _, tc := range im2colCases {
		for _, run := range []int{0, 1 << 20} {
			shortRun = run
			t.Run(fmt.Sprintf("%s/shortRun=%d", tc.name, run), func(t *testing.T) {
				g := tc.g
				x := randSlice(r, g.N*g.In[0]*g.In[1]*g.In[2]*g.C)
				rows, p := g.OutPositions(), g.PatchLen()
				// Whole matrix, and an interior range that crosses images.
				for _, rg := range [][2]int{{0, rows}, {rows / 3, rows - 1}} {
					lo, hi := rg[0], rg[1]
					got := randSlice(r, (hi-lo)*p) // garbage to be overwritten
					want := make([]float32, (hi-lo)*p)
					Im2col(&g, x, lo, hi, got)
					Im2colRef(&g, x, lo, hi, want)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("rows [%d,%d): element %d = %v, want %v", lo, hi, i, got[i], want[i])
						}
					}
				}
			})
		}
	}
}

func TestCol2imMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range im2colCases {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.g
			n := g.N * g.In[0] * g.In[1] * g.In[2] * g.C
			rows, p := g.OutPositions(), g.PatchLen()
			lo, hi := rows/4, rows
			cols := randSlice(r, (hi-lo)*p)
			start := randSlice(r, n) // Col2im accumulates onto what is there
			got := append([]float32(nil), start...)
			want := append([]float32(nil), start...)
			Col2im(&g, cols, lo, hi, got)
			Col2imRef(&g, cols, lo, hi, want)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("element %d = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestCol2imIsAdjoint checks ⟨Im2col(x), c⟩ = ⟨x, Col2im(c)⟩, which is
// what makes Col2im the backward pass of Im2col.
func TestCol2imIsAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range im2colCases {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.g
			n := g.N * g.In[0] * g.In[1] * g.In[2] * g.C
			rows, p := g.OutPositions(), g.PatchLen()
			x := randSlice(r, n)
			c := randSlice(r, rows*p)
			px := make([]float32, rows*p)
			Im2col(&g, x, 0, rows, px)
			dx := make([]float32, n)
			Col2im(&g, c, 0, rows, dx)
			var lhs, rhs, scale float64
			for i := range c {
				lhs += float64(px[i]) * float64(c[i])
				scale += math.Abs(float64(px[i]) * float64(c[i]))
			}
			for i := range x {
				rhs += float64(x[i]) * float64(dx[i])
			}
			if math.Abs(lhs-rhs) > 1e-5*(1+scale) {
				t.Fatalf("⟨Im2col(x), c⟩ = %v but ⟨x, Col2im(c)⟩ = %v", lhs, rhs)
			}
		})
	}
}
