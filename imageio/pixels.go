package imageio

import (
	"fmt"
	"image"
	"image/color"
)

// LumaR, LumaG and LumaB are tf.image.rgb_to_grayscale's weights of R, G
// and B, TF's values for ITU-R BT.601 luma (the standard's 0.299, 0.587,
// 0.114); they sum to 0.9999.
const (
	LumaR = 0.2989
	LumaG = 0.5870
	LumaB = 0.1140
)

// Pixels writes img into dst as float32 HWC pixels in [0, 1]: dst[(y·W +
// x)·channels + c] for the W×H image's pixel (x, y) counted from its
// bounds' top-left corner. channels is 3 for R, G, B or 1 for gray, as
// tf.image.rgb_to_grayscale weights it: LumaR·R + LumaG·G + LumaB·B.
//
// Each colour is read un-premultiplied at 16 bits (color.NRGBA64Model)
// and divided by 65535, so an 8-bit sample v gives float32(v)/255 and a
// JPEG's Y′CbCr is converted at 16-bit precision. Alpha is dropped after
// un-premultiplying: a translucent pixel gives its colour, a fully
// transparent one black. An *image.Gray is read directly, v/255 copied to
// every channel, without the luma weights (other gray models, such as
// *image.Gray16, go through them: white gives 0.9999).
//
// Pixels panics when channels is not 1 or 3 or dst does not hold W·H·channels
// values: the caller sized both.
func Pixels(dst []float32, img image.Image, channels int) {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	if (channels != 1 && channels != 3) || len(dst) != h*w*channels {
		panic(fmt.Sprintf("imageio: Pixels of a %dx%d image with %d channels into %d values; want 1 or 3 channels and W·H·channels values", w, h, channels, len(dst)))
	}
	if g, ok := img.(*image.Gray); ok {
		for y := range h {
			row := g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				v := float32(row[x]) / 255
				o := dst[(y*w+x)*channels : (y*w+x+1)*channels]
				for c := range o {
					o[c] = v
				}
			}
		}
		return
	}
	// PNGs decode to *image.NRGBA or *image.RGBA. Their opaque pixels are
	// read from Pix: an 8-bit sample v of alpha 255 is v·0x101 in
	// NRGBA64, in both models, so the values are those of the general
	// path below without its two interface conversions per pixel.
	var pix []uint8
	var stride int
	switch m := img.(type) {
	case *image.NRGBA:
		pix, stride = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.RGBA:
		pix, stride = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	}
	for y := range h {
		for x := range w {
			var nc color.NRGBA64
			if o := y*stride + x*4; pix != nil && pix[o+3] == 0xff {
				nc = color.NRGBA64{R: uint16(pix[o]) * 0x101, G: uint16(pix[o+1]) * 0x101, B: uint16(pix[o+2]) * 0x101, A: 0xffff}
			} else {
				nc = color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			}
			r, g, bl := float32(nc.R)/65535, float32(nc.G)/65535, float32(nc.B)/65535
			i := (y*w + x) * channels
			if channels == 1 {
				dst[i] = LumaR*r + LumaG*g + LumaB*bl
			} else {
				dst[i], dst[i+1], dst[i+2] = r, g, bl
			}
		}
	}
}
