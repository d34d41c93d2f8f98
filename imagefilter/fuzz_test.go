package imagefilter

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// fuzzMaxPixels keeps FuzzDecodeImage's decodes small.
const fuzzMaxPixels = 1 << 16

// FuzzDecodeImage feeds arbitrary bytes to DecodeImage, the reader of
// predict's and filter's images: it must never panic, and an image it
// returns must have pixels and respect the pixel limit its header was
// held to.
func FuzzDecodeImage(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 37)
	}
	encoders := []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return png.Encode(b, img) },
		func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) },
		func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) },
		func(b *bytes.Buffer) error { return bmp.Encode(b, img) },
		func(b *bytes.Buffer) error { return tiff.Encode(b, img, nil) },
		func(b *bytes.Buffer) error { return png.Encode(b, image.NewGray16(image.Rect(0, 0, 2, 2))) },
	}
	for _, enc := range encoders {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	// WebP: a lossless 1x1 image (RIFF, VP8L, 1x1, one green pixel).
	f.Add([]byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		img, err := DecodeImage(in, "fuzz", fuzzMaxPixels)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		b := img.Bounds()
		if b.Empty() {
			t.Fatalf("accepted an empty image %v", b)
		}
		_ = img.At(b.Min.X, b.Min.Y).(color.Color)
	})
}

// FuzzResolve feeds arbitrary kernel specifications (built-in names with
// sizes, inline matrices) to Resolve: never a panic, and every kernel it
// returns passes Validate.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"blur,sharpen", "box:5", "gaussian:7:1.5", "gaussian:5:-1", "0,-1,0;-1,5,-1;0,-1,0",
		"1/16,2/16;3,4", "1e-3", "edge8", "box:100000", "1,2;3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		if strings.HasPrefix(strings.TrimSpace(spec), "@") {
			return // file names: FuzzReadKernel covers the contents
		}
		ks, err := Resolve(spec)
		if err != nil {
			return
		}
		for _, k := range ks {
			if err := k.Validate(); err != nil {
				t.Fatalf("Resolve(%q) returned an invalid kernel: %v", spec, err)
			}
		}
	})
}

// FuzzReadKernel feeds arbitrary kernel file contents to ReadKernel.
func FuzzReadKernel(f *testing.F) {
	for _, s := range []string{"0 -1 0\n-1 5 -1\n0 -1 0\n", "1,2;3,4", "# comment\n1\n", "1/0", "nan", "1e39", "\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := ReadKernel(bytes.NewReader(in))
		if err != nil {
			return
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("ReadKernel accepted an invalid kernel: %v", err)
		}
	})
}
