package nn

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// winoCases are 5×5 stride-1 convolutions that take the Winograd path:
// odd and tiny images (partial tiles on the bottom and right edges, tiles
// wholly in the padding), SAME, VALID and uneven explicit padding,
// channel counts off the 8-wide loops, and a 3-D filter of depth 1.
var winoCases = []convGeomCase{
	{name: "lecture conv2", nsp: 2, in: []int{2, 14, 14, 32}, filter: []int{5, 5, 32, 64}, o: ConvOptions{Padding: "SAME"}, seed: 1},
	{name: "odd same", nsp: 2, in: []int{3, 13, 11, 8}, filter: []int{5, 5, 8, 16}, o: ConvOptions{Padding: "SAME"}, seed: 2},
	{name: "valid", nsp: 2, in: []int{2, 9, 12, 16}, filter: []int{5, 5, 16, 8}, o: ConvOptions{Padding: "VALID"}, seed: 3},
	{name: "tiny", nsp: 2, in: []int{2, 1, 2, 8}, filter: []int{5, 5, 8, 8}, o: ConvOptions{Padding: "SAME"}, seed: 4},
	{name: "odd channels", nsp: 2, in: []int{1, 7, 6, 13}, filter: []int{5, 5, 13, 11}, o: ConvOptions{Padding: "SAME"}, seed: 5},
	{name: "explicit", nsp: 2, in: []int{2, 6, 7, 9}, filter: []int{5, 5, 9, 12},
		o: ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{1, 3}, {0, 2}}}, seed: 6},
	{name: "3d depth 1", nsp: 3, in: []int{2, 3, 8, 5, 8}, filter: []int{1, 5, 5, 8, 8}, o: ConvOptions{Padding: "SAME"}, seed: 7},
}

// wino3Cases are the same for 3×3 convolutions (F(4×4, 3×3)): a ResNet
// stage's shape, outputs that are not multiples of 4, SAME, VALID,
// uneven and wide explicit padding, odd channel counts, depth 1.
var wino3Cases = []convGeomCase{
	{name: "resnet 28x28x16", nsp: 2, in: []int{2, 28, 28, 16}, filter: []int{3, 3, 16, 16}, o: ConvOptions{Padding: "SAME"}, seed: 11},
	{name: "odd same", nsp: 2, in: []int{3, 13, 11, 8}, filter: []int{3, 3, 8, 16}, o: ConvOptions{Padding: "SAME"}, seed: 12},
	{name: "valid", nsp: 2, in: []int{2, 9, 12, 16}, filter: []int{3, 3, 16, 8}, o: ConvOptions{Padding: "VALID"}, seed: 13},
	{name: "tiny", nsp: 2, in: []int{2, 1, 2, 8}, filter: []int{3, 3, 8, 8}, o: ConvOptions{Padding: "SAME"}, seed: 14},
	{name: "odd channels", nsp: 2, in: []int{1, 7, 6, 13}, filter: []int{3, 3, 13, 11}, o: ConvOptions{Padding: "SAME"}, seed: 15},
	{name: "explicit", nsp: 2, in: []int{2, 6, 7, 9}, filter: []int{3, 3, 9, 12},
		o: ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{2, 0}, {0, 3}}}, seed: 16},
	{name: "3d depth 1", nsp: 3, in: []int{2, 3, 8, 5, 8}, filter: []int{1, 3, 3, 8, 8}, o: ConvOptions{Padding: "SAME"}, seed: 17},
}

// winoCasesFor returns the cases of filter size k.
func winoCasesFor(k int) []convGeomCase {
	if k == 3 {
		return wino3Cases
	}
	return winoCases
}

// winoClose compares got with the float64 reference want, allowing the
// rounding of float32 sums of terms of total magnitude mag (the
// transforms' rounding is a few times the direct sum's).
func winoClose(t *testing.T, what string, got []float32, want, mag []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5*mag[i]+1e-6 || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %g, reference %g (|terms| %g)", what, i, got[i], want[i], mag[i])
		}
	}
}

