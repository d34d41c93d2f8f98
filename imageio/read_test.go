package imageio

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/imagetest"
)

// webp1x1 is a lossless 1x1 WebP (RIFF, VP8L, one green pixel).
var webp1x1 = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

func testImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*37) | 0x80
	}
	return img
}

func TestDecodeFormats(t *testing.T) {
	img := testImage()
	for _, format := range []string{"png", "jpeg", "gif", "bmp", "tiff"} {
		t.Run(format, func(t *testing.T) {
			got, h, err := DecodeBytes(imagetest.Encode(t, format, img), "in."+format, 15)
			if err != nil {
				t.Fatal(err)
			}
			if h.Format != format || h.Width != 5 || h.Height != 3 || h.ColorModel == nil {
				t.Errorf("header %+v, want %s 5x3", h, format)
			}
			if b := got.Bounds(); b != img.Bounds() {
				t.Errorf("bounds %v, want %v", b, img.Bounds())
			}
		})
	}
	t.Run("webp", func(t *testing.T) {
		got, h, err := DecodeBytes(webp1x1, "in.webp", 1)
		if err != nil {
			t.Fatal(err)
		}
		if h.Format != "webp" || h.Width != 1 || h.Height != 1 || got.Bounds().Dx() != 1 {
			t.Errorf("header %+v, bounds %v; want webp 1x1", h, got.Bounds())
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	good := imagetest.Encode(t, "png", testImage())
	cases := []struct {
		name string
		in   []byte
		max  int64
		want string
	}{
		{"empty", nil, 100, "in is empty, not an image (want PNG, JPEG, GIF, BMP, TIFF or WebP)"},
		{"text", []byte("hello"), 100, "in is not an image of a known format (want PNG, JPEG, GIF, BMP, TIFF or WebP)"},
		{"signature only", []byte("\x89PNG\r\n\x1a\n"), 100, "in: reading the png header: unexpected EOF"},
		{"header bomb", imagetest.PNGHeader(100000, 100000), 100_000_000, "in: png header claims 100000x100000 = 10000000000 pixels, more than the limit of 100000000"},
		{"over the limit", good, 14, "in: png header claims 5x3 = 15 pixels, more than the limit of 14"},
		{"no pixels", imagetest.PNGHeader(0, 7), 100, "in: reading the png header: png: invalid format: non-positive dimension"},
		{"gif of 0x0", []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00;"), 100, "in: gif image of 0x0 has no pixels; want at least 1x1"},
		{"truncated", good[:60], 100, "in: decoding the 5x3 png image: png: invalid format: not enough pixel data"},
		{"header only", imagetest.PNGHeader(4, 4), 100, "in: decoding the 4x4 png image"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, _, err := DecodeBytes(c.in, "in", c.max)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if img != nil {
				t.Errorf("returned an image with the error")
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.png")
	os.WriteFile(good, imagetest.Encode(t, "png", testImage()), 0o644)
	empty := filepath.Join(dir, "empty.jpg")
	os.WriteFile(empty, nil, 0o644)
	bomb := filepath.Join(dir, "bomb.png")
	os.WriteFile(bomb, imagetest.PNGHeader(70000, 70000), 0o644)
	cases := []struct {
		name, path, want string
	}{
		{"directory", dir, dir + " is a directory, not an image (want PNG"},
		{"empty", empty, empty + " is empty, not an image"},
		{"missing", filepath.Join(dir, "nope.png"), "nope.png: no such file"},
		{"bomb", bomb, bomb + ": png header claims 70000x70000 = 4900000000 pixels, more than the limit of 1000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := ReadFile(c.path, 1000); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadFile: err = %v, want %q", err, c.want)
			}
			if _, err := CheckFile(c.path, 1000); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("CheckFile: err = %v, want %q", err, c.want)
			}
		})
	}
	img, h, err := ReadFile(good, 15)
	if err != nil || h.Format != "png" || h.Width != 5 || h.Height != 3 || img.At(1, 1) != color.Color(testImage().At(1, 1)) {
		t.Errorf("ReadFile(good) = %v, %+v, %v; want the 5x3 image", img.Bounds(), h, err)
	}
	if h, err := CheckFile(good, 15); err != nil || h.Format != "png" || h.Width != 5 || h.Height != 3 || h.ColorModel != color.NRGBAModel {
		t.Errorf("CheckFile(good) = %+v, %v; want png 5x3", h, err)
	}
}

// TestDecodeFromOffset: Decode reads from r's current offset and seeks
// back there, not to the start, for the second pass.
func TestDecodeFromOffset(t *testing.T) {
	data := append([]byte("junk"), imagetest.Encode(t, "gif", testImage())...)
	r := bytes.NewReader(data)
	r.Seek(4, 0)
	img, h, err := Decode(r, "in", 15)
	if err != nil || h.Format != "gif" || img.Bounds().Dx() != 5 {
		t.Fatalf("Decode at offset 4: %v, %+v, %v; want the 5x3 gif", img, h, err)
	}
}
