package imageio_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	"github.com/convnet-go/convnet/imageio"
)

// An upload is decoded under a pixel limit and turned into gray pixels;
// a header claiming more than the limit is refused before decoding.
func ExampleDecodeBytes() {
	img := image.NewGray(image.Rect(0, 0, 2, 1))
	img.Pix[1] = 255
	var b bytes.Buffer
	png.Encode(&b, img)

	got, h, err := imageio.DecodeBytes(b.Bytes(), "upload", 100)
	if err != nil {
		panic(err)
	}
	px := make([]float32, 2)
	imageio.Pixels(px, got, 1)
	fmt.Println(h.Format, h.Width, h.Height, px)

	_, _, err = imageio.DecodeBytes(b.Bytes(), "upload", 1)
	fmt.Println(err)
	// Output:
	// png 2 1 [0 1]
	// upload: png header claims 2x1 = 2 pixels, more than the limit of 1
}