// tileMag adds a fifth of the largest magnitude to each: a transformed
// tile mixes the inputs of all its outputs (and of the taps that fall on
// padding, which contribute nothing to the exact sum), so an output whose
// own terms are small still carries rounding of the size of its tile's.
// That allows 2e-6 of the largest sum; a wrong coefficient is off by far more.
func tileMag(mag []float64) []float64 {
	top := 0.0
	for _, v := range mag {
		top = max(top, v)
	}
	out := make([]float64, len(mag))
	for i, v := range mag {
		out[i] = v + top/5
	}
	return out
}

func abs64(v []float64) []float64 {
	a := make([]float64, len(v))
	for i, x := range v {
		a[i] = math.Abs(x)
	}
	return a
}

// TestWinogradMatchesReference runs forward and input-gradient
// convolutions through the Winograd path (in whole blocks and in blocks
// of 5 tiles, so blocks straddle images) and compares them with the
// float64 reference.
func TestWinogradMatchesReference(t *testing.T) {
	if !tune.Winograd || kernels.Impl() == "ref" {
		t.Skip("Winograd path off (CONVNET_WINOGRAD=off or ref kernels)")
	}
	defer func(saved tuning) { tune = saved }(tune)
	tune.Wino3ChannelMultiple = 1 // odd channel counts too
	saved, savedPad := tune.WinoBlock, tune.WinoPadMax
	for _, scheme := range kernels.WinoSchemes {
		tune.WinoScheme = scheme
		for _, bp := range [][2]int{{saved, savedPad}, {5, savedPad}, {saved, 0}} {
			block := bp[0]
			tune.WinoBlock, tune.WinoPadMax = block, bp[1]
			for _, tc := range winoCasesFor(scheme.K) {
				t.Run(fmt.Sprintf("%s/%s/block=%d/padmax=%d", scheme.Name, tc.name, block, bp[1]), func(t *testing.T) {
					s := tc.geom(t)
					if winoScheme(passForward, &s.g, s.f) != scheme {
						t.Fatalf("geometry %+v does not take the Winograd path", s.g)
					}
					x, w := cvRand(tc.seed, tc.in...).Data(), cvRand(tc.seed+100, tc.filter...).Data()
					x64, w64 := cvF64(x), cvF64(w)
					ny := tensor.Size(s.out)
					want, mag := make([]float64, ny), make([]float64, ny)
					convRef(&s.g, s.f, x64, w64, want)
					convRef(&s.g, s.f, abs64(x64), abs64(w64), mag)
					y := make([]float32, ny)
					convForward(&s.g, s.f, x, w, y)
					winoClose(t, "forward", y, want, tileMag(mag))

					// The input gradient runs as a convolution of dy with the
					// flipped filter: Winograd too.
					dy := cvRand(tc.seed+200, s.out...).Data()
					dy64 := cvF64(dy)
					wantDx, magDx := make([]float64, len(x)), make([]float64, len(x))
					convBackpropInputRef(&s.g, s.f, w64, dy64, wantDx)
					convBackpropInputRef(&s.g, s.f, abs64(w64), abs64(dy64), magDx)
					dx := make([]float32, len(x))
					convBackpropInput(&s.g, s.f, w, dy, dx, nil)
					winoClose(t, "input gradient", dx, wantDx, tileMag(magDx))
				})
			}
		}
	}
}

// TestWinogradWorkersSameBits runs the Winograd forward with 1 to 4
// workers (so that batches of fewer blocks than workers take the split
// path, winogradSplit, with one block and with several: WinoSplitMin 0
// sends the small cases there too) and checks that every count gives the
// bits of one worker.
func TestWinogradWorkersSameBits(t *testing.T) {
	if !tune.Winograd || kernels.Impl() == "ref" {
		t.Skip("Winograd path off (CONVNET_WINOGRAD=off or ref kernels)")
	}
	saved, savedSplit := tune.WinoBlock, tune.WinoSplitMin
	defer func() { tune.WinoBlock, tune.WinoSplitMin = saved, savedSplit }()
	tune.WinoSplitMin = 0
	for _, block := range []int{saved, 5} {
		tune.WinoBlock = block
		for _, tc := range winoCases {
			t.Run(fmt.Sprintf("%s/block=%d", tc.name, block), func(t *testing.T) {
				s := tc.geom(t)
				forwardSameBitsAcrossWorkers(t, s, cvRand(tc.seed, tc.in...).Data(), cvRand(tc.seed+100, tc.filter...).Data())
			})
		}
	}
}

