package mnist

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
)

func TestSetIsDataset(t *testing.T) {
	s := testSet(3)
	var ds data.Dataset = s
	buf := make([]float32, Pixels)
	l, err := ds.Example(2, buf)
	if err != nil || l != int(s.Labels[2]) || buf[5] != s.Images[2*Pixels+5] {
		t.Fatalf("Example(2) = %d, %v; want the set's example 2", l, err)
	}
	if ds.Shape() != (data.Shape{H: 28, W: 28, C: 1}) || len(ds.Classes()) != 10 || ds.Len() != 3 {
		t.Fatalf("shape %v, %d classes, %d examples", ds.Shape(), len(ds.Classes()), ds.Len())
	}
	var nilSet *Set
	if data.Len(nilSet) != 0 {
		t.Fatal("a nil *Set has examples")
	}
}

// rgbIDX returns a rank-4 IDX image file of n 2×3×3 images (value
// (i+p) mod 256) and labels i mod 4.
func rgbIDX(n int) (images, labels []byte) {
	px := make([]byte, n*18)
	for i := range px {
		px[i] = byte(i/18 + i%18)
	}
	lb := make([]byte, n)
	for i := range lb {
		lb[i] = byte(i % 4)
	}
	return idxBytes(0x00000804, []uint32{uint32(n), 2, 3, 3}, px), idxBytes(labelsMagic, []uint32{uint32(n)}, lb)
}

func TestLoadIDX(t *testing.T) {
	dir := t.TempDir()
	ti, tl := rgbIDX(5)
	vi, vl := rgbIDX(2)
	writeFiles(t, dir, files{TrainImagesFile: ti, TrainLabelsFile: tl, TestImagesFile: vi, TestLabelsFile: vl}, true)
	if !IsIDXDir(dir) {
		t.Fatal("IsIDXDir is false for an IDX directory")
	}
	train, test, err := LoadIDX(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 5 || test.Len() != 2 || train.Shape() != (data.Shape{H: 2, W: 3, C: 3}) || len(train.Classes()) != 4 {
		t.Fatalf("got %d/%d examples of %v, %d classes; want 5/2 of 2x3x3, 4 classes", train.Len(), test.Len(), train.Shape(), len(train.Classes()))
	}
	buf := make([]float32, 18)
	l, _ := train.Example(3, buf)
	if l != 3 || buf[1] != float32(4)/255 {
		t.Fatalf("example 3 = label %d, value[1] %v; want 3, 4/255", l, buf[1])
	}
	// The 28×28 MNIST files load as gray 28×28.
	dir2 := t.TempDir()
	writeFiles(t, dir2, validFiles(4, 2), false)
	tr, _, err := LoadIDX(dir2)
	if err != nil || tr.Shape() != (data.Shape{H: 28, W: 28, C: 1}) {
		t.Fatalf("MNIST-shaped files: %v, %v", tr, err)
	}
}

func TestLoadIDXErrors(t *testing.T) {
	ti, tl := rgbIDX(5)
	vi, vl := rgbIDX(2)
	cases := []struct {
		name string
		edit func(f files)
		want string
	}{
		{"truncated images", func(f files) { f[TrainImagesFile] = ti[:len(ti)-7] }, "truncated"},
		{"truncated header", func(f files) { f[TestImagesFile] = vi[:10] }, "truncated IDX header"},
		{"float images", func(f files) { f[TrainImagesFile] = append([]byte{0, 0, 0x0d, 3}, ti[4:]...) }, "magic"},
		{"count mismatch", func(f files) { f[TestLabelsFile] = idxBytes(labelsMagic, []uint32{3}, []byte{0, 1, 2}) }, "holds 2 images but"},
		{"huge shape", func(f files) {
			f[TrainImagesFile] = idxBytes(0x00000804, []uint32{1, 65536, 65536, 3}, nil)
		}, "at most"},
		{"shape differs", func(f files) { f[TestImagesFile] = idxBytes(imagesMagic, []uint32{2, 2, 9}, make([]byte, 36)) }, "test images are 2x9x1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := files{TrainImagesFile: ti, TrainLabelsFile: tl, TestImagesFile: vi, TestLabelsFile: vl}
			c.edit(f)
			dir := t.TempDir()
			writeFiles(t, dir, f, false)
			_, _, err := LoadIDX(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	_, _, err := LoadIDX(t.TempDir())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty directory: %v, want fs.ErrNotExist", err)
	}
}

func TestFindFashion(t *testing.T) {
	empty := t.TempDir()
	if _, err := os.Stat(FashionPackageDir); err != nil {
		_, err := FindFashion(empty)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") ||
			!strings.Contains(err.Error(), filepath.Join(empty, "fashion-mnist")) {
			t.Fatalf("err = %v, want the package to install and the folder to use", err)
		}
	} else if d, err := FindFashion(empty); err != nil || d != FashionPackageDir {
		t.Fatalf("FindFashion = %q, %v; want %s (installed)", d, err, FashionPackageDir)
	}
	// Files in <data>/fashion-mnist are found when the package is not
	// there (checked directly through locate).
	dir := t.TempDir()
	sub := filepath.Join(dir, "fashion-mnist")
	os.Mkdir(sub, 0o755)
	writeFiles(t, sub, validFiles(2, 1), true)
	if _, missing, err := locate(sub); err != nil || len(missing) != 0 {
		t.Fatalf("files written to %s not found: %v", sub, missing)
	}
}

func FuzzLoadIDX(f *testing.F) {
	ti, _ := rgbIDX(2)
	f.Add(ti)
	f.Add(idxBytes(imagesMagic, []uint32{1, 2, 2}, []byte{1, 2, 3, 4}))
	f.Add([]byte{0, 0, 8, 4, 0, 0})
	f.Fuzz(func(t *testing.T, images []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, TrainImagesFile)
		if err := os.WriteFile(p, images, 0o644); err != nil {
			t.Fatal(err)
		}
		px, sh, err := readAnyImages(p)
		if err == nil && len(px)%sh.Size() != 0 {
			t.Fatalf("%d bytes for images of %v", len(px), sh)
		}
	})
}

// TestRealFashionMNIST reads the files of Debian's dataset-fashion-mnist
// package (CI installs it; elsewhere the test skips without it).
func TestRealFashionMNIST(t *testing.T) {
	if _, err := os.Stat(FashionPackageDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must install dataset-fashion-mnist: %v", err)
		}
		t.Skipf("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	if testing.Short() {
		t.Skip("reads 30 MB of gzip; skipped with -short")
	}
	dir, err := FindFashion(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := LoadIDX(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 || train.Shape() != (data.Shape{H: 28, W: 28, C: 1}) || len(train.Classes()) != 10 {
		t.Fatalf("train %d, test %d, shape %v, %d classes; want 60000, 10000, 28x28x1, 10", train.Len(), test.Len(), train.Shape(), len(train.Classes()))
	}
	// Fashion-MNIST is balanced: 6,000 training images per class.
	var counts [10]int
	for _, l := range train.Labels {
		counts[l]++
	}
	for c, n := range counts {
		if n != 6000 {
			t.Fatalf("class %d (%s) has %d training images, want 6000", c, FashionClasses[c], n)
		}
	}
}
