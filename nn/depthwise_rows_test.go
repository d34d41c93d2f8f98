package nn

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// depthwiseRowsCases exercise the row path: rows wider than one run of
// rowRun pixels (and not a multiple of it), multipliers above 1, strides
// along H, dilations whose rows collide in the row cache (DH = KH),
// explicit and VALID padding, and batches split across workers.
var depthwiseRowsCases = []convGeomCase{
	{name: "12MP-like RGB M=5", in: []int{1, 9, 150, 3}, filter: []int{3, 3, 3, 5}, o: ConvOptions{Padding: "SAME"}, seed: 41},
	{name: "gray M=5 run multiple", in: []int{2, 5, 128, 1}, filter: []int{3, 3, 1, 5}, o: ConvOptions{Padding: "SAME"}, seed: 42},
	{name: "M=1 many channels", in: []int{3, 6, 70, 32}, filter: []int{3, 3, 32, 1}, o: ConvOptions{Padding: "SAME"}, seed: 43},
	{name: "stride 2 along H", in: []int{2, 11, 67, 3}, filter: []int{3, 3, 3, 2}, o: ConvOptions{Padding: "SAME", Strides: []int{2, 1}}, seed: 44},
	{name: "dilation equals window", in: []int{1, 13, 66, 2}, filter: []int{3, 2, 2, 3}, o: ConvOptions{Padding: "SAME", Dilations: []int{3, 5}}, seed: 45},
	{name: "explicit wide pads", in: []int{1, 4, 65, 3}, filter: []int{3, 3, 3, 2}, o: ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{2, 3}, {4, 1}}}, seed: 46},
	{name: "valid even window", in: []int{2, 6, 80, 4}, filter: []int{2, 4, 4, 2}, o: ConvOptions{Padding: "VALID"}, seed: 47},
	{name: "one column", in: []int{2, 5, 1, 3}, filter: []int{3, 3, 3, 2}, o: ConvOptions{Padding: "SAME"}, seed: 48},
}

// The forward pass, the filter gradient and (through the flipped filter,
// for M = 1 and stride 1) the input gradient run on the row path; perPixel forces the loops
// of depthwise.go for comparison.
func TestDepthwiseRowsMatchReference(t *testing.T) {
	for _, tc := range append(depthwiseRowsCases, depthwiseCases...) {
		tc.nsp = 2
		t.Run(tc.name, func(t *testing.T) {
			s := tc.depthwiseGeom(t)
			x, w := cvRand(tc.seed, tc.in...), cvRand(tc.seed+100, tc.filter...)
			want := make([]float32, tensor.Size(s.out))
			depthwiseRef(&s.g, s.f, x.Data(), w.Data(), want)
			dy := cvRand(tc.seed+200, s.out...)
			wantDx := make([]float32, x.Len())
			depthwiseBackpropInputRef(&s.g, s.f, w.Data(), dy.Data(), wantDx)
			wantDw := make([]float32, w.Len())
			depthwiseBackpropFilterRef(&s.g, s.f, x.Data(), dy.Data(), wantDw)
			for _, perPixel := range []bool{false, true} {
				t.Run(fmt.Sprintf("perPixel=%v", perPixel), func(t *testing.T) {
					defer func(v bool) { depthwisePerPixel = v }(depthwisePerPixel)
					depthwisePerPixel = perPixel
					y, err := DepthwiseConv2D(x, w, tc.o)
					if err != nil {
						t.Fatal(err)
					}
					cvClose(t, "forward", y.Data(), want, 1e-5)
					dx, err := DepthwiseConv2DBackpropInput(tc.in, w, dy, tc.o)
					if err != nil {
						t.Fatal(err)
					}
					cvClose(t, "backprop input", dx.Data(), wantDx, 1e-5)
					dw, err := DepthwiseConv2DBackpropFilter(x, tc.filter, dy, tc.o)
					if err != nil {
						t.Fatal(err)
					}
					cvClose(t, "backprop filter", dw.Data(), wantDw, 1e-4)
				})
			}
		})
	}
}

// BenchmarkDepthwiseRGB is imagefilter's shape: a band of a 4000-pixel
// wide RGB photo through five 3x3 filters at once (M = 5).
func BenchmarkDepthwiseRGB(b *testing.B) {
	in, filter := []int{1, 64, 4000, 3}, []int{3, 3, 3, 5}
	x, w := cvRand(1, in...), cvRand(2, filter...)
	o := ConvOptions{Padding: "SAME"}
	flops := 2.0 * 64 * 4000 * 3 * 5 * 9
	for _, impl := range []string{"rows", "perPixel"} {
		b.Run("impl="+impl, func(b *testing.B) {
			defer func(v bool) { depthwisePerPixel = v }(depthwisePerPixel)
			depthwisePerPixel = impl == "perPixel"
			for b.Loop() {
				if _, err := DepthwiseConv2D(x, w, o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
