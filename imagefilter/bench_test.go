package imagefilter

import (
	"image"
	"testing"

	"github.com/convnet-go/convnet/internal/cputime"
)

// photo12MP is a 4000x3000 opaque NRGBA image with varied content.
func photo12MP() *image.NRGBA {
	const w, h = 4000, 3000
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		p := m.Pix[y*m.Stride:]
		for x := 0; x < w; x++ {
			p[4*x] = uint8(x ^ y)
			p[4*x+1] = uint8(x*3 + y)
			p[4*x+2] = uint8((x * y) >> 7)
			p[4*x+3] = 0xff
		}
	}
	return m
}

// BenchmarkApply12MP runs the lecture's five kernels over a 12-megapixel
// RGB image per iteration: one conversion in, the five kernels as one
// DepthwiseConv2D per band of rows, five conversions out. Besides the wall time it reports the CPU seconds
// used per iteration (all cores), which a busy machine does not inflate.
func BenchmarkApply12MP(b *testing.B) {
	img := photo12MP()
	var ks []Kernel
	for _, n := range Lecture() {
		k, _ := Builtin(n)
		ks = append(ks, k)
	}
	for _, bc := range []struct {
		name string
		o    Options
	}{{"rgb", Options{}}, {"gray", Options{Gray: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				if _, err := ApplyAll(img, ks, bc.o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cputime.Process()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
