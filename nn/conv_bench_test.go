package nn

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/convnet-go/convnet/internal/cputime"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/tensor"
)

// convBenchCases are the lecture model's two convolutions and the 3×3
// convolutions of models.NewResNet (its stem and stride-1 stages on
// 28×28 MNIST, and the stem on 32×32 RGB), all at batch 128.
var convBenchCases = []struct {
	name       string
	in, filter []int
}{
	{"conv1_28x28x1_5x5x32", []int{128, 28, 28, 1}, []int{5, 5, 1, 32}},
	{"conv2_14x14x32_5x5x64", []int{128, 14, 14, 32}, []int{5, 5, 32, 64}},
	{"resnet_stem_28x28x1_3x3x16", []int{128, 28, 28, 1}, []int{3, 3, 1, 16}},
	{"resnet_28x28x16_3x3x16", []int{128, 28, 28, 16}, []int{3, 3, 16, 16}},
	{"resnet_14x14x32_3x3x32", []int{128, 14, 14, 32}, []int{3, 3, 32, 32}},
	{"resnet_7x7x64_3x3x64", []int{128, 7, 7, 64}, []int{3, 3, 64, 64}},
	{"resnet_32x32x3_3x3x16", []int{128, 32, 32, 3}, []int{3, 3, 3, 16}},
}

