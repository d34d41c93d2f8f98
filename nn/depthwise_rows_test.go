package nn

import (
	"fmt"
	"runtime"
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
	{name: "window taller than image", in: []int{2, 4, 21, 3}, filter: []int{9, 7, 3, 2}, o: ConvOptions{Padding: "SAME"}, seed: 49},
	{name: "stride 2 M=3", in: []int{2, 9, 75, 5}, filter: []int{3, 3, 5, 3}, o: ConvOptions{Padding: "SAME", Strides: []int{2}}, seed: 50},
	{name: "stride 2 along W M=1", in: []int{2, 7, 69, 16}, filter: []int{3, 3, 16, 1}, o: ConvOptions{Padding: "SAME", Strides: []int{1, 2}}, seed: 51},
	{name: "stride 3 window 5 M=2", in: []int{1, 8, 70, 3}, filter: []int{5, 5, 3, 2}, o: ConvOptions{Padding: "VALID", Strides: []int{3}}, seed: 52},
	{name: "stride 2 explicit odd pads M=4", in: []int{2, 6, 31, 2}, filter: []int{3, 4, 2, 4}, o: ConvOptions{Padding: "EXPLICIT", Strides: []int{2, 3}, ExplicitPaddings: [][2]int{{1, 2}, {3, 0}}}, seed: 53},
	{name: "stride wider than window M=2", in: []int{1, 5, 23, 3}, filter: []int{2, 2, 3, 2}, o: ConvOptions{Padding: "SAME", Strides: []int{4}}, seed: 54},
}

// The forward pass, the filter gradient and (through the flipped filter,
// for M = 1 and stride 1) the input gradient run on the row path; perPixel forces the loops
// of depthwise.go for comparison.
func TestDepthwiseRowsMatchReference(t *testing.T) {
	for _, tc := range append(depthwiseRowsCases, depthwiseCases...) {
		for _, perPixel := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/perPixel=%v", tc.name, perPixel), func(t *testing.T) {
				defer func(saved tuning) { tune = saved }(tune)
				tune.DepthwisePerPixel = perPixel
				depthwiseOpsMatchReference(t, tc)
			})
		}
	}
}

// With tune.RowsScratchFloats forced small, the taps are split into chunks
// (one tap per chunk, or chunks that end inside a window row) and the run
// shrinks; every pass must still match the reference.
func TestDepthwiseRowsChunkedMatchReference(t *testing.T) {
	for _, scratch := range []int{1, 7, 100} {
		for _, tc := range depthwiseRowsCases {
			t.Run(fmt.Sprintf("scratch=%d/%s", scratch, tc.name), func(t *testing.T) {
				defer func(saved tuning) { tune = saved }(tune)
				tune.RowsScratchFloats = scratch
				depthwiseOpsMatchReference(t, tc)
			})
		}
	}
}

// depthwiseOpsMatchReference runs DepthwiseConv2D and its input and
// filter gradients on tc (2-D) under the current tune and holds them to
// the plain-loop references.
func depthwiseOpsMatchReference(t *testing.T, tc convGeomCase) {
	t.Helper()
	tc.nsp = 2
	s := tc.depthwiseGeom(t)
	x, w := cvRand(tc.seed, tc.in...), cvRand(tc.seed+100, tc.filter...)
	dy := cvRand(tc.seed+200, s.out...)
	want := make([]float32, tensor.Size(s.out))
	depthwiseRef(&s.g, s.f, x.Data(), w.Data(), want)
	wantDx := make([]float32, x.Len())
	depthwiseBackpropInputRef(&s.g, s.f, w.Data(), dy.Data(), wantDx)
	wantDw := make([]float32, w.Len())
	depthwiseBackpropFilterRef(&s.g, s.f, x.Data(), dy.Data(), wantDw)
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
}

