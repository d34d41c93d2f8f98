package nn

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/tensor"
)

// cvT builds a tensor from a shape and its values.
func cvT(shape []int, vals ...float32) *tensor.Tensor {
	return tensor.Must(tensor.New(shape, vals))
}

// cvRand returns a tensor of N(0, 1) values drawn with seed.
func cvRand(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	t.RandNormal(tensor.NewRand(seed), 0, 1)
	return t
}

func cvF64(a []float32) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = float64(v)
	}
	return out
}

// cvClose fails unless got and want agree within tol·(1 + |want|) elementwise.
func cvClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= tol*(1+math.Abs(float64(want[i])))) {
			t.Fatalf("%s: element %d = %v, want %v (|diff| %.3g)", what, i, got[i], want[i], d)
		}
	}
}

// cvPermute returns t with its dimensions reordered: result dimension i is
// t's dimension perm[i]. It is written independently of the package's
// layout helpers, to test them.
func cvPermute(t *tensor.Tensor, perm ...int) *tensor.Tensor {
	src := t.Shape()
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = src[p]
	}
	srcStride := make([]int, len(src))
	s := 1
	for i := len(src) - 1; i >= 0; i-- {
		srcStride[i] = s
		s *= src[i]
	}
	out := tensor.Zeros(shape...)
	idx := make([]int, len(shape))
	for k := range out.Data() {
		off := 0
		for i, p := range perm {
			off += idx[i] * srcStride[p]
		}
		out.Data()[k] = t.Data()[off]
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

// convFwd dispatches on the number of spatial dimensions.
func convFwd(nsp int, x, w *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return [...]func(*tensor.Tensor, *tensor.Tensor, ConvOptions) (*tensor.Tensor, error){nil, Conv1D, Conv2D, Conv3D}[nsp](x, w, o)
}

func convBwdInput(nsp int, inShape []int, w, dy *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return [...]func([]int, *tensor.Tensor, *tensor.Tensor, ConvOptions) (*tensor.Tensor, error){nil, Conv1DBackpropInput, Conv2DBackpropInput, Conv3DBackpropInput}[nsp](inShape, w, dy, o)
}

func convBwdFilter(nsp int, x *tensor.Tensor, fShape []int, dy *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error) {
	return [...]func(*tensor.Tensor, []int, *tensor.Tensor, ConvOptions) (*tensor.Tensor, error){nil, Conv1DBackpropFilter, Conv2DBackpropFilter, Conv3DBackpropFilter}[nsp](x, fShape, dy, o)
}

// TestConvByHand checks small convolutions worked out on paper.
func TestConvByHand(t *testing.T) {
	cases := []struct {
		name      string
		nsp       int
		in        *tensor.Tensor
		filter    *tensor.Tensor
		o         ConvOptions
		wantShape []int
		want      []float32
	}{
		{
			// The lecture's animation: the 5x5 image and the 3x3 kernel
			// [[1,0,1],[0,1,0],[1,0,1]] give 4 in the top-left cell.
			name: "lecture 5x5 image, 3x3 kernel", nsp: 2,
			in: cvT([]int{1, 5, 5, 1},
				1, 1, 1, 0, 0,
				0, 1, 1, 1, 0,
				0, 0, 1, 1, 1,
				0, 0, 1, 1, 0,
				0, 1, 1, 0, 0),
			filter:    cvT([]int{3, 3, 1, 1}, 1, 0, 1, 0, 1, 0, 1, 0, 1),
			o:         ConvOptions{Padding: "VALID"},
			wantShape: []int{1, 3, 3, 1},
			want:      []float32{4, 3, 4, 2, 4, 3, 2, 3, 4},
		},
		{
			// y[i] = x[i] − x[i+2] (cross-correlation: the filter is not flipped).
			name: "1-D VALID", nsp: 1,
			in:        cvT([]int{1, 5, 1}, 1, 2, 4, 8, 16),
			filter:    cvT([]int{3, 1, 1}, 1, 0, -1),
			o:         ConvOptions{Padding: "VALID"},
			wantShape: []int{1, 3, 1},
			want:      []float32{-3, -6, -12},
		},
		{
			// pad 2 = 1 before + 1 after: y[0] = 0·1 + 1·0 + 2·(−1), y[4] = 8·1 + 16·0 + 0.
			name: "1-D SAME", nsp: 1,
			in:        cvT([]int{1, 5, 1}, 1, 2, 4, 8, 16),
			filter:    cvT([]int{3, 1, 1}, 1, 0, -1),
			o:         ConvOptions{Padding: "SAME"},
			wantShape: []int{1, 5, 1},
			want:      []float32{-2, -3, -6, -12, 8},
		},
		{
			// Even kernel: SAME pads 1 cell, all of it after.
			name: "1-D SAME even kernel pads after", nsp: 1,
			in:        cvT([]int{1, 4, 1}, 1, 2, 3, 4),
			filter:    cvT([]int{2, 1, 1}, 1, 10),
			o:         ConvOptions{Padding: "SAME"},
			wantShape: []int{1, 4, 1},
			want:      []float32{21, 32, 43, 4},
		},
		{
			// 3x3 input, 2x2 kernel [[1,2],[3,4]]: the last row and column see padding.
			name: "2-D SAME even kernel pads bottom and right", nsp: 2,
			in:        cvT([]int{1, 3, 3, 1}, 1, 2, 3, 4, 5, 6, 7, 8, 9),
			filter:    cvT([]int{2, 2, 1, 1}, 1, 2, 3, 4),
			o:         ConvOptions{Padding: "SAME"},
			wantShape: []int{1, 3, 3, 1},
			want:      []float32{37, 47, 21, 67, 77, 33, 23, 26, 9},
		},
		{
			// Window 5 over 2 cells: SAME pads 2 before and 2 after.
			name: "kernel larger than input under SAME", nsp: 1,
			in:        cvT([]int{1, 2, 1}, 1, 2),
			filter:    cvT([]int{5, 1, 1}, 1, 2, 3, 4, 5),
			o:         ConvOptions{Padding: "SAME"},
			wantShape: []int{1, 2, 1},
			want:      []float32{11, 8},
		},
		{
			// x[h, w] = 10h + w over 5x7, 2x2 ones, strides 2 (H) and 3 (W):
			// each output sums the real cells of rows {2i, 2i+1}, columns {3j, 3j+1}.
			name: "stride 2 and 3 unequal", nsp: 2,
			in: cvT([]int{1, 5, 7, 1},
				0, 1, 2, 3, 4, 5, 6,
				10, 11, 12, 13, 14, 15, 16,
				20, 21, 22, 23, 24, 25, 26,
				30, 31, 32, 33, 34, 35, 36,
				40, 41, 42, 43, 44, 45, 46),
			filter:    cvT([]int{2, 2, 1, 1}, 1, 1, 1, 1),
			o:         ConvOptions{Padding: "SAME", Strides: []int{2, 3}},
			wantShape: []int{1, 3, 3, 1},
			want:      []float32{22, 34, 22, 102, 114, 62, 81, 87, 46},
		},
		{
			// Dilation 2: taps at i, i+2, i+4.
			name: "dilation 2", nsp: 1,
			in:        cvT([]int{1, 6, 1}, 1, 2, 3, 4, 5, 6),
			filter:    cvT([]int{3, 1, 1}, 1, 10, 100),
			o:         ConvOptions{Padding: "VALID", Dilations: []int{2}},
			wantShape: []int{1, 2, 1},
			want:      []float32{531, 642},
		},
		{
			// Two images of 1x2 pixels with 2 channels; filter 0 sums
			// 1·x00 + 2·x01 + 3·x10 + 4·x11, filter 1 picks channel 0 of the first pixel.
			name: "batch and channels", nsp: 2,
			in:        cvT([]int{2, 1, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8),
			filter:    cvT([]int{1, 2, 2, 2}, 1, 1, 2, 0, 3, 0, 4, 0),
			o:         ConvOptions{Padding: "VALID"},
			wantShape: []int{2, 1, 1, 2},
			want:      []float32{30, 1, 70, 5},
		},
		{
			// Padded input [0 0 1 2 3 0], filter [1 1].
			name: "explicit padding", nsp: 1,
			in:        cvT([]int{1, 3, 1}, 1, 2, 3),
			filter:    cvT([]int{2, 1, 1}, 1, 1),
			o:         ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{2, 1}}},
			wantShape: []int{1, 5, 1},
			want:      []float32{0, 1, 3, 5, 3},
		},
		{
			// 2x2x2 cube 1..8, 2x2x2 ones: the sum 36.
			name: "3-D VALID", nsp: 3,
			in:        cvT([]int{1, 2, 2, 2, 1}, 1, 2, 3, 4, 5, 6, 7, 8),
			filter:    tensor.Ones(2, 2, 2, 1, 1),
			o:         ConvOptions{Padding: "VALID"},
			wantShape: []int{1, 1, 1, 1, 1},
			want:      []float32{36},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y, err := convFwd(tc.nsp, tc.in, tc.filter, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), tc.wantShape) {
				t.Fatalf("shape %v, want %v", y.Shape(), tc.wantShape)
			}
			cvClose(t, "output", y.Data(), tc.want, 0)
		})
	}
}

