package imagefilter

import (
	"image"

	"github.com/convnet-go/convnet/tensor"
)

// source is a whole image as a tensor [1,H,W,C] with values in [0, 1] and
// its alpha plane (nil when opaque or gray), for the tests.
type source struct {
	x     *tensor.Tensor
	alpha []uint8
}

// fromImage converts all of img, as run does band by band.
func fromImage(img image.Image, gray bool) source {
	b := img.Bounds()
	c := 3
	if gray {
		c = 1
	}
	x := tensor.Zeros(1, b.Dy(), b.Dx(), c)
	convertRows(img, gray, 0, b.Dy(), x.Data(), nil)
	var alpha []uint8
	if !gray {
		alpha = alphaPlane(img)
	}
	return source{x: x, alpha: alpha}
}