// TestWinogradImageAloneSameBits runs each Winograd case on its whole
// batch and on each image alone: an image's outputs must have the same
// bits either way. Its tiles sit at other rows of the blocks' products
// (a whole micro-kernel tile in one, a row tail in the other), so this
// holds only because a tile's sums do not depend on where it is.
func TestWinogradImageAloneSameBits(t *testing.T) {
	for _, tc := range append(append([]convGeomCase(nil), winoCases...), wino3Cases...) {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.geom(t)
			if winoScheme(passForward, &s.g, s.f) == nil {
				t.Skip("not a Winograd convolution here")
			}
			x, w := cvRand(tc.seed, tc.in...).Data(), cvRand(tc.seed+100, tc.filter...).Data()
			y := make([]float32, tensor.Size(s.out))
			convForward(&s.g, s.f, x, w, y)
			one := tc
			one.in = append([]int{1}, tc.in[1:]...)
			s1 := one.geom(t)
			inLen, outLen := len(x)/tc.in[0], len(y)/tc.in[0]
			for i := range tc.in[0] {
				y1 := make([]float32, outLen)
				convForward(&s1.g, s1.f, x[i*inLen:(i+1)*inLen], w, y1)
				bitsEqual(t, fmt.Sprintf("image %d alone", i), y1, y[i*outLen:(i+1)*outLen])
			}
		})
	}
}

