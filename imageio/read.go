// Package imageio reads untrusted image files and byte slices with a
// bound on their size, and converts images to float32 pixels for models.
//
// Every reader works in two passes: image.DecodeConfig reads the header
// alone, and an input that is not one of Formats, claims no pixels, or
// claims more than the caller's pixel limit (width·height) is refused
// before any pixel is decoded, so a small file claiming a huge image
// costs no memory; only then is the image decoded. Errors name the
// source (a path or a label such as "request body"), the format, the size
// the header claims and the limit.
//
// Pixels is the conversion to model input that class folders (data/folder)
// and convnet predict's non-digit models use. Two readers convert on
// their own, on purpose: imagefilter maps an 8-bit sample v to
// v·float32(1/255) as tf.image.convert_image_dtype does, converts JPEG
// colour at 8 bits and composites gray over white; models.PrepareDigit
// weighs gray by BT.601 (0.299, 0.587, 0.114) in float64, over white.
//
// The package does not read animation frames after the first (a GIF
// decodes to its first frame), colour profiles or EXIF orientation.
package imageio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"

	// The formats the readers decode.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Formats names the image formats the readers accept, for messages.
const Formats = "PNG, JPEG, GIF, BMP, TIFF or WebP"

// DefaultMaxPixels is a pixel limit for images from the command line:
// 10⁸ pixels, a 10000×10000 photo, which takes 400 MB decoded as 8-bit
// RGBA. Servers and data sets choose their own.
const DefaultMaxPixels = 100_000_000

// Header is what an image's header claims, read before any pixel.
type Header struct {
	Format        string // the name image.RegisterFormat gave it: "png", "jpeg", "gif", "bmp", "tiff" or "webp"
	Width, Height int
	ColorModel    color.Model // a color.Palette for paletted images, so Headers do not compare with ==
}

// ReadFile decodes the image file at path after checking its header:
// a directory, an empty file, a file that is not one of Formats, or one
// whose header claims no pixels or more than maxPixels (width·height) is
// an error naming path. It returns the image and the header it claimed.
func ReadFile(path string, maxPixels int64) (image.Image, Header, error) {
	f, err := open(path)
	if err != nil {
		return nil, Header{}, err
	}
	defer f.Close()
	return Decode(f, path, maxPixels)
}

// CheckFile reads only the header of the image file at path and applies
// ReadFile's checks.
func CheckFile(path string, maxPixels int64) (Header, error) {
	f, err := open(path)
	if err != nil {
		return Header{}, err
	}
	defer f.Close()
	return check(bufio.NewReader(f), path, maxPixels)
}

// DecodeBytes is ReadFile for an image in memory; name labels the errors.
func DecodeBytes(data []byte, name string, maxPixels int64) (image.Image, Header, error) {
	if len(data) == 0 {
		return nil, Header{}, fmt.Errorf("%s is empty, not an image (want %s)", name, Formats)
	}
	return Decode(bytes.NewReader(data), name, maxPixels)
}

// Decode is ReadFile for r, read from its current offset; name labels the
// errors. r is read twice: once for the header, then, after seeking back,
// for the pixels. The decoded image has at least one pixel and no more
// than its header claimed.
func Decode(r io.ReadSeeker, name string, maxPixels int64) (image.Image, Header, error) {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, Header{}, fmt.Errorf("%s: %v", name, err)
	}
	h, err := check(bufio.NewReader(r), name, maxPixels)
	if err != nil {
		return nil, h, err
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, h, fmt.Errorf("%s: %v", name, err)
	}
	img, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, h, fmt.Errorf("%s: decoding the %dx%d %s image: %v", name, h.Width, h.Height, h.Format, err)
	}
	b := img.Bounds()
	switch {
	case b.Empty():
		return nil, h, fmt.Errorf("%s: %s image of %dx%d has no pixels; want at least 1x1", name, h.Format, b.Dx(), b.Dy())
	case int64(b.Dx())*int64(b.Dy()) > int64(h.Width)*int64(h.Height):
		return nil, h, fmt.Errorf("%s: %s image decoded to %dx%d, more than its header's %dx%d", name, h.Format, b.Dx(), b.Dy(), h.Width, h.Height)
	}
	return img, h, nil
}

// open opens path, refusing directories and empty files with a message
// that says so.
func open(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		return nil, err
	case st.IsDir():
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not an image (want %s)", path, Formats)
	case st.Size() == 0:
		f.Close()
		return nil, fmt.Errorf("%s is empty, not an image (want %s)", path, Formats)
	}
	return f, nil
}

// check reads the header from r and holds it to maxPixels.
func check(r io.Reader, name string, maxPixels int64) (Header, error) {
	cfg, format, err := image.DecodeConfig(r)
	h := Header{Format: format, Width: cfg.Width, Height: cfg.Height, ColorModel: cfg.ColorModel}
	if errors.Is(err, image.ErrFormat) {
		return h, fmt.Errorf("%s is not an image of a known format (want %s)", name, Formats)
	}
	if err != nil {
		return h, fmt.Errorf("%s: reading the %s header: %v", name, format, err)
	}
	if h.Width < 1 || h.Height < 1 {
		return h, fmt.Errorf("%s: %s image of %dx%d has no pixels; want at least 1x1", name, format, h.Width, h.Height)
	}
	if n := int64(h.Width) * int64(h.Height); n > maxPixels {
		return h, fmt.Errorf("%s: %s header claims %dx%d = %d pixels, more than the limit of %d", name, format, h.Width, h.Height, n, maxPixels)
	}
	return h, nil
}
