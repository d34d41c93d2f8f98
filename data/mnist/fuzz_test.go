package mnist

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// writeFuzzFile writes in to name in dir, for the path-based readers.
func writeFuzzFile(t *testing.T, dir, name string, in []byte) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, in, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(raw []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(raw)
	zw.Close()
	return b.Bytes()
}

// FuzzReadLabels feeds arbitrary bytes, raw or gzip, to the IDX label
// reader: an error or labels in 0…9 matching the header count, never a
// panic or an allocation beyond what the bytes justify.
func FuzzReadLabels(f *testing.F) {
	_, lab := synthetic(5)
	good := idxBytes(labelsMagic, []uint32{5}, lab)
	f.Add(good)
	f.Add(gz(good))
	f.Add(idxBytes(labelsMagic, []uint32{1_000_000}, lab))
	f.Add(gz(idxBytes(labelsMagic, []uint32{0xffffffff}, nil)))
	f.Add([]byte{0x1f, 0x8b})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		labels, err := readLabels(writeFuzzFile(t, dir, "labels", in))
		if err != nil {
			return
		}
		if len(labels) > MaxExamples {
			t.Fatalf("%d labels, more than MaxExamples", len(labels))
		}
		for i, l := range labels {
			if l > 9 {
				t.Fatalf("label %d is %d", i, l)
			}
		}
	})
}

// FuzzReadImages is FuzzReadLabels for the image reader, with the label
// count it must match taken from the input's first byte.
func FuzzReadImages(f *testing.F) {
	pix, _ := synthetic(2)
	good := idxBytes(imagesMagic, []uint32{2, 28, 28}, pix)
	f.Add(byte(2), good)
	f.Add(byte(2), gz(good))
	f.Add(byte(2), gz(idxBytes(imagesMagic, []uint32{1_000_000, 28, 28}, pix)))
	f.Add(byte(0), idxBytes(imagesMagic, []uint32{0, 28, 28}, nil))
	f.Add(byte(1), idxBytes(imagesMagic, []uint32{1, 28, 27}, pix[:28*27]))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, want byte, in []byte) {
		px, err := readImages(writeFuzzFile(t, dir, "images", in), "labels", int(want))
		if err != nil {
			return
		}
		if len(px) != int(want)*Pixels {
			t.Fatalf("%d pixel values for %d images", len(px), want)
		}
		for i, v := range px {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("pixel %d = %v, outside [0, 1]", i, v)
			}
		}
	})
}
