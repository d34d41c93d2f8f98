package folder

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/imagetest"
)

func grayImg(w, h int, v uint8) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = v
	}
	return g
}

func rgbImg(w, h int, c color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

// tree writes a small mixed folder: classes "b_dog" and "a_cat" (so the
// sorted order differs from creation order), sizes and modes mixed.
func tree(t *testing.T) string {
	dir := t.TempDir()
	imagetest.Write(t, dir, "b_dog/1.png", grayImg(4, 4, 255))
	imagetest.Write(t, dir, "b_dog/2.bmp", rgbImg(8, 2, color.NRGBA{255, 0, 0, 255}))
	imagetest.Write(t, dir, "a_cat/x.png", rgbImg(4, 4, color.NRGBA{0, 0, 255, 255}))
	imagetest.Write(t, dir, "a_cat/y.gif", grayImg(3, 5, 0))
	imagetest.Write(t, dir, "a_cat/z.tif", rgbImg(4, 4, color.NRGBA{0, 255, 0, 255}))
	imagetest.Write(t, dir, "a_cat/w.jpg", rgbImg(6, 6, color.NRGBA{128, 128, 128, 255}))
	os.WriteFile(filepath.Join(dir, "a_cat", ".DS_Store"), []byte("junk"), 0o644)
	return dir
}

func TestOpenMixedFolder(t *testing.T) {
	dir := tree(t)
	ds, err := Open(dir, Options{H: 4, W: 4, Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes(), ","); got != "a_cat,b_dog" {
		t.Fatalf("classes %s, want a_cat,b_dog", got)
	}
	if ds.Len() != 6 {
		t.Fatalf("%d examples, want 6 (dotfiles ignored)", ds.Len())
	}
	want := []struct {
		file    string
		label   int
		r, g, b float32
	}{
		{"a_cat/w.jpg", 0, 128. / 255, 128. / 255, 128. / 255},
		{"a_cat/x.png", 0, 0, 0, 1},
		{"a_cat/y.gif", 0, 0, 0, 0},
		{"a_cat/z.tif", 0, 0, 1, 0},
		{"b_dog/1.png", 1, 1, 1, 1},
		{"b_dog/2.bmp", 1, 1, 0, 0},
	}
	buf := make([]float32, 4*4*3)
	for i, w := range want {
		if ds.File(i) != filepath.Join(dir, w.file) {
			t.Fatalf("file %d is %s, want %s", i, ds.File(i), w.file)
		}
		l, err := ds.Example(i, buf)
		if err != nil {
			t.Fatal(err)
		}
		tol := float32(1e-6)
		if strings.HasSuffix(w.file, ".jpg") {
			tol = 3. / 255
		}
		for p := range 16 {
			for c, v := range []float32{w.r, w.g, w.b} {
				if d := buf[p*3+c] - v; !(d <= tol && d >= -tol) { // fails on NaN too
					t.Fatalf("%s pixel %d channel %d = %v, want %v", w.file, p, c, buf[p*3+c], v)
				}
			}
		}
		if l != w.label {
			t.Fatalf("%s label %d, want %d", w.file, l, w.label)
		}
	}
	// Gray output uses TF's rgb_to_grayscale weights.
	g, err := Open(dir, Options{H: 2, W: 2, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	gb := make([]float32, 4)
	g.Example(5, gb) // red
	if d := gb[0] - 0.2989; d > 1e-6 || d < -1e-6 {
		t.Fatalf("red as gray = %v, want 0.2989", gb[0])
	}
	// Defaults come from the first image: w.jpg is 6×6 colour.
	d, err := Open(dir, Options{})
	if err != nil || d.Shape() != (data.Shape{H: 6, W: 6, C: 3}) {
		t.Fatalf("default shape %v, %v; want 6x6x3", d.Shape(), err)
	}
}

func TestOpenErrors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"empty class", func(t *testing.T, dir string) {
			imagetest.Write(t, dir, "a/1.png", grayImg(2, 2, 0))
			os.Mkdir(filepath.Join(dir, "b"), 0o755)
		}, "class folder " + "DIR/b holds no image files"},
		{"one class", func(t *testing.T, dir string) { imagetest.Write(t, dir, "a/1.png", grayImg(2, 2, 0)) }, "1 class folders"},
		{"file at top", func(t *testing.T, dir string) {
			imagetest.Write(t, dir, "a/1.png", grayImg(2, 2, 0))
			imagetest.Write(t, dir, "b/1.png", grayImg(2, 2, 0))
			os.WriteFile(filepath.Join(dir, "labels.txt"), nil, 0o644)
		}, "DIR/labels.txt is a file"},
		{"first is not an image", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "a"), 0o755)
			os.WriteFile(filepath.Join(dir, "a", "notes.txt"), []byte("hello"), 0o644)
			imagetest.Write(t, dir, "b/1.png", grayImg(2, 2, 0))
		}, "DIR/a/notes.txt is not an image of a known format (want PNG, JPEG, GIF, BMP, TIFF or WebP)"},
		{"first is over the pixel limit", func(t *testing.T, dir string) {
			imagetest.Write(t, dir, "a/1.png", grayImg(300, 200, 1))
			imagetest.Write(t, dir, "b/1.png", grayImg(2, 2, 0))
		}, "DIR/a/1.png: png header claims 300x200 = 60000 pixels, more than the limit of 1000"},
		{"first is a GIF whose frame does not cover its screen", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "a"), 0o755)
			os.WriteFile(filepath.Join(dir, "a", "1.gif"), smallFrameGIF(t), 0o644)
			imagetest.Write(t, dir, "b/1.png", grayImg(2, 2, 0))
		}, "DIR/a/1.gif: gif header says 4x4, image is 2x2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.setup(t, dir)
			_, err := Open(dir, Options{MaxPixels: 1000})
			if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(c.want, "DIR", dir)) {
				t.Fatalf("err = %v, want %q", err, strings.ReplaceAll(c.want, "DIR", dir))
			}
		})
	}
	if _, err := Open(t.TempDir(), Options{H: 3}); err == nil {
		t.Fatal("H without W accepted")
	}
	if _, err := Open(t.TempDir(), Options{Channels: 2}); err == nil {
		t.Fatal("2 channels accepted")
	}
}

