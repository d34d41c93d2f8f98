package imagefilter

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadWrappers: ReadImage, CheckImage and DecodeImage keep their
// signatures over imageio, with its checks and messages.
func TestReadWrappers(t *testing.T) {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 3)))
	path := filepath.Join(t.TempDir(), "in.png")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, format, err := CheckImage(path, 12)
	if err != nil || format != "png" || cfg.Width != 4 || cfg.Height != 3 || cfg.ColorModel != color.GrayModel {
		t.Errorf("CheckImage = %+v, %q, %v; want a 4x3 gray png", cfg, format, err)
	}
	if img, err := ReadImage(path, 12); err != nil || img.Bounds() != image.Rect(0, 0, 4, 3) {
		t.Errorf("ReadImage = %v, %v; want the 4x3 image", img, err)
	}
	want := "in.png: png header claims 4x3 = 12 pixels, more than the limit of 11"
	if _, err := ReadImage(path, 11); err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("ReadImage over the limit: %v, want %q", err, want)
	}
	if _, err := DecodeImage(b.Bytes()[:40], "upload", 12); err == nil || !strings.HasPrefix(err.Error(), "upload: decoding the 4x3 png image") {
		t.Errorf("DecodeImage of a truncated PNG: %v, want it to name upload and the 4x3 png", err)
	}
}