// rowsChunk keeps the usual windows in one chunk of rowRun pixels (so
// their sums and speed are those of the unchunked path) and bounds the
// expanded weights of huge ones by tune.RowsScratchFloats.
func TestRowsChunk(t *testing.T) {
	for _, tc := range []struct {
		name         string
		taps, ow, cm int
		whole        bool // one chunk of min(rowRun, ow) pixels expected
	}{
		{"lecture 3x3 RGB M=5", 9, 4000, 15, true},
		{"5x5 64 channels", 25, 300, 64, true},
		{"3x3 narrow row", 9, 5, 3, true},
		{"box:1024 on 240-wide RGB", 1024 * 1024, 240, 3, false},
		{"1024x1024 512 channels", 1024 * 1024, 240, 512, false},
		{"one pixel above the bound", 2, 1, tune.RowsScratchFloats + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, per := rowsChunk(tc.taps, tc.ow, tc.cm)
			if run < 1 || run > min(rowRun, tc.ow) || per < 1 || per > tc.taps {
				t.Fatalf("rowsChunk(%d, %d, %d) = run %d, per %d: out of range", tc.taps, tc.ow, tc.cm, run, per)
			}
			if tc.whole && (run != min(rowRun, tc.ow) || per != tc.taps) {
				t.Errorf("rowsChunk(%d, %d, %d) = run %d, per %d; want %d, %d", tc.taps, tc.ow, tc.cm, run, per, min(rowRun, tc.ow), tc.taps)
			}
			if n := per * run * tc.cm; n > max(tune.RowsScratchFloats, tc.cm) {
				t.Errorf("rowsChunk(%d, %d, %d): %d floats of expanded weights, bound %d", tc.taps, tc.ow, tc.cm, n, tune.RowsScratchFloats)
			}
		})
	}
}

// A huge window on a small image allocates about what the image, the
// filter and the output need, not taps·run·C·M floats of expanded
// weights (17 MB here before the taps were chunked).
func TestDepthwiseRowsHugeWindowMemory(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // garbage offsets scale with the workers
	x, w := cvRand(1, 1, 8, 16, 3), cvRand(2, 301, 301, 3, 1)
	o := ConvOptions{Padding: "SAME"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := DepthwiseConv2D(x, w, o); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	const limit = 4 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("DepthwiseConv2D of a 301x301 window on 8x16 RGB allocated %d bytes, want at most %d", got, limit)
	}
	t.Logf("allocated %d bytes", after.TotalAlloc-before.TotalAlloc)
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
			defer func(saved tuning) { tune = saved }(tune)
			tune.DepthwisePerPixel = impl == "perPixel"
			for b.Loop() {
				if _, err := DepthwiseConv2D(x, w, o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkDepthwiseHugeWindow is a box filter far larger than the
// image (as `convnet filter --kernel box:N` gives): 129x129 over a
// 16x64 RGB band, whose taps no longer fit one chunk.
func BenchmarkDepthwiseHugeWindow(b *testing.B) {
	in, filter := []int{1, 16, 64, 3}, []int{129, 129, 3, 1}
	x, w := cvRand(1, in...), cvRand(2, filter...)
	o := ConvOptions{Padding: "SAME"}
	flops := 2.0 * 16 * 64 * 3 * 129 * 129
	for b.Loop() {
		if _, err := DepthwiseConv2D(x, w, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkDepthwiseStrided: MobileNet-like stride-2 depthwise layers at
// batch 32, multiplier 1 and 2, forward and both gradients, on the row
// path and on the per-pixel loops.
func BenchmarkDepthwiseStrided(b *testing.B) {
	for _, c := range []struct {
		name      string
		in, filt  []int
		outPixels int
	}{
		{"56x56x32_M=1", []int{32, 56, 56, 32}, []int{3, 3, 32, 1}, 28 * 28},
		{"28x28x16_M=2", []int{32, 28, 28, 16}, []int{3, 3, 16, 2}, 14 * 14},
	} {
		x, w := cvRand(1, c.in...), cvRand(2, c.filt...)
		o := ConvOptions{Padding: "SAME", Strides: []int{2}}
		y, err := DepthwiseConv2D(x, w, o)
		if err != nil {
			b.Fatal(err)
		}
		dy := cvRand(3, y.Shape()...)
		flops := 2.0 * float64(c.in[0]*c.outPixels*c.filt[2]*c.filt[3]*9)
		for _, pass := range []struct {
			name string
			f    func() error
		}{
			{"forward", func() error { _, err := DepthwiseConv2D(x, w, o); return err }},
			{"input", func() error { _, err := DepthwiseConv2DBackpropInput(c.in, w, dy, o); return err }},
			{"filter", func() error { _, err := DepthwiseConv2DBackpropFilter(x, c.filt, dy, o); return err }},
		} {
			for _, impl := range []string{"rows", "perPixel"} {
				b.Run(c.name+"/"+pass.name+"/impl="+impl, func(b *testing.B) {
					defer func(v bool) { tune.DepthwisePerPixel = v }(tune.DepthwisePerPixel)
					tune.DepthwisePerPixel = impl == "perPixel"
					for b.Loop() {
						if err := pass.f(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
