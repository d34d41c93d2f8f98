package imagefilter

import (
	"image"

	"github.com/convnet-go/convnet/imageio"
)

// Formats names the image formats ReadImage and DecodeImage accept.
const Formats = imageio.Formats

// DefaultMaxPixels is the pixel limit the convnet command applies to its
// image inputs unless told otherwise: imageio.DefaultMaxPixels, 10⁸
// pixels.
const DefaultMaxPixels = imageio.DefaultMaxPixels

// ReadImage decodes the image file at path with imageio.ReadFile: its
// header is read first, and a file that is not one of Formats, or whose
// header claims no pixels or more than maxPixels (width·height), is
// refused before any pixel is decoded. Errors name path, the format and
// what was expected.
func ReadImage(path string, maxPixels int64) (image.Image, error) {
	img, _, err := imageio.ReadFile(path, maxPixels)
	return img, err
}

// CheckImage reads only the header of the image file at path and applies
// ReadImage's checks, returning its size and format name ("png", …).
func CheckImage(path string, maxPixels int64) (image.Config, string, error) {
	h, err := imageio.CheckFile(path, maxPixels)
	return image.Config{ColorModel: h.ColorModel, Width: h.Width, Height: h.Height}, h.Format, err
}

// DecodeImage is ReadImage for an image already in memory; name labels
// the errors.
func DecodeImage(data []byte, name string, maxPixels int64) (image.Image, error) {
	img, _, err := imageio.DecodeBytes(data, name, maxPixels)
	return img, err
}
