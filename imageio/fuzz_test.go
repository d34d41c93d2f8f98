package imageio

import (
	"image"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/imagetest"
)

// fuzzMaxPixels keeps FuzzDecode's decodes small.
const fuzzMaxPixels = 1 << 16

// FuzzDecode feeds arbitrary bytes to DecodeBytes, the reader behind every
// image input (convnet predict and filter, the server's uploads, class
// folders): it must never panic; an error names the input; an image it
// returns has pixels, no more than the limit and its header allow, and
// Pixels turns it into values in [0, 1].
func FuzzDecode(f *testing.F) {
	img := testImage()
	for _, format := range []string{"png", "jpeg", "gif", "bmp", "tiff"} {
		data := imagetest.Encode(f, format, img)
		f.Add(data)
		f.Add(data[:len(data)/2]) // truncated pixel data
	}
	f.Add(imagetest.Encode(f, "png", image.NewGray16(image.Rect(0, 0, 2, 2))))
	f.Add(webp1x1)
	f.Add(imagetest.PNGHeader(100000, 100000)) // a header claiming 10¹⁰ pixels
	f.Add(imagetest.PNGHeader(4, 4))           // a header and no pixels
	f.Add([]byte("GIF89a\xff\xff\xff\xff"))    // a GIF screen of 65535x65535, cut short
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("\xff\xd8\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		img, h, err := DecodeBytes(in, "fuzz", fuzzMaxPixels)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		b := img.Bounds()
		n := int64(b.Dx()) * int64(b.Dy())
		if b.Empty() || n > fuzzMaxPixels || n > int64(h.Width)*int64(h.Height) {
			t.Fatalf("accepted a %v image, header %+v, limit %d", b, h, fuzzMaxPixels)
		}
		for _, c := range []int{1, 3} {
			px := make([]float32, int(n)*c)
			Pixels(px, img, c)
			for i, v := range px {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%d channels: value %d is %v, outside [0, 1]", c, i, v)
				}
			}
		}
	})
}
