package imageio

import (
	"image"
	"image/color"
	"math"
	"slices"
	"testing"
)

func TestPixels(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(gray.Pix, []uint8{0, 51, 255, 102, 153, 204})
	nrgba := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	nrgba.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})  // opaque red
	nrgba.SetNRGBA(1, 0, color.NRGBA{255, 0, 0, 128})  // half-transparent red: alpha ignored
	nrgba.SetNRGBA(0, 1, color.NRGBA{0, 255, 255, 0})  // transparent: NRGBA64Model gives black
	nrgba.SetNRGBA(1, 1, color.NRGBA{0, 51, 255, 255}) // 51/255 = 0.2
	g16 := image.NewGray16(image.Rect(0, 0, 1, 1))
	g16.SetGray16(0, 0, color.Gray16{0xffff})
	r, g, b := float32(LumaR), float32(LumaG), float32(LumaB)
	cases := []struct {
		name     string
		img      image.Image
		channels int
		want     []float32
	}{
		{"gray as gray", gray, 1, []float32{0, 0.2, 1, 0.4, 0.6, 0.8}},
		{"gray as RGB", gray, 3, []float32{0, 0, 0, 0.2, 0.2, 0.2, 1, 1, 1, 0.4, 0.4, 0.4, 0.6, 0.6, 0.6, 0.8, 0.8, 0.8}},
		{"gray sub-image", gray.SubImage(image.Rect(1, 1, 3, 2)), 1, []float32{0.6, 0.8}},
		{"NRGBA as RGB", nrgba, 3, []float32{1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0.2, 1}},
		{"NRGBA as gray", nrgba, 1, []float32{r, r, 0, g*0.2 + b}},
		// Gray16 goes through the luma weights, which sum to 0.9999.
		{"Gray16 white as gray", g16, 1, []float32{r + g + b}},
		{"Gray16 white as RGB", g16, 3, []float32{1, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bd := c.img.Bounds()
			got := make([]float32, bd.Dx()*bd.Dy()*c.channels)
			Pixels(got, c.img, c.channels)
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	if w := r + g + b; w < 0.99989 || w > 0.99991 {
		t.Errorf("luma weights sum to %v, want 0.9999", w)
	}
}

func TestPixelsPanicsOnBadArguments(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	for _, c := range []struct {
		name     string
		n, chans int
	}{{"2 channels", 8, 2}, {"short dst", 3, 1}, {"long dst", 13, 3}} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			Pixels(make([]float32, c.n), img, c.chans)
		})
	}
}

// TestPixelsOpaqueFastPath: the values Pixels reads from an *image.NRGBA's
// or *image.RGBA's Pix are bit for bit those of the general path, every
// sample and alpha of both models, sub-images included.
func TestPixelsOpaqueFastPath(t *testing.T) {
	// Rows 0-255 are opaque, rows 256-511 have alpha 0-255.
	nrgba := image.NewNRGBA(image.Rect(0, 0, 256, 512))
	rgba := image.NewRGBA(image.Rect(0, 0, 256, 512))
	for y := range 512 {
		for x := range 256 {
			a := uint8(255)
			if y >= 256 {
				a = uint8(y - 256)
			}
			nrgba.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(255 - x), uint8(x ^ y), a})
			v := min(uint8(x), a)
			rgba.SetRGBA(x, y, color.RGBA{v, v / 2, v / 3, a})
		}
	}
	// generic hides the concrete type, so Pixels takes its general path.
	type generic struct{ image.Image }
	for _, img := range []interface {
		image.Image
		SubImage(image.Rectangle) image.Image
	}{nrgba, rgba} {
		for _, m := range []image.Image{img, img.SubImage(image.Rect(3, 5, 250, 400))} {
			for _, c := range []int{1, 3} {
				n := m.Bounds().Dx() * m.Bounds().Dy() * c
				got, want := make([]float32, n), make([]float32, n)
				Pixels(got, m, c)
				Pixels(want, generic{m}, c)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%T %v, %d channels: value %d is %v, the general path gives %v", img, m.Bounds(), c, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkPixels converts an opaque 224x224 NRGBA image, what a PNG
// photo decodes to, into RGB.
func BenchmarkPixels(b *testing.B) {
	img := image.NewNRGBA(image.Rect(0, 0, 224, 224))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*7) | uint8(i%4/3*255) // alpha 255
	}
	dst := make([]float32, 224*224*3)
	b.ReportAllocs()
	for b.Loop() {
		Pixels(dst, img, 3)
	}
}