// TestConvBackpropByHand: for y = x[i] − x[i+2] (VALID), dx = [g0, g1, g2 − g0, −g1, −g2]
// and dw[k] = Σ_i x[i+k]·g[i].
func TestConvBackpropByHand(t *testing.T) {
	x := cvT([]int{1, 5, 1}, 1, 2, 4, 8, 16)
	w := cvT([]int{3, 1, 1}, 1, 0, -1)
	g := cvT([]int{1, 3, 1}, 1, 10, 100)
	o := ConvOptions{Padding: "VALID"}
	dx, err := Conv1DBackpropInput([]int{1, 5, 1}, w, g, o)
	if err != nil {
		t.Fatal(err)
	}
	cvClose(t, "dx", dx.Data(), []float32{1, 10, 99, -10, -100}, 0)
	dw, err := Conv1DBackpropFilter(x, []int{3, 1, 1}, g, o)
	if err != nil {
		t.Fatal(err)
	}
	// dw[0] = 1 + 20 + 400, dw[1] = 2 + 40 + 800, dw[2] = 4 + 80 + 1600.
	cvClose(t, "dw", dw.Data(), []float32{421, 842, 1684}, 0)
}

// convGeomCase is a convolution geometry for the reference comparisons:
// odd sizes (1, primes), strides, dilations and paddings of every kind.
type convGeomCase struct {
	name    string
	nsp     int
	in      []int // channels-last
	filter  []int
	o       ConvOptions
	seed    uint64
	noGrad  bool // too large for a finite-difference check
	channel bool // also run channels-first
}

