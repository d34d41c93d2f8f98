package nn

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// c1Cases are single-input-channel convolutions that run directly: the
// lecture's first layer (also of one image, whose rows the workers
// share), the small ResNet's stem (16 channels, also of one image), 48
// channels (a block of 32 and one of 16) with 25 taps, VALID, uneven
// explicit padding, dilation, 64 channels (two blocks of 32) and a 3-D
// filter of depth 1.
var c1Cases = []convGeomCase{
	{name: "lecture conv1", nsp: 2, in: []int{3, 28, 28, 1}, filter: []int{5, 5, 1, 32}, o: ConvOptions{Padding: "SAME"}, seed: 1},
	{name: "lecture conv1, one image", nsp: 2, in: []int{1, 28, 28, 1}, filter: []int{5, 5, 1, 32}, o: ConvOptions{Padding: "SAME"}, seed: 7},
	{name: "resnet stem", nsp: 2, in: []int{5, 28, 28, 1}, filter: []int{3, 3, 1, 16}, o: ConvOptions{Padding: "SAME"}, seed: 8},
	{name: "resnet stem, one image", nsp: 2, in: []int{1, 28, 28, 1}, filter: []int{3, 3, 1, 16}, o: ConvOptions{Padding: "SAME"}, seed: 9},
	{name: "48 channels", nsp: 2, in: []int{3, 13, 11, 1}, filter: []int{5, 5, 1, 48}, o: ConvOptions{Padding: "SAME"}, seed: 10},
	{name: "16 channels, valid, dilated", nsp: 2, in: []int{2, 12, 17, 1}, filter: []int{3, 4, 1, 16}, o: ConvOptions{Padding: "VALID", Dilations: []int{2, 1}}, seed: 11},
	{name: "valid", nsp: 2, in: []int{2, 9, 7, 1}, filter: []int{3, 2, 1, 64}, o: ConvOptions{Padding: "VALID"}, seed: 2},
	{name: "explicit", nsp: 2, in: []int{2, 5, 6, 1}, filter: []int{4, 3, 1, 32},
		o: ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{3, 0}, {1, 2}}}, seed: 3},
	{name: "dilated", nsp: 2, in: []int{1, 11, 10, 1}, filter: []int{3, 3, 1, 32}, o: ConvOptions{Padding: "SAME", Dilations: []int{2, 3}}, seed: 4},
	{name: "1x1 image", nsp: 2, in: []int{9, 1, 1, 1}, filter: []int{5, 5, 1, 32}, o: ConvOptions{Padding: "SAME"}, seed: 5},
	{name: "3d depth 1", nsp: 3, in: []int{2, 3, 6, 5, 1}, filter: []int{1, 3, 3, 1, 32}, o: ConvOptions{Padding: "SAME"}, seed: 6},
}

// TestConvC1MatchesReference compares the direct single-channel forward
// and filter-gradient paths with the float64 reference (many images, so
// that the filter gradient's fixed groups hold several).
func TestConvC1MatchesReference(t *testing.T) {
	for _, tc := range c1Cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.geom(t)
			if !useConvC1(&s.g, s.f) {
				t.Skipf("geometry %+v does not run directly here (ref kernels?)", s.g)
			}
			x, w := cvRand(tc.seed, tc.in...).Data(), cvRand(tc.seed+100, tc.filter...).Data()
			x64, w64 := cvF64(x), cvF64(w)
			ny := tensor.Size(s.out)
			want, mag := make([]float64, ny), make([]float64, ny)
			convRef(&s.g, s.f, x64, w64, want)
			convRef(&s.g, s.f, abs64(x64), abs64(w64), mag)
			y := make([]float32, ny)
			convForward(&s.g, s.f, x, w, y)
			winoClose(t, "forward", y, want, mag)

			dy := cvRand(tc.seed+200, s.out...).Data()
			dy64 := cvF64(dy)
			wantDw, magDw := make([]float64, len(w)), make([]float64, len(w))
			convBackpropFilterRef(&s.g, s.f, x64, dy64, wantDw)
			convBackpropFilterRef(&s.g, s.f, abs64(x64), abs64(dy64), magDw)
			dw := make([]float32, len(w))
			for i := range dw {
				dw[i] = float32(i) // overwritten, not added to
			}
			convBackpropFilter(&s.g, s.f, x, dy, dw)
			winoClose(t, "filter gradient", dw, wantDw, magDw)
		})
	}
}

// TestConvC1WorkersSameBits runs the direct forward with 1 to 4 workers
// (fewer images than workers share each image's rows) and checks that
// every count gives the bits of one worker.
func TestConvC1WorkersSameBits(t *testing.T) {
	for _, tc := range c1Cases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.geom(t)
			if !useConvC1(&s.g, s.f) {
				t.Skipf("geometry %+v does not run directly here (ref kernels?)", s.g)
			}
			forwardSameBitsAcrossWorkers(t, s, cvRand(tc.seed, tc.in...).Data(), cvRand(tc.seed+100, tc.filter...).Data())
		})
	}
}

func TestConvC1OnlyWhereItApplies(t *testing.T) {
	if kernels.Impl() == "ref" {
		t.Skip("the ref kernels take no direct path")
	}
	for i, tc := range []struct {
		in, filter []int
		o          ConvOptions
		want       bool
	}{
		{[]int{1, 28, 28, 1}, []int{5, 5, 1, 32}, ConvOptions{Padding: "SAME"}, true},
		{[]int{1, 28, 28, 1}, []int{3, 3, 1, 16}, ConvOptions{Padding: "SAME"}, true},
		{[]int{1, 28, 28, 1}, []int{5, 5, 1, 48}, ConvOptions{Padding: "SAME"}, true},
		{[]int{1, 28, 28, 1}, []int{5, 5, 1, 24}, ConvOptions{Padding: "SAME"}, false}, // not a multiple of 16
		{[]int{1, 28, 28, 1}, []int{5, 5, 1, 8}, ConvOptions{Padding: "SAME"}, false},
		{[]int{1, 28, 28, 2}, []int{5, 5, 2, 32}, ConvOptions{Padding: "SAME"}, false}, // two channels
		{[]int{1, 28, 28, 1}, []int{5, 5, 1, 32}, ConvOptions{Padding: "SAME", Strides: []int{2}}, false},
	} {
		s, err := newConvSpec("test", 2, tc.in, tc.filter, tc.o, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := useConvC1(&s.g, s.f); got != tc.want {
			t.Errorf("case %d %s: direct %v, want %v", i, fmt.Sprint(tc.in, tc.filter), got, tc.want)
		}
	}
}