// TestWinogradOnlyWhereItApplies checks the path's conditions.
func TestWinogradOnlyWhereItApplies(t *testing.T) {
	if !tune.Winograd || kernels.Impl() == "ref" {
		t.Skip("Winograd path off")
	}
	for _, tc := range []struct {
		in, filter  []int
		o           ConvOptions
		want        bool
		maskedTails bool // the filter gradient takes Winograd with kernels.WinoMaskedTails
	}{
		{[]int{1, 14, 14, 32}, []int{5, 5, 32, 64}, ConvOptions{Padding: "SAME"}, true, false},
		{[]int{1, 28, 28, 1}, []int{5, 5, 1, 32}, ConvOptions{Padding: "SAME"}, false, false},   // one input channel
		{[]int{1, 14, 14, 32}, []int{3, 3, 32, 64}, ConvOptions{Padding: "SAME"}, true, false},  // 3×3
		{[]int{1, 14, 14, 32}, []int{4, 4, 32, 64}, ConvOptions{Padding: "SAME"}, false, false}, // 4×4: no scheme
		{[]int{1, 14, 14, 32}, []int{3, 5, 32, 64}, ConvOptions{Padding: "SAME"}, false, false}, // 3×5
		{[]int{1, 14, 14, 3}, []int{3, 3, 3, 16}, ConvOptions{Padding: "SAME"}, false, false},   // 3 input channels
		{[]int{1, 14, 14, 12}, []int{3, 3, 12, 16}, ConvOptions{Padding: "SAME"}, false, true},  // 3×3, 12 input channels
		{[]int{1, 14, 14, 16}, []int{3, 3, 16, 12}, ConvOptions{Padding: "SAME"}, false, true},  // 3×3, 12 output channels
		{[]int{1, 14, 14, 12}, []int{5, 5, 12, 16}, ConvOptions{Padding: "SAME"}, true, false},  // 5×5, 12 input channels
		{[]int{1, 14, 14, 16}, []int{3, 3, 16, 24}, ConvOptions{Padding: "SAME"}, true, false},  // 3×3, multiples of 8
		{[]int{1, 14, 14, 32}, []int{5, 5, 32, 64}, ConvOptions{Padding: "SAME", Strides: []int{2}}, false, false},
		{[]int{1, 14, 14, 32}, []int{5, 5, 32, 64}, ConvOptions{Padding: "SAME", Dilations: []int{2}}, false, false},
		{[]int{1, 14, 14, 32}, []int{5, 5, 32, 4}, ConvOptions{Padding: "SAME"}, false, false}, // 4 output channels
	} {
		s, err := newConvSpec("test", 2, tc.in, tc.filter, tc.o, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := winoScheme(passForward, &s.g, s.f) != nil; got != tc.want {
			t.Errorf("%v * %v %+v: Winograd %v, want %v", tc.in, tc.filter, tc.o, got, tc.want)
		}
		// The filter gradient takes 3×3 Winograd on any channel counts
		// where the transforms run them all in assembly.
		want := tc.want || tc.maskedTails && kernels.WinoMaskedTails()
		if got := winoScheme(passFilterGrad, &s.g, s.f) != nil; got != want {
			t.Errorf("%v * %v %+v: filter gradient: Winograd %v, want %v", tc.in, tc.filter, tc.o, got, want)
		}
	}
}

// TestTileCursor: a cursor started at any tile visits the tiles that
// follow with at's image slice, row and column.
func TestTileCursor(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scheme *kernels.WinoScheme
		geom   kernels.ConvGeom
	}{
		{"resnet 28x28", kernels.WinoSchemes[len(kernels.WinoSchemes)-1], kernels.ConvGeom{N: 3, In: [3]int{1, 28, 28}, Out: [3]int{1, 28, 28}}},
		{"odd 13x11 depth 2", kernels.WinoSchemes[0], kernels.ConvGeom{N: 2, In: [3]int{2, 13, 11}, Out: [3]int{2, 13, 11}}},
		{"one tile", kernels.WinoSchemes[0], kernels.ConvGeom{N: 4, In: [3]int{1, 2, 1}, Out: [3]int{1, 2, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newWinoTiles(tc.scheme, &tc.geom)
			for _, start := range []int{0, 1, tl.tw - 1, tl.perImage - 1, tl.perImage + 2} {
				if start >= tl.n {
					continue
				}
				c := tl.cursor(start)
				for i := start; i < tl.n; i++ {
					gi, gy, gx := c.take()
					wi, wy, wx := tl.at(i)
					if gi != wi || gy != wy || gx != wx {
						t.Fatalf("from %d, tile %d: cursor (%d, %d, %d), at (%d, %d, %d)", start, i, gi, gy, gx, wi, wy, wx)
					}
				}
			}
		})
	}
}

// TestSpreadBlock: a small forward Winograd pass of fewer blocks than
// workers spreads its tiles over equal blocks, at most one a worker, of
// at least spreadMinTiles, unless that leaves one block.
func TestSpreadBlock(t *testing.T) {
	for _, tc := range []struct {
		tiles, block, workers, want int
	}{
		{49, 96, 2, 25}, // the ResNet's 28×28 images: 25 + 24
		{16, 84, 2, 8},  // the lecture's 14×14 images: 8 + 8
		{49, 96, 1, 96}, // one worker
		{49, 96, 4, 13}, // 13 + 13 + 13 + 10
		{20, 96, 4, 10}, // blocks of at least spreadMinTiles: 10 + 10
		{9, 96, 2, 96},  // 8 + 1 would leave a block short: one block
		{8, 96, 2, 96},
		{6272, 96, 2, 96}, // a batch: blocks enough
		{100, 96, 2, 96},  // two blocks already
	} {
		if got := spreadBlock(tc.tiles, tc.block, tc.workers); got != tc.want {
			t.Errorf("spreadBlock(%d tiles, block %d, %d workers) = %d, want %d",
				tc.tiles, tc.block, tc.workers, got, tc.want)
		}
	}
}

// TestWinogradSpreadSameBits: one image's Winograd forward pass gives
// the same bits on one goroutine (one block) as spread over two workers
// (at any size of pass here), and the plan on two workers may spread it;
// a layer with the plan gives those bits whichever way its timer picks.
func TestWinogradSpreadSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer func(min int) { tune.SpreadMin = min }(tune.SpreadMin)
	tune.SpreadMin = 0
	runtime.GOMAXPROCS(2)
	for _, tc := range []struct{ in, filter []int }{
		{[]int{1, 28, 28, 16}, []int{3, 3, 16, 16}},
		{[]int{1, 26, 27, 16}, []int{3, 3, 16, 16}}, // tiles over the edges
		{[]int{1, 28, 28, 8}, []int{3, 3, 8, 24}},
		{[]int{1, 14, 14, 32}, []int{5, 5, 32, 64}}, // the lecture's conv2: 8 + 8 tiles
	} {
		s, x, w := winoCase(t, tc.in, tc.filter)
		p := planChunked(passForward, &s.g, s.f, tune.WorkerPatchBytes) // a plan of its own: a fresh timer
		tl := newWinoTiles(p.scheme, &s.g)
		if p.spread == 0 || p.spread >= tl.n || p.ways == nil {
			t.Fatalf("%v ⊛ %v on 2 workers: spread block %d for %d tiles", tc.in, tc.filter, p.spread, tl.n)
		}
		cells := p.scheme.Cells()
		u, panels := make([]float32, cells*s.g.C*s.f), make([]float32, cells*kernels.PackedBLen(s.g.C, s.f))
		packed := make([]*kernels.PackedB, cells)
		winoFilters(p.scheme, s.g.C, s.f, w, u, panels, packed)
		var ys [2][]float32
		for i, spread := range []bool{false, true} {
			ys[i] = make([]float32, tensor.Size(s.out))
			winogradBlocks(p, tl, spread, s.f, x, packed, ys[i], epilogue{})
		}
		name := fmt.Sprintf("%v ⊛ %v", tc.in, tc.filter)
		bitsEqual(t, name+" spread over two workers", ys[1], ys[0])
		// With a prologue, either way reads x through it (tiles gathered
		// one by one when spread) as the plain pass reads it made first.
		pro := prologue{a: cvRand(11, s.g.C).Data(), b: cvRand(12, s.g.C).Data()}
		z, zb := pro.made(x)
		want := make([]float32, tensor.Size(s.out))
		winogradBlocks(p, tl, false, s.f, z, packed, want, epilogue{})
		putScratch(zb)
		for _, spread := range []bool{false, true} {
			tp := tl
			tp.pro = pro
			got := make([]float32, tensor.Size(s.out))
			winogradBlocks(p, tp, spread, s.f, x, packed, got, epilogue{})
			bitsEqual(t, fmt.Sprintf("%s with a prologue, spread %v", name, spread), got, want)
		}
		// A fresh timer runs and times each way in its first calls.
		for call := range probeRuns + 2 {
			y := make([]float32, tensor.Size(s.out))
			winogradConvPacked(p, &s.g, s.f, x, packed, y, epilogue{}, prologue{})
			bitsEqual(t, fmt.Sprintf("%s, call %d", name, call), y, ys[0])
		}
		if p.ways.ns[wayOne].Load() == 0 || p.ways.ns[waySpread].Load() == 0 {
			t.Errorf("%s: after %d calls the timer has timed ways %v, %v; want both", name, probeRuns+2, p.ways.ns[wayOne].Load(), p.ways.ns[waySpread].Load())
		}
	}
}

