package models

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestResizeArea(t *testing.T) {
	tests := []struct {
		name           string
		src            []float32
		sw, sh, dw, dh int
		want           []float32
	}{
		{"2x2 to 1x1 mean", []float32{0, 1, 2, 3}, 2, 2, 1, 1, []float32{1.5}},
		{"3 to 2 partial pixels", []float32{0, 3, 6}, 3, 1, 2, 1, []float32{1, 5}}, // (0 + 3/2)/1.5, (3/2 + 6)/1.5
		{"upscale repeats", []float32{1, 2}, 2, 1, 4, 1, []float32{1, 1, 2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ResizeArea(tc.src, tc.sw, tc.sh, tc.dw, tc.dh)
			for i := range tc.want {
				if math.Abs(float64(got[i]-tc.want[i])) > 1e-6 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// drawBar returns a w×h image with background bg and a vertical bar of
// colour ink covering columns [x0, x1) and rows [y0, y1).
func drawBar(w, h, x0, x1, y0, y1 int, bg, ink uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := bg
			if x >= x0 && x < x1 && y >= y0 && y < y1 {
				v = ink
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	return img
}

func TestPrepareDigit(t *testing.T) {
	tests := []struct {
		name         string
		img          image.Image
		invert       string
		wantInverted bool
	}{
		{"dark ink on white, off-centre", drawBar(100, 60, 10, 20, 5, 45, 255, 0), InvertAuto, true},
		{"white ink on black", drawBar(50, 50, 30, 40, 10, 40, 0, 255), InvertAuto, false},
		{"forced inversion", drawBar(50, 50, 30, 40, 10, 40, 255, 0), InvertAlways, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			px, inv := PrepareDigit(tc.img, tc.invert)
			if inv != tc.wantInverted {
				t.Errorf("inverted = %v, want %v", inv, tc.wantInverted)
			}
			if len(px) != ImageSize*ImageSize {
				t.Fatalf("%d pixels", len(px))
			}
			// The bar is taller than wide: 20 rows high, centred at 14.
			var mass, mx, my float64
			rows := map[int]bool{}
			for y := range ImageSize {
				for x := range ImageSize {
					v := float64(px[y*ImageSize+x])
					if v < 0 || v > 1 {
						t.Fatalf("pixel (%d,%d) = %v outside [0, 1]", x, y, v)
					}
					if v > 0.5 {
						rows[y] = true
					}
					mass += v
					mx += v * (float64(x) + 0.5)
					my += v * (float64(y) + 0.5)
				}
			}
			if len(rows) != 20 {
				t.Errorf("digit spans %d rows, want 20", len(rows))
			}
			if math.Abs(mx/mass-14) > 0.5 || math.Abs(my/mass-14) > 0.5 {
				t.Errorf("centre of mass (%.2f, %.2f), want (14, 14)", mx/mass, my/mass)
			}
		})
	}
	t.Run("blank", func(t *testing.T) {
		px, _ := PrepareDigit(drawBar(10, 10, 0, 0, 0, 0, 255, 255), InvertAuto)
		for _, v := range px {
			if v != 0 {
				t.Fatal("blank image gave ink")
			}
		}
	})
	t.Run("transparent background counts as white", func(t *testing.T) {
		img := image.NewNRGBA(image.Rect(0, 0, 40, 40))
		for y := 5; y < 35; y++ {
			for x := 18; x < 22; x++ {
				img.SetNRGBA(x, y, color.NRGBA{A: 255}) // opaque black ink
			}
		}
		px, inv := PrepareDigit(img, InvertAuto)
		if !inv || px[14*ImageSize+14] < 0.5 {
			t.Errorf("inverted %v, centre pixel %v; want a light stroke on dark", inv, px[14*ImageSize+14])
		}
	})
}
