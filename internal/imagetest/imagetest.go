// Package imagetest builds image files for the tests of the image
// readers (imageio, data/folder, convnet predict and filter): encoded
// pictures and forged PNG headers.
package imagetest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// Encode returns img encoded as format: "png", "jpeg" (or "jpg", at
// quality 100), "gif", "bmp" or "tiff" (or "tif"); a leading dot is
// allowed, so a file's extension will do. Another format fails tb.
func Encode(tb testing.TB, format string, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	var err error
	switch strings.TrimPrefix(format, ".") {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg", "jpg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	case "tiff", "tif":
		err = tiff.Encode(&b, img, nil)
	default:
		tb.Fatalf("imagetest: no encoder for %q", format)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// Write encodes img into dir/rel in the format rel's extension names,
// creating the folders on the way, and returns the file's path.
func Write(tb testing.TB, dir, rel string, img image.Image) string {
	tb.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, Encode(tb, filepath.Ext(rel), img), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// PNGHeader is a PNG signature and IHDR chunk claiming w×h 8-bit RGBA
// pixels, with no pixel data behind it: a header a reader must refuse
// before allocating w·h·4 bytes.
func PNGHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // bit depth 8, colour type RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}