var convGeomCases = []convGeomCase{
	{name: "1d same", nsp: 1, in: []int{2, 7, 3}, filter: []int{3, 3, 2}, o: ConvOptions{Padding: "SAME"}, seed: 1, channel: true},
	{name: "1d valid stride 2", nsp: 1, in: []int{1, 11, 2}, filter: []int{4, 2, 3}, o: ConvOptions{Padding: "VALID", Strides: []int{2}}, seed: 2},
	{name: "1d dilation 3", nsp: 1, in: []int{2, 13, 1}, filter: []int{3, 1, 2}, o: ConvOptions{Padding: "SAME", Dilations: []int{3}}, seed: 3},
	{name: "2d same 3x3", nsp: 2, in: []int{2, 5, 7, 3}, filter: []int{3, 3, 3, 2}, o: ConvOptions{Padding: "SAME"}, seed: 4, channel: true},
	{name: "2d valid stride 2x3", nsp: 2, in: []int{1, 7, 11, 2}, filter: []int{3, 2, 2, 3}, o: ConvOptions{Padding: "VALID", Strides: []int{2, 3}}, seed: 5},
	{name: "2d same even kernel stride 2", nsp: 2, in: []int{2, 6, 5, 1}, filter: []int{4, 2, 1, 3}, o: ConvOptions{Padding: "SAME", Strides: []int{1, 2, 2, 1}}, seed: 6, channel: true},
	{name: "2d dilation 2", nsp: 2, in: []int{1, 7, 6, 2}, filter: []int{3, 2, 2, 1}, o: ConvOptions{Padding: "SAME", Dilations: []int{2, 2}}, seed: 7},
	{name: "2d dilation unequal valid", nsp: 2, in: []int{1, 7, 8, 1}, filter: []int{2, 3, 1, 2}, o: ConvOptions{Padding: "VALID", Dilations: []int{3, 2}}, seed: 8},
	{name: "2d explicit", nsp: 2, in: []int{1, 4, 5, 2}, filter: []int{3, 2, 2, 2}, o: ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{2, 0}, {1, 3}}}, seed: 9, channel: true},
	{name: "2d explicit pad beyond window", nsp: 2, in: []int{1, 3, 4, 2}, filter: []int{2, 2, 2, 3}, o: ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{3, 1}, {0, 4}}}, seed: 18},
	{name: "2d kernel larger than input", nsp: 2, in: []int{1, 2, 3, 1}, filter: []int{5, 4, 1, 2}, o: ConvOptions{Padding: "SAME"}, seed: 10},
	{name: "2d 1x1 pointwise", nsp: 2, in: []int{3, 3, 5, 4}, filter: []int{1, 1, 4, 3}, o: ConvOptions{}, seed: 11, channel: true},
	{name: "2d 1x1 stride 2", nsp: 2, in: []int{1, 5, 5, 3}, filter: []int{1, 1, 3, 2}, o: ConvOptions{Strides: []int{2}}, seed: 12},
	{name: "3d same", nsp: 3, in: []int{1, 3, 4, 5, 2}, filter: []int{2, 3, 3, 2, 2}, o: ConvOptions{Padding: "SAME"}, seed: 13, channel: true},
	{name: "3d valid stride", nsp: 3, in: []int{2, 5, 3, 4, 1}, filter: []int{3, 2, 2, 1, 2}, o: ConvOptions{Padding: "VALID", Strides: []int{2, 1, 2}}, seed: 14},
	{name: "3d dilation", nsp: 3, in: []int{1, 5, 4, 5, 1}, filter: []int{2, 2, 2, 1, 1}, o: ConvOptions{Padding: "SAME", Dilations: []int{2, 1, 2}}, seed: 15},
	{name: "2d odd wide", nsp: 2, in: []int{3, 13, 11, 5}, filter: []int{5, 3, 5, 7}, o: ConvOptions{Padding: "SAME"}, seed: 16, noGrad: true, channel: true},
	{name: "2d many channels", nsp: 2, in: []int{2, 9, 9, 17}, filter: []int{3, 3, 17, 31}, o: ConvOptions{Padding: "VALID", Strides: []int{2}}, seed: 17, noGrad: true},
}

