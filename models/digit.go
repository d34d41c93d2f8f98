package models

import (
	"image"
	"image/color"
	"math"
)

// Invert modes for PrepareDigit.
const (
	InvertAuto   = "auto" // invert when the image's border is light
	InvertAlways = "always"
	InvertNever  = "never"
)

// PrepareDigit turns a picture of one handwritten digit, of any size and
// colour model, into a 28×28 image in [0, 1] laid out row-major, the way
// MNIST's were made:
//
//  1. grayscale by luminance, composited over white when transparent;
//  2. inverted to a light digit on a dark background (MNIST's polarity)
//     when invert is InvertAlways, or InvertAuto and the mean of the
//     border pixels is above one half (dark ink on light paper);
//  3. cropped to the bounding box of pixels above 1/4 of the brightest;
//  4. resized by area averaging so its longer side is 20 pixels, keeping
//     the aspect ratio;
//  5. placed in the 28×28 frame with its centre of mass at the centre
//     (pixel 14, 14), clipped at the frame's edge.
//
// It reports whether it inverted the image. A blank picture gives zeros.
func PrepareDigit(img image.Image, invert string) ([]float32, bool) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, ImageSize*ImageSize)
	if w == 0 || h == 0 {
		return out, false
	}
	gray := make([]float32, w*h)
	for y := range h {
		for x := range w {
			gray[y*w+x] = luminance(img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	inverted := invert == InvertAlways || invert == InvertAuto && borderMean(gray, w, h) > 0.5
	if inverted {
		for i, v := range gray {
			gray[i] = 1 - v
		}
	}
	// Bounding box of the ink.
	hi := float32(0)
	for _, v := range gray {
		hi = max(hi, v)
	}
	if hi <= 0 {
		return out, inverted
	}
	x0, y0, x1, y1 := w, h, -1, -1
	for y := range h {
		for x := range w {
			if gray[y*w+x] > hi/4 {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	bw, bh := x1-x0+1, y1-y0+1
	crop := make([]float32, bw*bh)
	for y := range bh {
		copy(crop[y*bw:(y+1)*bw], gray[(y0+y)*w+x0:(y0+y)*w+x1+1])
	}
	// Longer side to 20 pixels.
	const box = 20
	sw, sh := box, box
	if bw > bh {
		sh = max(1, int(math.Round(float64(box*bh)/float64(bw))))
	} else {
		sw = max(1, int(math.Round(float64(box*bw)/float64(bh))))
	}
	small := ResizeArea(crop, bw, bh, sw, sh)
	// Centre of mass → frame centre.
	var mass, mx, my float64
	for y := range sh {
		for x := range sw {
			v := float64(small[y*sw+x])
			mass += v
			mx += v * (float64(x) + 0.5)
			my += v * (float64(y) + 0.5)
		}
	}
	ox := int(math.Round(ImageSize/2 - mx/mass))
	oy := int(math.Round(ImageSize/2 - my/mass))
	for y := range sh {
		for x := range sw {
			tx, ty := ox+x, oy+y
			if tx >= 0 && tx < ImageSize && ty >= 0 && ty < ImageSize {
				out[ty*ImageSize+tx] = small[y*sw+x]
			}
		}
	}
	return out, inverted
}

// luminance returns c's gray level in [0, 1] (ITU-R BT.601 weights, as
// color.GrayModel uses), composited over white by its alpha.
func luminance(c color.Color) float32 {
	r, g, b, a := c.RGBA() // premultiplied, 0…65535
	y := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)) / 65535
	return float32(y + (1 - float64(a)/65535)) // premultiplied colour over white
}

// borderMean is the mean of the outermost rows and columns.
func borderMean(g []float32, w, h int) float32 {
	var s float32
	n := 0
	for x := range w {
		s += g[x] + g[(h-1)*w+x]
		n += 2
	}
	for y := 1; y < h-1; y++ {
		s += g[y*w] + g[y*w+w-1]
		n += 2
	}
	return s / float32(n)
}

// ResizeArea resizes a row-major sw×sh image to dw×dh by area averaging:
// each output pixel is the mean of the input area it covers, with
// partially covered input pixels weighted by the covered fraction.
func ResizeArea(src []float32, sw, sh, dw, dh int) []float32 {
	dst := make([]float32, dw*dh)
	fx, fy := float64(sw)/float64(dw), float64(sh)/float64(dh)
	for y := range dh {
		sy0, sy1 := float64(y)*fy, float64(y+1)*fy
		for x := range dw {
			sx0, sx1 := float64(x)*fx, float64(x+1)*fx
			var sum, area float64
			for iy := int(sy0); iy < sh && float64(iy) < sy1; iy++ {
				hy := math.Min(sy1, float64(iy+1)) - math.Max(sy0, float64(iy))
				for ix := int(sx0); ix < sw && float64(ix) < sx1; ix++ {
					wx := math.Min(sx1, float64(ix+1)) - math.Max(sx0, float64(ix))
					sum += float64(src[iy*sw+ix]) * wx * hy
					area += wx * hy
				}
			}
			if area > 0 {
				dst[y*dw+x] = float32(sum / area)
			}
		}
	}
	return dst
}