func TestBadImageInBatches(t *testing.T) {
	dir := tree(t)
	os.WriteFile(filepath.Join(dir, "b_dog", "3.png"), []byte("\x89PNG\r\n\x1a\ntruncated"), 0o644)
	ds, err := Open(dir, Options{H: 4, W: 4, Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	b := data.NewBatches(ds, data.BatchOptions{BatchSize: 4}, 0)
	for {
		if _, _, ok := b.Next(); !ok {
			break
		}
	}
	b.Close()
	if b.Err() == nil || !strings.Contains(b.Err().Error(), filepath.Join(dir, "b_dog", "3.png")) {
		t.Fatalf("err = %v, want it to name b_dog/3.png", b.Err())
	}
	b = data.NewBatches(ds, data.BatchOptions{BatchSize: 4, SkipBad: true}, 0)
	n := 0
	for {
		_, l, ok := b.Next()
		if !ok {
			break
		}
		n += len(l)
	}
	b.Close()
	if b.Err() != nil || n != 6 || b.Skipped() != 1 {
		t.Fatalf("with SkipBad: %d examples, %d skipped, err %v; want 6, 1, nil", n, b.Skipped(), b.Err())
	}
}

// smallFrameGIF is a GIF with a 4x4 screen whose only frame is 2x2.
func smallFrameGIF(t *testing.T) []byte {
	frame := image.NewPaletted(image.Rect(1, 1, 3, 3), color.Palette{color.Black, color.White})
	var b bytes.Buffer
	err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{ColorModel: frame.Palette, Width: 4, Height: 4}})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
