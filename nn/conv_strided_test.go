package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// TestPhaseAxis checks the phases of one axis against cases worked by
// hand from i = o·s − p + k.
func TestPhaseAxis(t *testing.T) {
	for _, tc := range []struct {
		name           string
		r, in, s, p, k int
		want           phaseAxis
	}{
		// 3×3 stride 2 SAME on 28: pad 0 before. Even cells 2q take k=0
		// (o=q) and k=2 (o=q−1): flipped, taps read dy[q−1], dy[q].
		{"3x3 s2 even", 0, 28, 2, 0, 3, phaseAxis{r: 0, q: 14, k0: 0, taps: 2, off: -1}},
		{"3x3 s2 odd", 1, 28, 2, 0, 3, phaseAxis{r: 1, q: 14, k0: 1, taps: 1, off: 0}},
		// 1×1 stride 2: odd cells receive nothing.
		{"1x1 s2 even", 0, 28, 2, 0, 1, phaseAxis{r: 0, q: 14, k0: 0, taps: 1, off: 0}},
		{"1x1 s2 odd", 1, 28, 2, 0, 1, phaseAxis{r: 1, q: 14, k0: 1, taps: 0, off: 1}},
		// 5 taps, stride 2, pad 3: cell 0 takes k=1 (o=1) and k=3 (o=0).
		{"5 s2 pad 3", 0, 7, 2, 3, 5, phaseAxis{r: 0, q: 4, k0: 1, taps: 2, off: 0}},
		// Cell 1 takes k=0 (o=2), k=2 (o=1), k=4 (o=0).
		{"5 s2 pad 3 odd", 1, 7, 2, 3, 5, phaseAxis{r: 1, q: 3, k0: 0, taps: 3, off: 0}},
		// Stride 3, 2 taps, pad 0: cell 3q+2 takes no tap.
		{"2 s3 r2", 2, 8, 3, 0, 2, phaseAxis{r: 2, q: 2, k0: 2, taps: 0, off: 1}},
		// An input smaller than the stride.
		{"input 1 s2 r1", 1, 1, 2, 0, 3, phaseAxis{r: 1, q: 0, k0: 1, taps: 1, off: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newPhaseAxis(tc.r, tc.in, tc.s, tc.p, tc.k); got != tc.want {
				t.Errorf("newPhaseAxis(r=%d, in=%d, s=%d, p=%d, k=%d) = %+v, want %+v", tc.r, tc.in, tc.s, tc.p, tc.k, got, tc.want)
			}
		})
	}
}

// phaseCase is one strided input gradient of TestConvInputGradPhases.
type phaseCase struct {
	name       string
	nsp        int
	in, filter []int
	o          ConvOptions
}

