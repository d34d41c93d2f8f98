package imagefilter

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"testing"
)

// TestWritePNGsMatchesApplyAll: the streamed PNGs decode to exactly
// ApplyAll's pixels, in every mode, with transparent and opaque sources,
// kernels of mixed sizes and bands of a few rows.
func TestWritePNGsMatchesApplyAll(t *testing.T) {
	g := loadGolden(t)
	opaque := g.image()
	holes := image.NewNRGBA(image.Rect(0, 0, 37, 23))
	for y := 0; y < 23; y++ {
		for x := 0; x < 37; x++ {
			holes.SetNRGBA(x, y, color.NRGBA{uint8(7 * x), uint8(11 * y), uint8(x * y), uint8(255 - (x+y)%3*100)})
		}
	}
	ks, err := Resolve("blur,box:5,sharpen,top_sobel", "1,2;3,-4", "edge,gaussian")
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []struct {
		name string
		img  image.Image
	}{{"opaque", opaque}, {"transparent", holes}} {
		for _, o := range []Options{{}, {Gray: true}, {MixChannels: true, Abs: true}, {Stride: 2, Padding: "VALID"}} {
			for _, band := range []int{bandValues, 7} {
				t.Run(fmt.Sprintf("%s/%+v/band%d", src.name, o, band), func(t *testing.T) {
					defer func(v int) { bandValues = v }(bandValues)
					bandValues = band
					want, err := ApplyAll(src.img, ks, o)
					if err != nil {
						t.Fatal(err)
					}
					bufs := make([]bytes.Buffer, len(ks))
					ws := make([]io.Writer, len(ks))
					for i := range bufs {
						ws[i] = &bufs[i]
					}
					if err := WritePNGs(src.img, ks, o, ws, png.BestSpeed); err != nil {
						t.Fatal(err)
					}
					for i := range ks {
						got, err := png.Decode(&bufs[i])
						if err != nil {
							t.Fatalf("%s: %v", ks[i].Name, err)
						}
						if !samePixels(got, want[i]) {
							t.Errorf("%s: the PNG's pixels differ from ApplyAll's", ks[i].Name)
						}
					}
				})
			}
		}
	}
	if err := WritePNGs(opaque, ks, Options{}, nil, png.BestSpeed); err == nil {
		t.Error("WritePNGs with no writers succeeded")
	}
}

// samePixels reports whether a and b have the same bounds and the same
// non-premultiplied 8-bit colour at every pixel (whatever their types).
func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.NRGBAModel.Convert(a.At(x, y)) != color.NRGBAModel.Convert(b.At(x, y)) {
				return false
			}
		}
	}
	return true
}