// reportConvFlops reports GFLOP/s of wall time and GFLOP/cpu-s of the
// process's CPU time since cpu0 (over all workers; on a shared machine
// the first mostly reflects the load, the second mostly the code).
func reportConvFlops(b *testing.B, flopsPerOp float64, cpu0 time.Duration) {
	total := flopsPerOp * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cputime.Process() - cpu0; cpu0 > 0 && cpu > 0 {
		b.ReportMetric(total/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	}
}

// convFlops is 2·N·OH·OW·KH·KW·C·F for a SAME stride-1 convolution.
func convFlops(in, filter []int) float64 {
	return 2 * float64(in[0]*in[1]*in[2]) * float64(tensor.Size(filter))
}

// BenchmarkConv2D measures the lecture's convolutions forward and both
// backprops (SAME, stride 1), reporting GFLOP/s. /impl=ref runs the
// float32 plain-loop reference on the same shapes (slow: select the fast
// ones with -bench 'Conv2D/conv2/forward/impl=fast').
func BenchmarkConv2D(b *testing.B) {
	o := ConvOptions{Padding: "SAME"}
	for _, bc := range convBenchCases {
		x, w := cvRand(1, bc.in...), cvRand(2, bc.filter...)
		outShape := []int{bc.in[0], bc.in[1], bc.in[2], bc.filter[3]}
		dy := cvRand(3, outShape...)
		flops := convFlops(bc.in, bc.filter)
		ops := []struct {
			name string
			run  func() error
		}{
			{"forward", func() error { _, err := Conv2D(x, w, o); return err }},
			{"backprop_input", func() error { _, err := Conv2DBackpropInput(bc.in, w, dy, o); return err }},
			{"backprop_filter", func() error { _, err := Conv2DBackpropFilter(x, bc.filter, dy, o); return err }},
		}
		for _, op := range ops {
			b.Run(fmt.Sprintf("%s/%s/impl=fast", bc.name, op.name), func(b *testing.B) {
				cpu0 := cputime.Process()
				for b.Loop() {
					if err := op.run(); err != nil {
						b.Fatal(err)
					}
				}
				reportConvFlops(b, flops, cpu0)
			})
		}
		b.Run(bc.name+"/forward/impl=ref", func(b *testing.B) {
			s, err := newConvSpec("bench", 2, bc.in, bc.filter, o, false)
			if err != nil {
				b.Fatal(err)
			}
			y := make([]float32, tensor.Size(s.out))
			cpu0 := cputime.Process()
			for b.Loop() {
				convRef(&s.g, s.f, x.Data(), w.Data(), y)
			}
			reportConvFlops(b, flops, cpu0)
		})
	}
}

// BenchmarkConvPlanned measures the forward and filter-gradient paths
// planConv picks for convBenchCases into buffers allocated once, so
// that the path itself is timed (Conv2D's fresh output costs more than
// the arithmetic of the single-channel layers):
//
//	go test -run '^$' -bench 'ConvPlanned/(conv1|resnet_stem)' ./nn
func BenchmarkConvPlanned(b *testing.B) {
	o := ConvOptions{Padding: "SAME"}
	for _, bc := range convBenchCases {
		s, err := newConvSpec("bench", 2, bc.in, bc.filter, o, false)
		if err != nil {
			b.Fatal(err)
		}
		x, w := cvRand(1, bc.in...).Data(), cvRand(2, bc.filter...).Data()
		dy := cvRand(3, s.out...).Data()
		y, dw := make([]float32, len(dy)), make([]float32, len(w))
		flops := convFlops(bc.in, bc.filter)
		for _, op := range []struct {
			name string
			run  func()
		}{
			{"forward", func() { convForward(&s.g, s.f, x, w, y) }},
			{"backprop_filter", func() { convBackpropFilter(&s.g, s.f, x, dy, dw) }},
		} {
			b.Run(bc.name+"/"+op.name, func(b *testing.B) {
				op.run() // the plan and the pooled buffers
				cpu0 := cputime.Process()
				for b.Loop() {
					op.run()
				}
				reportConvFlops(b, flops, cpu0)
			})
		}
	}
}

// BenchmarkDepthwiseConv2D measures a 3x3 depthwise convolution with
// multiplier 1 over [128, 28, 28, 32], forward and both backprops.
func BenchmarkDepthwiseConv2D(b *testing.B) {
	in, filter := []int{128, 28, 28, 32}, []int{3, 3, 32, 1}
	o := ConvOptions{Padding: "SAME"}
	x, w, dy := cvRand(1, in...), cvRand(2, filter...), cvRand(3, in...)
	flops := convFlops(in, []int{3, 3, 1, 1}) * 32
	for _, op := range []struct {
		name string
		run  func() error
	}{
		{"forward", func() error { _, err := DepthwiseConv2D(x, w, o); return err }},
		{"backprop_input", func() error { _, err := DepthwiseConv2DBackpropInput(in, w, dy, o); return err }},
		{"backprop_filter", func() error { _, err := DepthwiseConv2DBackpropFilter(x, filter, dy, o); return err }},
	} {
		b.Run(op.name, func(b *testing.B) {
			cpu0 := cputime.Process()
			for b.Loop() {
				if err := op.run(); err != nil {
					b.Fatal(err)
				}
			}
			reportConvFlops(b, flops, cpu0)
		})
	}
}

// BenchmarkIm2col measures the patch copy alone for the lecture's conv2
// (one chunk of the size the forward pass uses).
func BenchmarkIm2col(b *testing.B) {
	s, err := newConvSpec("bench", 2, []int{128, 14, 14, 32}, []int{5, 5, 32, 64}, ConvOptions{Padding: "SAME"}, false)
	if err != nil {
		b.Fatal(err)
	}
	x := cvRand(1, s.in...)
	chunks, _, longest := planChunksOf(&s.g, tune.PatchBytes)
	buf := make([]float32, longest*s.g.PatchLen())
	c := chunks[len(chunks)/2]
	for b.Loop() {
		kernels.Im2col(&s.g, x.Data(), c[0], c[1], buf)
	}
	b.ReportMetric(float64(4*(c[1]-c[0])*s.g.PatchLen())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// BenchmarkWino3OddChannels compares 3×3 Winograd (/algo=winograd,
// Wino3ChannelMultiple lowered to 1) with im2col (/algo=im2col, the
// Winograd path off) for channel counts that are not multiples of 8,
// forward and filter gradient, batch 128 at 28×28 (the figures behind
// tuning.Wino3ChannelMultiple):
//
//	go test -run '^$' -bench Wino3OddChannels -benchtime 10x -count 5 ./nn
func BenchmarkWino3OddChannels(b *testing.B) {
	o := ConvOptions{Padding: "SAME"}
	for _, c := range []int{12, 20} {
		in, filter := []int{128, 28, 28, c}, []int{3, 3, c, c}
		x, w, dy := cvRand(1, in...), cvRand(2, filter...), cvRand(3, in...)
		for _, op := range []struct {
			name string
			run  func() error
		}{
			{"forward", func() error { _, err := Conv2D(x, w, o); return err }},
			{"backprop_filter", func() error { _, err := Conv2DBackpropFilter(x, filter, dy, o); return err }},
		} {
			for _, algo := range []string{"winograd", "im2col"} {
				b.Run(fmt.Sprintf("c=%d/%s/algo=%s", c, op.name, algo), func(b *testing.B) {
					defer func(saved tuning) { tune = saved }(tune)
					tune.Wino3ChannelMultiple, tune.Winograd = 1, algo == "winograd"
					cpu0 := cputime.Process()
					for b.Loop() {
						if err := op.run(); err != nil {
							b.Fatal(err)
						}
					}
					reportConvFlops(b, convFlops(in, filter), cpu0)
				})
			}
		}
	}
}

// BenchmarkStridedInputGrad measures the input gradients of the two
// stride-2 convolutions of models.NewResNet (batch 128 on 28×28×16: the
// 3×3 SAME convolution to 32 channels and its 1×1 projection) and of
// narrower variants, by sub-pixel phases (/algo=phases) and by dy·wᵀ and
// Col2im (/algo=col2im), dx recycled after each call as in a training
// step, alternated by the one command
//
//	go test -run '^$' -bench StridedInputGrad -count 5 ./nn
func BenchmarkStridedInputGrad(b *testing.B) {
	for _, bc := range append(resnetStrided[:len(resnetStrided):len(resnetStrided)],
		stridedCase{"28x28x8_3x3x32_s2", []int{128, 28, 28, 8}, []int{3, 3, 8, 32}},
		stridedCase{"28x28x3_3x3x32_s2", []int{128, 28, 28, 3}, []int{3, 3, 3, 32}},
		stridedCase{"14x14x32_3x3x64_s2", []int{128, 14, 14, 32}, []int{3, 3, 32, 64}},
	) {
		s, flops := bc.spec(b)
		w, dy := cvRand(2, bc.filter...), cvRand(3, s.out...)
		for _, algo := range []string{"phases", "col2im"} {
			b.Run(bc.name+"/algo="+algo, func(b *testing.B) {
				defer func(saved tuning) { tune = saved }(tune)
				tune.PhaseMinChannels = 0
				if algo == "col2im" {
					tune.PhaseMinChannels = math.MaxInt
				}
				cpu0 := cputime.Process()
				for b.Loop() {
					dx, err := Conv2DBackpropInput(bc.in, w, dy, stridedOptions)
					if err != nil {
						b.Fatal(err)
					}
					// Handed back as a training step's workspace does, so
					// that the next call reuses the pages.
					pool.Recycle(dx.Data())
				}
				reportConvFlops(b, flops, cpu0)
			})
		}
	}
}

// stridedCase is one stride-2 SAME convolution of the strided
// benchmarks (stridedOptions), by its input and filter shapes.
type stridedCase struct {
	name       string
	in, filter []int
}

// stridedOptions are the strided benchmarks' convolution options.
var stridedOptions = ConvOptions{Padding: "SAME", Strides: []int{2}}

// resnetStrided are the benchmark ResNet's stride-2 convolutions at
// batch 128: its 3×3 to 32 channels and its 1×1 projection.
var resnetStrided = []stridedCase{
	{"resnet_28x28x16_3x3x32_s2", []int{128, 28, 28, 16}, []int{3, 3, 16, 32}},
	{"resnet_28x28x16_1x1x32_s2", []int{128, 28, 28, 16}, []int{1, 1, 16, 32}},
}

// spec returns the case's convolution and its multiply-adds ×2.
func (c stridedCase) spec(b *testing.B) (*convSpec, float64) {
	s, err := newConvSpec("bench", 2, c.in, c.filter, stridedOptions, false)
	if err != nil {
		b.Fatal(err)
	}
	return s, 2 * float64(s.g.OutPositions()) * float64(tensor.Size(c.filter))
}

// BenchmarkStridedConv times the forward pass and the filter gradient
// of the benchmark ResNet's stride-2 convolutions (im2col and a
// product, both), at batch 128:
//
//	go test -run '^$' -bench StridedConv ./nn
func BenchmarkStridedConv(b *testing.B) {
	for _, bc := range resnetStrided {
		s, flops := bc.spec(b)
		x, w, dy := cvRand(1, bc.in...), cvRand(2, bc.filter...), cvRand(3, s.out...)
		for _, op := range []struct {
			name string
			run  func() (*tensor.Tensor, error)
		}{
			{"forward", func() (*tensor.Tensor, error) { return Conv2D(x, w, stridedOptions) }},
			{"backprop_filter", func() (*tensor.Tensor, error) { return Conv2DBackpropFilter(x, bc.filter, dy, stridedOptions) }},
		} {
			b.Run(bc.name+"/"+op.name, func(b *testing.B) {
				cpu0 := cputime.Process()
				for b.Loop() {
					y, err := op.run()
					if err != nil {
						b.Fatal(err)
					}
					pool.Recycle(y.Data())
				}
				reportConvFlops(b, flops, cpu0)
			})
		}
	}
}

// BenchmarkWinoBatch1 times Winograd forward passes of one image with
// the transforms and products shared out among the workers
// (winogradSplit) and without (the blocks path: one goroutine for the
// first four shapes, which are one block each), for tuning.WinoSplitMin:
//
//	go test -run '^$' -bench WinoBatch1 ./nn
func BenchmarkWinoBatch1(b *testing.B) {
	o := ConvOptions{Padding: "SAME"}
	for _, bc := range []struct{ in, filter []int }{
		{[]int{1, 28, 28, 16}, []int{3, 3, 16, 16}},
		{[]int{1, 14, 14, 32}, []int{3, 3, 32, 32}},
		{[]int{1, 14, 14, 32}, []int{5, 5, 32, 64}},
		{[]int{1, 28, 28, 64}, []int{3, 3, 64, 64}},
		{[]int{1, 56, 56, 64}, []int{3, 3, 64, 64}},
		{[]int{1, 28, 28, 128}, []int{3, 3, 128, 128}},
	} {
		s, err := newConvSpec("bench", 2, bc.in, bc.filter, o, false)
		if err != nil {
			b.Fatal(err)
		}
		x, w := cvRand(1, bc.in...).Data(), cvRand(2, bc.filter...).Data()
		y := make([]float32, tensor.Size(s.out))
		macs := tensor.Size(s.out) * bc.filter[0] * bc.filter[1] * bc.filter[2]
		for _, split := range []bool{true, false} {
			name := fmt.Sprintf("%dx%dx%d_%dx%dx%d/split=%v", bc.in[1], bc.in[2], bc.in[3], bc.filter[0], bc.filter[1], bc.filter[3], split)
			b.Run(name, func(b *testing.B) {
				defer func(old int) { tune.WinoSplitMin = old }(tune.WinoSplitMin)
				tune.WinoSplitMin = 1 << 62
				if split {
					tune.WinoSplitMin = 0
				}
				convForward(&s.g, s.f, x, w, y)
				cpu0 := cputime.Process()
				for b.Loop() {
					convForward(&s.g, s.f, x, w, y)
				}
				reportConvFlops(b, 2*float64(macs), cpu0)
			})
		}
	}
}