// phaseCases are strided geometries over odd shapes: every window of
// 1×1, 2×2, 3×3, 5×5, 3×2 with strides 2 and 3 under SAME, VALID and
// EXPLICIT padding (pads above the stride), channels 1, 3 and 16, batch
// 1 and 3; then mixed strides, an input below the stride, a window
// larger than the input and 3-D.
func phaseCases() []phaseCase {
	var cs []phaseCase
	pads := []struct {
		name string
		o    ConvOptions
	}{
		{"same", ConvOptions{Padding: "SAME"}},
		{"valid", ConvOptions{Padding: "VALID"}},
		{"explicit", ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{3, 1}, {0, 4}}}},
	}
	sizes := [][2]int{{9, 11}, {13, 7}, {6, 10}, {11, 11}}
	channels := []int{1, 3, 16}
	i := 0
	for _, k := range [][2]int{{1, 1}, {2, 2}, {3, 3}, {5, 5}, {3, 2}} {
		for _, s := range []int{2, 3} {
			for _, pd := range pads {
				sz, c, n := sizes[i%len(sizes)], channels[i%len(channels)], 1+2*(i%2)
				f := 2 + i%5
				i++
				o := pd.o
				o.Strides = []int{s}
				cs = append(cs, phaseCase{
					name: fmt.Sprintf("%dx%d s%d %s in %dx%dx%d n%d f%d", k[0], k[1], s, pd.name, sz[0], sz[1], c, n, f),
					nsp:  2, in: []int{n, sz[0], sz[1], c}, filter: []int{k[0], k[1], c, f}, o: o,
				})
			}
		}
	}
	return append(cs,
		phaseCase{"strides 1x2 same", 2, []int{2, 7, 9, 3}, []int{3, 3, 3, 4}, ConvOptions{Padding: "SAME", Strides: []int{1, 2}}},
		phaseCase{"strides 3x2 explicit", 2, []int{1, 10, 9, 5}, []int{4, 3, 5, 3}, ConvOptions{Padding: "EXPLICIT", Strides: []int{3, 2}, ExplicitPaddings: [][2]int{{5, 0}, {1, 2}}}},
		phaseCase{"input below stride", 2, []int{2, 1, 2, 3}, []int{3, 3, 3, 2}, ConvOptions{Padding: "SAME", Strides: []int{3}}},
		phaseCase{"window larger than input", 2, []int{1, 3, 2, 4}, []int{5, 5, 4, 3}, ConvOptions{Padding: "SAME", Strides: []int{2}}},
		phaseCase{"resnet 3x3 s2 small", 2, []int{3, 8, 8, 16}, []int{3, 3, 16, 32}, ConvOptions{Padding: "SAME", Strides: []int{2}}},
		phaseCase{"resnet 1x1 s2 small", 2, []int{3, 8, 8, 16}, []int{1, 1, 16, 32}, ConvOptions{Padding: "SAME", Strides: []int{2}}},
		phaseCase{"1d s2", 1, []int{3, 11, 4}, []int{3, 4, 5}, ConvOptions{Padding: "SAME", Strides: []int{2}}},
		phaseCase{"3d s2", 3, []int{2, 5, 6, 7, 3}, []int{3, 2, 3, 3, 4}, ConvOptions{Padding: "SAME", Strides: []int{2}}},
		phaseCase{"3d s(1,2,3) explicit", 3, []int{1, 4, 7, 8, 2}, []int{2, 3, 3, 2, 3}, ConvOptions{Padding: "EXPLICIT", Strides: []int{1, 2, 3}, ExplicitPaddings: [][2]int{{1, 0}, {2, 2}, {3, 1}}}},
	)
}

// TestConvInputGradPhases compares the sub-pixel input gradient with the
// plain-loop reference under every Sgemm implementation, with pieces of
// whole phases and of one line, and checks that it repeats bit for bit
// at 1 and 3 workers.
func TestConvInputGradPhases(t *testing.T) {
	defer func(saved tuning) { tune = saved }(tune)
	orig := kernels.Impl()
	defer restoreDispatch(t, orig)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	tune.PhaseMinChannels = 0
	for _, impl := range kernels.Available() {
		if err := kernels.SetImpl(impl); err != nil {
			t.Fatal(err)
		}
		for _, bytes := range []int{256 << 10, 1} {
			tune.PhasePatchBytes = bytes
			for _, tc := range phaseCases() {
				t.Run(fmt.Sprintf("%s/piece %d B/%s", impl, bytes, tc.name), func(t *testing.T) {
					s, err := newConvSpec("test", tc.nsp, tc.in, tc.filter, tc.o, false)
					if err != nil {
						t.Fatal(err)
					}
					if pl := planOf(passInputGrad, &s.g, s.f); pl.algo != algoPhases {
						t.Fatalf("planned %s, want phases", algoNames[pl.algo])
					}
					w := cvRand(7, tc.filter...)
					dy := cvRand(8, s.out...)
					want := make([]float32, tensor.Size(s.in))
					convBackpropInputRef(&s.g, s.f, w.Data(), dy.Data(), want)
					var first []float32
					for _, procs := range []int{1, 3, 3} {
						runtime.GOMAXPROCS(procs)
						dx, err := convBwdInput(tc.nsp, tc.in, w, dy, tc.o)
						if err != nil {
							t.Fatal(err)
						}
						if first == nil {
							cvClose(t, "backprop input", dx.Data(), want, 1e-5)
							first = dx.Data()
							continue
						}
						bitsEqual(t, fmt.Sprintf("%d workers against 1", procs), dx.Data(), first)
					}
				})
			}
		}
	}
}

