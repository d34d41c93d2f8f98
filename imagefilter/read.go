package imagefilter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"

	// The formats ReadImage decodes.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Formats names the image formats ReadImage and DecodeImage accept.
const Formats = "PNG, JPEG, GIF, BMP, TIFF or WebP"

// DefaultMaxPixels is the pixel limit the convnet command applies to its
// image inputs unless told otherwise: 10⁸ pixels, a 10000×10000 photo.
// Decoding one as 8-bit RGBA takes 400 MB.
const DefaultMaxPixels = 100_000_000

// ReadImage decodes the image file at path. Its header is read first with
// image.DecodeConfig: a file that is not one of Formats, or whose header
// claims no pixels or more than maxPixels (width·height), is refused
// before any pixel is decoded, so a small file claiming a huge image costs
// no memory. Errors name path, the format and what was expected.
func ReadImage(path string, maxPixels int64) (image.Image, error) {
	f, err := openImage(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, _, err := checkConfig(bufio.NewReader(f), path, maxPixels); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return decode(bufio.NewReader(f), path)
}

// CheckImage reads only the header of the image file at path and applies
// ReadImage's checks, returning its size and format name ("png", …).
func CheckImage(path string, maxPixels int64) (image.Config, string, error) {
	f, err := openImage(path)
	if err != nil {
		return image.Config{}, "", err
	}
	defer f.Close()
	return checkConfig(bufio.NewReader(f), path, maxPixels)
}

// DecodeImage is ReadImage for an image already in memory; name labels
// the errors.
func DecodeImage(data []byte, name string, maxPixels int64) (image.Image, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty, not an image (want %s)", name, Formats)
	}
	if _, _, err := checkConfig(bytes.NewReader(data), name, maxPixels); err != nil {
		return nil, err
	}
	return decode(bytes.NewReader(data), name)
}

// openImage opens path, refusing directories and empty files with a
// message that says so.
func openImage(path string) (*os.File, error) {
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

func checkConfig(r io.Reader, name string, maxPixels int64) (image.Config, string, error) {
	cfg, format, err := image.DecodeConfig(r)
	if errors.Is(err, image.ErrFormat) {
		return cfg, "", fmt.Errorf("%s is not an image of a known format (want %s)", name, Formats)
	}
	if err != nil {
		return cfg, format, fmt.Errorf("%s: reading the %s header: %v", name, format, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return cfg, format, fmt.Errorf("%s: %s image of %dx%d has no pixels", name, format, cfg.Width, cfg.Height)
	}
	if n := int64(cfg.Width) * int64(cfg.Height); n > maxPixels {
		return cfg, format, fmt.Errorf("%s: %s header claims %dx%d = %d pixels, more than the limit of %d", name, format, cfg.Width, cfg.Height, n, maxPixels)
	}
	return cfg, format, nil
}

func decode(r io.Reader, name string) (image.Image, error) {
	img, format, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%s: decoding the %s image: %v", name, format, err)
	}
	if b := img.Bounds(); b.Empty() {
		return nil, fmt.Errorf("%s: %s image of %dx%d has no pixels", name, format, b.Dx(), b.Dy())
	}
	return img, nil
}
