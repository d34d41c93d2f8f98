//go:build ignore

// sample.go draws docs/filter/sample.png, the picture the README filters:
// a small synthetic landscape (sky gradient, sun, two mountain ridges, a
// house with a window, a tree, striped fields) with flat areas, soft
// gradients and sharp edges in every direction, so each kernel shows its
// effect. It is drawn from formulas, so it is part of the project and
// carries its licence.
//
// Run from the repository root:
//
//	go run docs/filter/sample.go
//	go run ./cmd/convnet filter -o docs/filter docs/filter/sample.png
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

const (
	width  = 240
	height = 160
	ss     = 4 // supersamples per pixel side, for smooth edges
)

type rgb struct{ r, g, b float64 }

func mix(a, b rgb, t float64) rgb {
	return rgb{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t}
}

// scene returns the colour at (x, y) in pixel units, y downwards.
func scene(x, y float64) rgb {
	// Sky: deep blue at the top to pale near the horizon.
	c := mix(rgb{0.20, 0.42, 0.78}, rgb{0.85, 0.90, 0.95}, y/100)
	// Sun.
	if d := math.Hypot(x-190, y-38); d < 18 {
		c = rgb{1.00, 0.86, 0.25}
	} else if d < 26 {
		c = mix(rgb{1.00, 0.93, 0.60}, c, (d-18)/8)
	}
	// Far ridge, then near ridge.
	if y > 78-18*math.Sin(x/23)-7*math.Sin(x/7+1) {
		c = mix(rgb{0.45, 0.50, 0.62}, rgb{0.62, 0.66, 0.74}, math.Max(0, math.Min(1, (y-55)/40)))
	}
	if y > 98-10*math.Sin(x/31+2)-4*math.Sin(x/11) {
		c = rgb{0.30, 0.52, 0.28}
	}
	// Fields: diagonal stripes in two greens below the horizon line.
	if y > 112 {
		c = rgb{0.42, 0.66, 0.30}
		if math.Mod(x+2*y, 24) < 12 {
			c = rgb{0.36, 0.58, 0.24}
		}
	}
	// House: walls, roof, door and a four-pane window.
	if x >= 50 && x < 110 && y >= 96 && y < 140 {
		c = rgb{0.93, 0.86, 0.70}
		if x >= 60 && x < 76 && y >= 104 && y < 122 {
			c = rgb{0.55, 0.75, 0.95}
			if math.Abs(x-68) < 1 || math.Abs(y-113) < 1 {
				c = rgb{1, 1, 1}
			}
		}
		if x >= 86 && x < 100 && y >= 112 {
			c = rgb{0.45, 0.28, 0.15}
		}
	}
	if y >= 70 && y < 96 && math.Abs(x-80) < 36*(y-70)/26 {
		c = rgb{0.72, 0.18, 0.14}
	}
	// Tree: trunk and crown.
	if x >= 148 && x < 154 && y >= 112 && y < 142 {
		c = rgb{0.40, 0.26, 0.14}
	}
	if math.Hypot(x-151, y-100) < 17 {
		c = rgb{0.16, 0.42, 0.18}
	}
	return c
}

func main() {
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for py := 0; py < height; py++ {
		for px := 0; px < width; px++ {
			var sum rgb
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					c := scene(float64(px)+(float64(sx)+0.5)/ss, float64(py)+(float64(sy)+0.5)/ss)
					sum = rgb{sum.r + c.r, sum.g + c.g, sum.b + c.b}
				}
			}
			n := float64(ss * ss)
			img.SetNRGBA(px, py, color.NRGBA{
				uint8(math.Round(255 * sum.r / n)),
				uint8(math.Round(255 * sum.g / n)),
				uint8(math.Round(255 * sum.b / n)),
				255,
			})
		}
	}
	f, err := os.Create("docs/filter/sample.png")
	if err != nil {
		log.Fatal(err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