// TestPhasesWriteEveryCell runs a phase gradient into storage filled with
// NaN: a cell the phases missed would stay NaN.
func TestPhasesWriteEveryCell(t *testing.T) {
	defer func(saved tuning) { tune = saved }(tune)
	tune.PhaseMinChannels = 0
	for _, tc := range phaseCases() {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newConvSpec("test", tc.nsp, tc.in, tc.filter, tc.o, false)
			if err != nil {
				t.Fatal(err)
			}
			dx := make([]float32, tensor.Size(s.in))
			for i := range dx {
				dx[i] = float32(math.NaN())
			}
			pl := planOf(passInputGrad, &s.g, s.f)
			convInputGradPhases(pl, &s.g, s.f, cvRand(7, tc.filter...).Data(), cvRand(8, s.out...).Data(), dx, nil)
			for i, v := range dx {
				if v != v {
					t.Fatalf("dx[%d] of %d not written", i, len(dx))
				}
			}
		})
	}
}

// TestPhasesWideInput: where one line's patches would outgrow
// phaseLineMaxBytes, the input gradient stays on Col2im, whose chunks may
// cut lines.
func TestPhasesWideInput(t *testing.T) {
	o := ConvOptions{Padding: "SAME", Strides: []int{2}}
	for _, tc := range []struct {
		name  string
		width int
		want  convAlgo
	}{
		{"narrow", 1000, algoPhases},
		{"wide", 40000, algoCol2im},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newConvSpec("test", 2, []int{1, 4, tc.width, 128}, []int{3, 3, 128, 128}, o, false)
			if err != nil {
				t.Fatal(err)
			}
			if pl := planOf(passInputGrad, &s.g, s.f); pl.algo != tc.want {
				t.Errorf("planned %s, want %s", algoNames[pl.algo], algoNames[tc.want])
			}
		})
	}
}

// TestConvInputGradPhasesRandom compares the sub-pixel input gradient
// with the plain-loop reference on 300 seeded random strided geometries
// (sizes 1–12, windows 1–5, strides 1–4 with at least one above 1, any
// padding with explicit pads 0–5, 1–5 channels in and 1–4 out, batch
// 1–3), skipping those the op refuses.
func TestConvInputGradPhasesRandom(t *testing.T) {
	defer func(saved tuning) { tune = saved }(tune)
	tune.PhaseMinChannels = 0
	rng := rand.New(rand.NewPCG(5, 7))
	between := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	for i := 0; i < 300; i++ {
		in := []int{between(1, 3), between(1, 12), between(1, 12), between(1, 5)}
		filter := []int{between(1, 5), between(1, 5), in[3], between(1, 4)}
		strides := []int{between(1, 4), between(2, 4)}
		if rng.IntN(2) == 0 {
			strides[0], strides[1] = strides[1], strides[0]
		}
		o := ConvOptions{Padding: []string{"SAME", "VALID", "EXPLICIT"}[rng.IntN(3)], Strides: strides}
		if o.Padding == "EXPLICIT" {
			o.ExplicitPaddings = [][2]int{{between(0, 5), between(0, 5)}, {between(0, 5), between(0, 5)}}
		}
		name := fmt.Sprintf("%d in %v filter %v strides %v %s %v", i, in, filter, strides, o.Padding, o.ExplicitPaddings)
		s, err := newConvSpec("test", 2, in, filter, o, false)
		if err != nil || tensor.Size(s.out) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if pl := planOf(passInputGrad, &s.g, s.f); pl.algo != algoPhases {
				t.Fatalf("planned %s, want phases", algoNames[pl.algo])
			}
			w, dy := cvRand(uint64(i), filter...), cvRand(uint64(i)+1000, s.out...)
			dx, err := Conv2DBackpropInput(in, w, dy, o)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, tensor.Size(in))
			convBackpropInputRef(&s.g, s.f, w.Data(), dy.Data(), want)
			cvClose(t, "backprop input", dx.Data(), want, 1e-5)
		})
	}
}