// geom returns the validated geometry of a case.
func (c convGeomCase) geom(t *testing.T) *convSpec {
	t.Helper()
	s, err := newConvSpec("test", c.nsp, c.in, c.filter, c.o, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConvGradcheck proves the reference backprops are the gradients of
// the reference forward pass, in float64 with central differences.
func TestConvGradcheck(t *testing.T) {
	for _, tc := range convGeomCases {
		if tc.noGrad {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			s := tc.geom(t)
			checkBackprops(t, tc, tensor.Size(s.out),
				func(x, w, y []float64) { convRef(&s.g, s.f, x, w, y) },
				func(w, dy, dx []float64) { convBackpropInputRef(&s.g, s.f, w, dy, dx) },
				func(x, dy, dw []float64) { convBackpropFilterRef(&s.g, s.f, x, dy, dw) })
		})
	}
}

// checkBackprops checks, in float64 with central differences, that
// bIn and bFilt are the gradients of fwd (y = fwd(x, w), ny values) with
// respect to the input and the filter of case tc.
func checkBackprops(t *testing.T, tc convGeomCase, ny int, fwd, bIn, bFilt func(a, b, out []float64)) {
	t.Helper()
	x := cvF64(cvRand(tc.seed, tc.in...).Data())
	w := cvF64(cvRand(tc.seed+100, tc.filter...).Data())
	wy, f := gradcheck.Project(ny, tc.seed, func(x []float64) []float64 {
		y := make([]float64, ny)
		fwd(x, w, y)
		return y
	})
	dx := make([]float64, len(x))
	bIn(w, wy, dx)
	if err := gradcheck.Check(f, x, dx, gradcheck.Options{}); err != nil {
		t.Errorf("backprop input: %v", err)
	}
	wy, f = gradcheck.Project(ny, tc.seed+1, func(w []float64) []float64 {
		y := make([]float64, ny)
		fwd(x, w, y)
		return y
	})
	dw := make([]float64, len(w))
	bFilt(x, wy, dw)
	if err := gradcheck.Check(f, w, dw, gradcheck.Options{}); err != nil {
		t.Errorf("backprop filter: %v", err)
	}
}

// TestConvMatchesReference compares the exported (fast) ops with the
// float32 references: with the default chunking, stride-1 input
// gradients always computed as flipped-filter convolutions and strided
// ones (without dilation) by sub-pixel phases, and with chunks of a few
// rows (images split across chunks) and input gradients always scattered
// by Col2im.
func TestConvMatchesReference(t *testing.T) {
	defer func(saved tuning) { tune = saved }(tune)
	for _, mode := range []string{"default chunks, flip", "tiny chunks, col2im"} {
		for _, tc := range convGeomCases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				s := tc.geom(t)
				tune.PatchBytes, tune.FlipMinChannels, tune.WorkerPatchBytes, tune.FilterPatchBytes = 2<<20, 0, 256<<10, 1<<20
				tune.PhaseMinChannels = 0
				if mode == "tiny chunks, col2im" {
					tune.PatchBytes, tune.FlipMinChannels, tune.WorkerPatchBytes = 4*3*s.g.PatchLen(), math.MaxInt, 4*3*s.g.PatchLen()
					tune.PhaseMinChannels = math.MaxInt
					tune.FilterPatchBytes = tune.PatchBytes
				}
				x, w := cvRand(tc.seed, tc.in...), cvRand(tc.seed+100, tc.filter...)
				dy := cvRand(tc.seed+200, s.out...)
				y, err := convFwd(tc.nsp, x, w, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				want := make([]float32, tensor.Size(s.out))
				convRef(&s.g, s.f, x.Data(), w.Data(), want)
				cvClose(t, "forward", y.Data(), want, 1e-5)

				dx, err := convBwdInput(tc.nsp, tc.in, w, dy, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				want = make([]float32, x.Len())
				convBackpropInputRef(&s.g, s.f, w.Data(), dy.Data(), want)
				cvClose(t, "backprop input", dx.Data(), want, 1e-5)

				dw, err := convBwdFilter(tc.nsp, x, tc.filter, dy, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				want = make([]float32, w.Len())
				convBackpropFilterRef(&s.g, s.f, x.Data(), dy.Data(), want)
				cvClose(t, "backprop filter", dw.Data(), want, 1e-4)
			})
		}
	}
}

// channelsFirstPerms returns the permutations from channels-last to
// channels-first and back for a rank.
func channelsFirstPerms(rank int) (toFirst, toLast []int) {
	toFirst = []int{0, rank - 1}
	toLast = []int{0}
	for i := 1; i < rank-1; i++ {
		toFirst = append(toFirst, i)
		toLast = append(toLast, i+1)
	}
	return toFirst, append(toLast, 1)
}

// TestConvChannelsFirst checks that NCW/NCHW/NCDHW give the channels-last
// results transposed, for the forward op and both gradients.
func TestConvChannelsFirst(t *testing.T) {
	formats := [...]string{1: "NCW", 2: "NCHW", 3: "NCDHW"}
	for _, tc := range convGeomCases {
		if !tc.channel {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			s := tc.geom(t)
			first, last := channelsFirstPerms(tc.nsp + 2)
			x, w := cvRand(tc.seed, tc.in...), cvRand(tc.seed+100, tc.filter...)
			dy := cvRand(tc.seed+200, s.out...)
			of := tc.o
			of.DataFormat = formats[tc.nsp]
			if len(of.Strides) == tc.nsp+2 { // full-rank form, channels-first
				of.Strides = nil
				for _, p := range first {
					of.Strides = append(of.Strides, tc.o.Strides[p])
				}
			}
			if of.Padding == "EXPLICIT" { // full-rank form, channels-first
				of.ExplicitPaddings = append([][2]int{{0, 0}, {0, 0}}, tc.o.ExplicitPaddings...)
			}
			xf, dyf := cvPermute(x, first...), cvPermute(dy, first...)

			y, err := convFwd(tc.nsp, x, w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			yf, err := convFwd(tc.nsp, xf, w, of)
			if err != nil {
				t.Fatal(err)
			}
			cvClose(t, "forward", cvPermute(yf, last...).Data(), y.Data(), 0)

			dx, err := convBwdInput(tc.nsp, tc.in, w, dy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			dxf, err := convBwdInput(tc.nsp, xf.Shape(), w, dyf, of)
			if err != nil {
				t.Fatal(err)
			}
			cvClose(t, "backprop input", cvPermute(dxf, last...).Data(), dx.Data(), 0)

			dw, err := convBwdFilter(tc.nsp, x, tc.filter, dy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			dwf, err := convBwdFilter(tc.nsp, xf, tc.filter, dyf, of)
			if err != nil {
				t.Fatal(err)
			}
			cvClose(t, "backprop filter", dwf.Data(), dw.Data(), 0)
		})
	}
}

// TestConvDeterministic runs the ops at 1 and 3 workers and with the same
// worker count twice: the results must be bit for bit the same, since the
// chunks and the order of the partial sums do not depend on the workers.
func TestConvDeterministic(t *testing.T) {
	defer func(saved tuning) { tune = saved }(tune)
	x, w := cvRand(1, 3, 9, 8, 4), cvRand(2, 3, 3, 4, 5)
	o := ConvOptions{Padding: "SAME"}
	dy := cvRand(3, 3, 9, 8, 5)
	dw0 := cvRand(4, 3, 3, 4, 2) // depthwise [KH, KW, C, M]
	ddy := cvRand(6, 3, 9, 8, 8)
	// The direct single-channel path and the Winograd path (5×5, 8 channels).
	x1, w1, dy1 := cvRand(7, 11, 9, 8, 1), cvRand(8, 5, 5, 1, 32), cvRand(9, 11, 9, 8, 32)
	x5, w5, dy5 := cvRand(10, 5, 9, 8, 8), cvRand(11, 5, 5, 8, 8), cvRand(12, 5, 9, 8, 8)
	// Strided input gradients: by sub-pixel phases (16 channels) and by
	// Col2im (4 channels).
	o2 := ConvOptions{Padding: "SAME", Strides: []int{2}}
	w16, dy16 := cvRand(13, 3, 3, 16, 8), cvRand(14, 5, 5, 4, 8)
	w4, dy4 := cvRand(15, 3, 3, 4, 8), cvRand(16, 3, 5, 4, 8)
	run := func() [][]float32 {
		tune.PatchBytes = 4 * 7 * 3 * 3 * 4 // 7 rows a chunk: images split, 8 groups
		tune.WorkerPatchBytes, tune.FilterPatchBytes = tune.PatchBytes, tune.PatchBytes
		var outs [][]float32
		for _, op := range []func() (*tensor.Tensor, error){
			func() (*tensor.Tensor, error) { return Conv2D(x, w, o) },
			func() (*tensor.Tensor, error) { return Conv2DBackpropInput(x.Shape(), w, dy, o) },
			func() (*tensor.Tensor, error) { return Conv2DBackpropFilter(x, w.Shape(), dy, o) },
			func() (*tensor.Tensor, error) { return DepthwiseConv2D(x, dw0, o) },
			func() (*tensor.Tensor, error) { return DepthwiseConv2DBackpropInput(x.Shape(), dw0, ddy, o) },
			func() (*tensor.Tensor, error) { return DepthwiseConv2DBackpropFilter(x, dw0.Shape(), ddy, o) },
			func() (*tensor.Tensor, error) { return Conv2D(x1, w1, o) },
			func() (*tensor.Tensor, error) { return Conv2DBackpropFilter(x1, w1.Shape(), dy1, o) },
			func() (*tensor.Tensor, error) { return Conv2D(x5, w5, o) },
			func() (*tensor.Tensor, error) { return Conv2DBackpropInput(x5.Shape(), w5, dy5, o) },
			func() (*tensor.Tensor, error) { return Conv2DBackpropFilter(x5, w5.Shape(), dy5, o) },
			func() (*tensor.Tensor, error) { return Conv2DBackpropInput([]int{5, 9, 8, 16}, w16, dy16, o2) },
			func() (*tensor.Tensor, error) { return Conv2DBackpropInput(x.Shape(), w4, dy4, o2) },
		} {
			r, err := op()
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, r.Data())
		}
		return outs
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	a := run()
	runtime.GOMAXPROCS(3)
	b, c := run(), run()
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] || b[i][j] != c[i][j] {
				t.Fatalf("result %d element %d: %v at 1 worker, %v and %v at 3", i, j, a[i][j], b[i][j], c[i][j])
			}
		}
	}
}

