package nn

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/tensor"
)

// TestWinogradFilterGradMatchesReference runs filter gradients through
// the Winograd path (in whole blocks and in blocks of 5 tiles, so blocks
// straddle images and the groups hold several blocks) and compares them
// with the float64 reference.
func TestWinogradFilterGradMatchesReference(t *testing.T) {
	if !tune.Winograd || kernels.Impl() == "ref" {
		t.Skip("Winograd path off (CONVNET_WINOGRAD=off or ref kernels)")
	}
	defer func(saved tuning) { tune = saved }(tune)
	tune.Wino3ChannelMultiple = 1 // odd channel counts too
	saved, savedPad := tune.WinoGradBlock, tune.WinoPadMax
	for _, scheme := range kernels.WinoSchemes {
		tune.WinoScheme = scheme
		for _, bp := range [][2]int{{saved, savedPad}, {5, savedPad}, {saved, 0}} {
			block := bp[0]
			tune.WinoGradBlock, tune.WinoPadMax = block, bp[1]
			for _, tc := range winoCasesFor(scheme.K) {
				t.Run(fmt.Sprintf("%s/%s/block=%d/padmax=%d", scheme.Name, tc.name, block, bp[1]), func(t *testing.T) {
					s := tc.geom(t)
					if winoScheme(passFilterGrad, &s.g, s.f) != scheme {
						t.Fatalf("geometry %+v does not take the Winograd path", s.g)
					}
					x, dy := cvRand(tc.seed, tc.in...).Data(), cvRand(tc.seed+300, s.out...).Data()
					x64, dy64 := cvF64(x), cvF64(dy)
					want, mag := make([]float64, tensor.Size(s.filter)), make([]float64, tensor.Size(s.filter))
					convBackpropFilterRef(&s.g, s.f, x64, dy64, want)
					convBackpropFilterRef(&s.g, s.f, abs64(x64), abs64(dy64), mag)
					dw := make([]float32, len(want))
					for i := range dw {
						dw[i] = float32(i) // overwritten, not accumulated into
					}
					convBackpropFilter(&s.g, s.f, x, dy, dw)
					winoClose(t, "filter gradient", dw, want, filterGradMag(mag, s.g.C*s.f))
				})
			}
		}
	}
}

// filterGradMag widens the |terms| magnitudes mag [taps, C·F] of a filter
// gradient for winoClose. Each transformed cell mixes the whole window
// of a tile (6×6 or 8×8), so the transforms' rounding is relative to the
// terms of all 25 taps of a channel pair, not to those of one tap: a tap
// that reads only padding has no terms but picks up rounding from the
// others (seen: up to 4e-7 of the 25 taps' total with F(2×2, 5×5), 3e-6
// with F(4×4, 5×5) on a 1×2 image in an 8×8 tile, 1.3e-5 of one tap's
// terms). Adding half the total lets winoClose allow 5e-6 of it; a wrong
// coefficient is off by a whole tap's terms, about 4% of it.
func filterGradMag(mag []float64, cf int) []float64 {
	taps := len(mag) / cf
	out := slices.Clone(mag)
	for i := 0; i < cf; i++ {
		var total float64
		for k := 0; k < taps; k++ {
			total += mag[k*cf+i]
		}
		for k := 0; k < taps; k++ {
			out[k*cf+i] += total / 2
		}
	}
	return out
}

// TestWinogradFilterGradRepeatsAcrossWorkers checks that dw is the same
// bit for bit at GOMAXPROCS 1 and 2 (fixed groups of blocks, summed in
// order), with blocks small enough for all maxGroups groups.
func TestWinogradFilterGradRepeatsAcrossWorkers(t *testing.T) {
	if !tune.Winograd || kernels.Impl() == "ref" {
		t.Skip("Winograd path off")
	}
	defer func(saved tuning) { tune = saved }(tune)
	saved := tune.WinoGradBlock
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, sb := range []struct {
		s     *kernels.WinoScheme
		block int
	}{{kernels.Wino2, saved}, {kernels.Wino2, 5}, {kernels.Wino4, saved}, {kernels.Wino4, 5}, {kernels.Wino43, saved}, {kernels.Wino43, 5}} {
		tune.WinoScheme, tune.WinoGradBlock = sb.s, sb.block
		tc := winoCasesFor(sb.s.K)[0]
		s := tc.geom(t)
		if winoScheme(passFilterGrad, &s.g, s.f) != sb.s {
			t.Fatalf("%s: geometry %+v does not take the scheme", sb.s.Name, s.g)
		}
		x, dy := cvRand(tc.seed, tc.in...).Data(), cvRand(tc.seed+300, s.out...).Data()
		n := tensor.Size(s.filter)
		block := sb.block
		var got [2][]float32
		for i, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			got[i] = make([]float32, n)
			convBackpropFilter(&s.g, s.f, x, dy, got[i])
		}
		if !slices.Equal(got[0], got[1]) {
			t.Errorf("%s block=%d: dw differs between GOMAXPROCS 1 and 2", sb.s.Name, block)
		}
	}
}
