package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
)

// TestFusedBatchNormReluConv2DMatchesOps: FusedBatchNormReluConv2D and
// its gradient give the bits of FusedBatchNormRelu, Conv2D, then
// Conv2DBackpropInput, Conv2DBackpropFilter and FusedBatchNormReluGrad,
// on the plans that make the batch norm's output as they read it
// (Winograd: whole padded slices, and slices too large to copy whose
// tiles are gathered one by one; a batch of one, which runs either way
// its timer chooses, spread deterministically in
// TestWinogradSpreadSameBits) and on those that make it in a buffer
// first (a stride, a 1×1 product, a 5×5 window with few channels). x
// has a NaN, and values the ReLU zeroes.
func TestFusedBatchNormReluConv2DMatchesOps(t *testing.T) {
	for _, tc := range []struct {
		in, filter []int
		o          ConvOptions
		winograd   bool // the forward plan is Winograd's (where it is on)
	}{
		{[]int{2, 12, 12, 16}, []int{3, 3, 16, 16}, ConvOptions{Padding: "SAME"}, true},
		{[]int{4, 28, 28, 16}, []int{3, 3, 16, 16}, ConvOptions{Padding: "SAME"}, true},
		{[]int{1, 28, 28, 16}, []int{3, 3, 16, 16}, ConvOptions{Padding: "SAME"}, true},
		{[]int{1, 72, 70, 16}, []int{3, 3, 16, 16}, ConvOptions{Padding: "SAME"}, true},
		{[]int{2, 13, 11, 24}, []int{3, 3, 24, 8}, ConvOptions{Padding: "VALID"}, true},
		{[]int{2, 14, 14, 32}, []int{5, 5, 32, 64}, ConvOptions{Padding: "SAME"}, true},
		{[]int{2, 12, 12, 16}, []int{3, 3, 16, 32}, ConvOptions{Padding: "SAME", Strides: []int{2, 2}}, false},
		{[]int{2, 8, 8, 16}, []int{1, 1, 16, 32}, ConvOptions{Padding: "VALID"}, false},
		{[]int{2, 10, 10, 3}, []int{5, 5, 3, 4}, ConvOptions{Padding: "SAME"}, false},
	} {
		t.Run(fmt.Sprint(tc.in, tc.filter, tc.o.Strides, tc.o.Padding), func(t *testing.T) {
			s, err := newConvSpec("test", 2, tc.in, tc.filter, tc.o, false)
			if err != nil {
				t.Fatal(err)
			}
			on := tune.Winograd && kernels.Impl() != "ref"
			if winograd := planConv(passForward, &s.g, s.f).algo == algoWinograd; winograd != (tc.winograd && on) {
				t.Fatalf("forward plan Winograd %v, want %v: the case no longer tests its path", winograd, tc.winograd)
			}
			c := tc.in[3]
			x, w := cvRand(1, tc.in...), cvRand(2, tc.filter...)
			x.Data()[7] = float32(math.NaN())
			scale, offset := cvRand(3, c), cvRand(4, c)
			const eps = 1e-3

			y, mean, variance, err := FusedBatchNormReluConv2D(x, scale, offset, w, eps, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			z, wantMean, wantVar, err := FusedBatchNormRelu(x, scale, offset, eps)
			if err != nil {
				t.Fatal(err)
			}
			wantY, err := Conv2D(z, w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, "y", y, wantY)
			sameBits(t, "mean", mean, wantMean)
			sameBits(t, "variance", variance, wantVar)

			dy := cvRand(5, y.Shape()...)
			dx, dscale, doffset, dw, err := FusedBatchNormReluConv2DGrad(dy, x, scale, offset, w, mean, variance, eps, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			dz, err := Conv2DBackpropInput(x.Shape(), w, dy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			wantDW, err := Conv2DBackpropFilter(z, w.Shape(), dy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			wantDX, wantDScale, wantDOffset, err := FusedBatchNormReluGrad(dz, x, scale, offset, mean, variance, eps)
			if err != nil {
				t.Fatal(err)
			}
			sameBits(t, "dx", dx, wantDX)
			sameBits(t, "dscale", dscale, wantDScale)
			sameBits(t, "doffset", doffset, wantDOffset)
			sameBits(t, "dfilter", dw, wantDW)
		})
	}
}

// TestFusedBatchNormReluConv2DErrors: operands of the wrong shape or
// layout are errors naming what was received.
func TestFusedBatchNormReluConv2DErrors(t *testing.T) {
	x, w := cvRand(1, 2, 6, 6, 8), cvRand(2, 3, 3, 8, 4)
	scale, offset := cvRand(3, 8), cvRand(4, 8)
	o := ConvOptions{Padding: "SAME"}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"channels first", func() error {
			_, _, _, err := FusedBatchNormReluConv2D(x, scale, offset, w, 1e-3, ConvOptions{Padding: "SAME", DataFormat: "NCHW"})
			return err
		}, "channels-last"},
		{"scale of 4", func() error {
			_, _, _, err := FusedBatchNormReluConv2D(x, cvRand(3, 4), offset, w, 1e-3, o)
			return err
		}, "scale has shape [4]"},
		{"filter for 4 channels", func() error {
			_, _, _, err := FusedBatchNormReluConv2D(x, scale, offset, cvRand(2, 3, 3, 4, 4), 1e-3, o)
			return err
		}, "nn.FusedBatchNormReluConv2D"},
		{"negative epsilon", func() error {
			_, _, _, err := FusedBatchNormReluConv2D(x, scale, offset, w, -1, o)
			return err
		}, "epsilon"},
		{"grad of the input's shape", func() error {
			_, _, _, _, err := FusedBatchNormReluConv2DGrad(x, x, scale, offset, w, scale, scale, 1e-3, o)
			return err
		}, "grad has shape [2 6 6 8]"},
		{"nil mean", func() error {
			_, _, _, _, err := FusedBatchNormReluConv2DGrad(cvRand(5, 2, 6, 6, 4), x, scale, offset, w, nil, scale, 1e-3, o)
			return err
		}, "mean is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