// TestConvErrors checks every refusal, and that the message quotes what
// was received.
func TestConvErrors(t *testing.T) {
	x := tensor.Zeros(1, 5, 5, 3)
	w := tensor.Zeros(3, 3, 3, 4)
	cases := []struct {
		name string
		run  func() error
		want []string
	}{
		{"input rank", func() error { _, err := Conv2D(tensor.Zeros(5, 5, 3), w, ConvOptions{}); return err }, []string{"rank 4", "[5 5 3]"}},
		{"filter rank", func() error { _, err := Conv2D(x, tensor.Zeros(3, 3, 3), ConvOptions{}); return err }, []string{"[KH, KW, C, F]", "[3 3 3]"}},
		{"channels", func() error { _, err := Conv2D(x, tensor.Zeros(3, 3, 2, 4), ConvOptions{}); return err }, []string{"3 channels", "[3 3 2 4]"}},
		{"conv1d rank", func() error { _, err := Conv1D(tensor.Zeros(5, 3), tensor.Zeros(3, 3, 4), ConvOptions{}); return err }, []string{"rank 3", "[5 3]"}},
		{"conv3d rank", func() error { _, err := Conv3D(x, w, ConvOptions{}); return err }, []string{"rank 5"}},
		{"nil input", func() error { _, err := Conv2D(nil, w, ConvOptions{}); return err }, []string{"input is nil"}},
		{"strides with dilations", func() error {
			_, err := Conv2D(x, w, ConvOptions{Padding: "SAME", Strides: []int{2, 1}, Dilations: []int{1, 2}})
			return err
		}, []string{"strides [2 1]", "dilations [1 2]"}},
		{"stride over batch", func() error { _, err := Conv2D(x, w, ConvOptions{Strides: []int{2, 1, 1, 1}}); return err }, []string{"[2 1 1 1]", "batch"}},
		{"dilation over channels", func() error { _, err := Conv2D(x, w, ConvOptions{Dilations: []int{1, 1, 1, 2}}); return err }, []string{"[1 1 1 2]"}},
		{"stride count", func() error { _, err := Conv2D(x, w, ConvOptions{Strides: []int{1, 1, 1}}); return err }, []string{"[1 1 1]", "want 1, 2 or 4"}},
		{"zero stride", func() error { _, err := Conv2D(x, w, ConvOptions{Strides: []int{0}}); return err }, []string{"[0]"}},
		{"VALID negative output", func() error { _, err := Conv2D(tensor.Zeros(1, 1, 5, 3), w, ConvOptions{Padding: "VALID"}); return err }, []string{"negative", "[1 5]"}},
		{"VALID negative output dilated", func() error {
			_, err := Conv2D(tensor.Zeros(1, 3, 5, 3), w, ConvOptions{Padding: "VALID", Dilations: []int{2}})
			return err
		}, []string{"negative"}},
		{"bad padding", func() error { _, err := Conv2D(x, w, ConvOptions{Padding: "FULL"}); return err }, []string{`"FULL"`}},
		{"explicit count", func() error {
			_, err := Conv2D(x, w, ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{1, 1}}})
			return err
		}, []string{"[[1 1]]"}},
		{"explicit over channels", func() error {
			_, err := Conv2D(x, w, ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{0, 0}, {1, 1}, {1, 1}, {1, 0}}})
			return err
		}, []string{"batch or channel"}},
		{"explicit without EXPLICIT", func() error {
			_, err := Conv2D(x, w, ConvOptions{Padding: "SAME", ExplicitPaddings: [][2]int{{1, 1}, {1, 1}}})
			return err
		}, []string{"EXPLICIT"}},
		{"data format", func() error { _, err := Conv2D(x, w, ConvOptions{DataFormat: "NCW"}); return err }, []string{`"NCW"`, "NHWC"}},
		{"zero window", func() error { _, err := Conv2D(x, tensor.Zeros(0, 3, 3, 4), ConvOptions{}); return err }, []string{"[0 3 3 4]"}},
		{"backprop input shape rank", func() error {
			_, err := Conv2DBackpropInput([]int{1, 5, 5}, w, tensor.Zeros(1, 3, 3, 4), ConvOptions{})
			return err
		}, []string{"[1 5 5]"}},
		{"backprop input negative shape", func() error {
			_, err := Conv2DBackpropInput([]int{1, -5, 5, 3}, w, tensor.Zeros(1, 3, 3, 4), ConvOptions{})
			return err
		}, []string{"[1 -5 5 3]"}},
		{"backprop input grad shape", func() error {
			_, err := Conv2DBackpropInput([]int{1, 5, 5, 3}, w, tensor.Zeros(1, 5, 5, 4), ConvOptions{Padding: "VALID"})
			return err
		}, []string{"grad has shape [1 5 5 4]", "[1 3 3 4]"}},
		{"backprop input grad channels", func() error {
			_, err := Conv2DBackpropInput([]int{1, 5, 5, 3}, w, tensor.Zeros(1, 5, 5, 2), ConvOptions{Padding: "SAME"})
			return err
		}, []string{"[1 5 5 2]", "[1 5 5 4]"}},
		{"backprop input filter channels", func() error {
			_, err := Conv2DBackpropInput([]int{1, 5, 5, 2}, w, tensor.Zeros(1, 5, 5, 4), ConvOptions{Padding: "SAME"})
			return err
		}, []string{"2 channels", "[3 3 3 4]"}},
		{"backprop filter shape mismatch", func() error {
			_, err := Conv2DBackpropFilter(x, []int{3, 3, 2, 4}, tensor.Zeros(1, 5, 5, 4), ConvOptions{Padding: "SAME"})
			return err
		}, []string{"3 channels", "[3 3 2 4]"}},
		{"backprop filter shape rank", func() error {
			_, err := Conv2DBackpropFilter(x, []int{3, 3, 3}, tensor.Zeros(1, 5, 5, 4), ConvOptions{Padding: "SAME"})
			return err
		}, []string{"[3 3 3]"}},
		{"backprop filter grad shape", func() error {
			_, err := Conv2DBackpropFilter(x, []int{3, 3, 3, 4}, tensor.Zeros(1, 5, 5, 5), ConvOptions{Padding: "SAME"})
			return err
		}, []string{"[1 5 5 5]", "[1 5 5 4]"}},
		{"backprop filter nil grad", func() error {
			_, err := Conv3DBackpropFilter(tensor.Zeros(1, 2, 2, 2, 1), []int{1, 1, 1, 1, 1}, nil, ConvOptions{})
			return err
		}, []string{"grad is nil"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestConvEmpty: a zero-sized batch or channel count gives an empty or
// zero result, not a panic.
func TestConvEmpty(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in, fs []int
		want   []int
	}{
		{"empty batch", []int{0, 4, 4, 2}, []int{3, 3, 2, 3}, []int{0, 4, 4, 3}},
		{"no input channels", []int{2, 4, 4, 0}, []int{3, 3, 0, 3}, []int{2, 4, 4, 3}},
		{"no filters", []int{2, 4, 4, 2}, []int{3, 3, 2, 0}, []int{2, 4, 4, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := Conv2D(tensor.Zeros(tc.in...), tensor.Zeros(tc.fs...), ConvOptions{Padding: "SAME"})
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), tc.want) {
				t.Fatalf("shape %v, want %v", y.Shape(), tc.want)
			}
			for _, v := range y.Data() {
				if v != 0 {
					t.Fatalf("value %v, want 0", v)
				}
			}
			if _, err := Conv2DBackpropInput(tc.in, tensor.Zeros(tc.fs...), y, ConvOptions{Padding: "SAME"}); err != nil {
				t.Fatal(err)
			}
			if _, err := Conv2DBackpropFilter(tensor.Zeros(tc.in...), tc.fs, y, ConvOptions{Padding: "SAME"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestConvChunks checks the chunk plan: it covers every row once, in
// order, within the bound, and never puts two images' parts in one chunk
// unless it holds them whole.
func TestConvChunks(t *testing.T) {
	for _, tc := range []struct{ n, imgRows, maxRows int }{
		{1, 1, 1}, {5, 7, 7}, {5, 7, 20}, {3, 10, 4}, {4, 9, 100}, {2, 13, 5},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			chunks, perImage := convChunks(tc.n, tc.imgRows, tc.maxRows)
			next := 0
			for _, c := range chunks {
				if c[0] != next || c[1] <= c[0] || c[1]-c[0] > tc.maxRows {
					t.Fatalf("chunks %v", chunks)
				}
				whole := c[0]%tc.imgRows == 0 && c[1]%tc.imgRows == 0
				sameImage := c[0]/tc.imgRows == (c[1]-1)/tc.imgRows
				if (perImage == 0 && !whole) || (perImage > 0 && !sameImage) {
					t.Fatalf("chunk %v mixes images (perImage %d): %v", c, perImage, chunks)
				}
				next = c[1]
			}
			if next != tc.n*tc.imgRows || (perImage > 0 && len(chunks) != perImage*tc.n) {
				t.Fatalf("chunks %v cover %d rows of %d (perImage %d)", chunks, next, tc.n*tc.imgRows, perImage)
			}
		})
	}
}

// TestConvRowsSpreadSameBits: a one-image im2col convolution small
// enough to run on one goroutine or with its rows spread over two
// workers (the ResNet's stride-2 3×3 layer at batch 1, and one whose
// rows split off whole micro-kernel tiles nowhere) gives the bits of the
// split path without a timer both ways, with a bias and ReLU; through its
// plan, whose timer runs and times each way in the first calls, too.
func TestConvRowsSpreadSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	for _, in := range [][]int{{1, 28, 28, 16}, {1, 25, 25, 16}} {
		filter := []int{3, 3, 16, 32}
		s, err := newConvSpec("test", 2, in, filter, ConvOptions{Strides: []int{2, 2}, Padding: "SAME"}, false)
		if err != nil {
			t.Fatal(err)
		}
		p := planChunked(passForward, &s.g, s.f, tune.WorkerPatchBytes) // a fresh timer
		if p.algo != algoIm2col || !p.split || p.ways == nil {
			t.Fatalf("%v ⊛ %v stride 2: plan %v (timer %v), want one chunk on a timer", in, filter, p, p.ways != nil)
		}
		x, w := cvRand(1, in...).Data(), cvRand(2, filter...).Data()
		ep := epilogue{bias: cvRand(3, s.f).Data(), relu: true}
		// The split path without a timer (im2col over the workers, Sgemm)
		// gives the bits to hold both ways to.
		untimed := *p
		untimed.ways = nil
		want := make([]float32, tensor.Size(s.out))
		convForwardPlan(&untimed, &s.g, s.f, x, w, want, ep)
		for _, spread := range []bool{false, true} {
			y := make([]float32, len(want))
			convRows(p, &s.g, s.f, x, w, y, ep, spread)
			bitsEqual(t, fmt.Sprintf("%v ⊛ %v, spread %v", in, filter, spread), y, want)
		}
		for call := range probeRuns + 2 {
			y := make([]float32, len(want))
			convForwardPlan(p, &s.g, s.f, x, w, y, ep)
			bitsEqual(t, fmt.Sprintf("%v ⊛ %v, call %d", in, filter, call), y, want)
		}
		if p.ways.ns[wayOne].Load() == 0 || p.ways.ns[waySpread].Load() == 0 {
			t.Errorf("%v: after %d calls the timer has timed ways %v, %v; want both", in, probeRuns+2, p.ways.ns[wayOne].Load(), p.ways.ns[waySpread].Load())
		}
	}
}