// winoCase returns the spec of a SAME 2-D convolution of an input of
// shape in by a filter of shape filter, and random x and w for it; it
// skips the test when the convolution would not take the Winograd path.
func winoCase(t *testing.T, in, filter []int) (s *convSpec, x, w []float32) {
	t.Helper()
	s, err := newConvSpec("test", 2, in, filter, ConvOptions{Padding: "SAME"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if winoScheme(passForward, &s.g, s.f) == nil {
		t.Skip("Winograd path off")
	}
	return s, cvRand(1, in...).Data(), cvRand(2, filter...).Data()
}

// TestWinogradSpreadMin: on two workers the lecture's batch-1 conv2
// (2.1 M multiply-adds) and the ResNet's 28×28×16 and 14×14×32
// convolutions (0.45 M, 0.59 M) may spread their tiles, a 14×14×16 one
// (0.15 M) stays one block on one goroutine, and a 28×28×64 one (7.2 M)
// shares its phases out.
func TestWinogradSpreadMin(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	for _, tc := range []struct {
		in, filter    []int
		spread, split bool
	}{
		{[]int{1, 14, 14, 32}, []int{5, 5, 32, 64}, true, false},
		{[]int{1, 28, 28, 16}, []int{3, 3, 16, 16}, true, false},
		{[]int{1, 14, 14, 32}, []int{3, 3, 32, 32}, true, false},
		{[]int{1, 14, 14, 16}, []int{3, 3, 16, 16}, false, false},
		{[]int{1, 28, 28, 64}, []int{3, 3, 64, 64}, false, true},
	} {
		s, err := newConvSpec("test", 2, tc.in, tc.filter, ConvOptions{Padding: "SAME"}, false)
		if err != nil {
			t.Fatal(err)
		}
		p := planConv(passForward, &s.g, s.f)
		if p.algo != algoWinograd {
			t.Skip("Winograd path off")
		}
		if spread := p.spread > 0; spread != tc.spread || spread != (p.ways != nil) || p.split != tc.split {
			t.Errorf("%v ⊛ %v (%d tiles × %d cells × %d × %d multiply-adds): spread block %d (timer %v), split %v; want spread %v, split %v",
				tc.in, tc.filter, newWinoTiles(p.scheme, &s.g).n, p.scheme.Cells(), s.g.C, s.f, p.spread, p.ways != nil, p.split, tc.spread, tc.split)
		}
	}
}

// TestWinogradStreamSameBits: a forward Winograd pass whose outputs are
// stored streaming (WinoStreamMin 0) gives the bits of one that stores
// them plainly, with no epilogue, bias and ReLU, and bias, skip and
// ReLU; on channel counts that stream on the assembly paths (16, 32, 64)
// and one that does not (24), with tiles over the bottom and right edges.
func TestWinogradStreamSameBits(t *testing.T) {
	defer func(min int) { tune.WinoStreamMin = min }(tune.WinoStreamMin)
	for _, tc := range []struct{ in, filter []int }{
		{[]int{3, 28, 28, 16}, []int{3, 3, 16, 16}},
		{[]int{2, 14, 14, 32}, []int{3, 3, 32, 32}}, // tiles over the edges
		{[]int{2, 13, 11, 8}, []int{3, 3, 8, 24}},
		{[]int{2, 14, 14, 32}, []int{5, 5, 32, 64}},
	} {
		s, x, w := winoCase(t, tc.in, tc.filter)
		n := tensor.Size(s.out)
		bias, skip := cvRand(3, s.f).Data(), cvRand(4, n).Data()
		for _, ep := range []struct {
			name string
			ep   epilogue
		}{{"none", epilogue{}}, {"bias+relu", epilogue{bias: bias, relu: true}}, {"bias+skip+relu", epilogue{bias: bias, relu: true, skip: skip}}} {
			var ys [2][]float32
			for i, min := range []int{math.MaxInt, 0} {
				tune.WinoStreamMin = min
				p := planConv(passForward, &s.g, s.f)
				if p.stream != (min == 0 && kernels.WinoStreams()) {
					t.Fatalf("%v ⊛ %v: stream %v with WinoStreamMin %d", tc.in, tc.filter, p.stream, min)
				}
				ys[i] = make([]float32, n)
				convForwardPlan(p, &s.g, s.f, x, w, ys[i], ep.ep)
			}
			bitsEqual(t, fmt.Sprintf("%v ⊛ %v, %s, streamed", tc.in, tc.filter, ep.name), ys[1], ys[0])
		}
	}
}

// TestWinogradStreamMin: where the output transforms stream, the
// benchmark ResNet's 28×28×16 convolution streams its outputs at batch
// 128 (1.6 M values) and not at batch 1; elsewhere neither does.
func TestWinogradStreamMin(t *testing.T) {
	for _, tc := range []struct {
		n      int
		stream bool
	}{{128, true}, {1, false}} {
		s, err := newConvSpec("test", 2, []int{tc.n, 28, 28, 16}, []int{3, 3, 16, 16}, ConvOptions{Padding: "SAME"}, false)
		if err != nil {
			t.Fatal(err)
		}
		p := planConv(passForward, &s.g, s.f)
		if p.algo != algoWinograd {
			t.Skip("Winograd path off")
		}
		if want := tc.stream && kernels.WinoStreams(); p.stream != want {
			t.Errorf("batch %d: stream %v, want %v", tc.n, p.stream, want)
		}
	}
}
