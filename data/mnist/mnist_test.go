package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxBytes builds an IDX file: magic, big-endian dims, body.
func idxBytes(magic uint32, dims []uint32, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(body)
	return b.Bytes()
}

func gzipBytes(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// synthetic returns pixel and label bodies for n examples: pixel p of
// image i is byte(i+p), label i is i mod 10.
func synthetic(n int) (pixels, labels []byte) {
	pixels = make([]byte, n*Pixels)
	for i := range pixels {
		pixels[i] = byte(i/Pixels + i%Pixels)
	}
	labels = make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % 10)
	}
	return pixels, labels
}

// files holds the four file contents by base name (without .gz).
type files map[string][]byte

func validFiles(nTrain, nTest int) files {
	trp, trl := synthetic(nTrain)
	tep, tel := synthetic(nTest)
	return files{
		TrainImagesFile: idxBytes(imagesMagic, []uint32{uint32(nTrain), 28, 28}, trp),
		TrainLabelsFile: idxBytes(labelsMagic, []uint32{uint32(nTrain)}, trl),
		TestImagesFile:  idxBytes(imagesMagic, []uint32{uint32(nTest), 28, 28}, tep),
		TestLabelsFile:  idxBytes(labelsMagic, []uint32{uint32(nTest)}, tel),
	}
}

func writeFiles(t *testing.T, dir string, fl files, gz bool) {
	t.Helper()
	for name, data := range fl {
		if gz {
			name, data = name+".gz", gzipBytes(t, data)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	for _, gz := range []bool{true, false} {
		name := map[bool]string{true: "gzip", false: "raw"}[gz]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, validFiles(7, 3), gz)
			train, test, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				s *Set
				n int
			}{{train, 7}, {test, 3}} {
				if c.s.N != c.n || len(c.s.Images) != c.n*Pixels || len(c.s.Labels) != c.n {
					t.Fatalf("N=%d, %d images values, %d labels; want N=%d", c.s.N, len(c.s.Images), len(c.s.Labels), c.n)
				}
				for i := range c.s.Images {
					want := float32(byte(i/Pixels+i%Pixels)) / 255
					if c.s.Images[i] != want {
						t.Fatalf("pixel %d = %v, want %v", i, c.s.Images[i], want)
					}
				}
				for i, l := range c.s.Labels {
					if int(l) != i%10 {
						t.Fatalf("label %d = %d, want %d", i, l, i%10)
					}
				}
			}
		})
	}
}

// TestLoadGzipByContent checks that gzip is recognised by its magic, not
// by the file name: a raw file named .gz and a gzip file without .gz.
func TestLoadGzipByContent(t *testing.T) {
	dir := t.TempDir()
	for name, data := range validFiles(2, 2) {
		if name == TrainImagesFile {
			name += ".gz" // raw bytes under a .gz name
		} else {
			data = gzipBytes(t, data) // gzip under the raw name
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	pix, lab := synthetic(4)
	badLabels := append([]byte(nil), lab...)
	badLabels[2] = 10
	cases := []struct {
		name    string
		file    string // which file to replace
		data    []byte // its raw contents (gzip-compressed unless rawFile)
		rawFile []byte // written as is, under name+".gz"
		want    string
	}{
		{"image magic", TrainImagesFile, idxBytes(labelsMagic, []uint32{4, 28, 28}, pix), nil,
			"train-images-idx3-ubyte.gz: magic 0x00000801, want 0x00000803"},
		{"label magic", TestLabelsFile, idxBytes(0x00000803, []uint32{4}, lab), nil,
			"t10k-labels-idx1-ubyte.gz: magic 0x00000803, want 0x00000801"},
		{"image size", TrainImagesFile, idxBytes(imagesMagic, []uint32{4, 28, 27}, pix[:4*28*27]), nil,
			"train-images-idx3-ubyte.gz: images are 28×27, want 28×28"},
		{"truncated header", TrainLabelsFile, []byte{0, 0, 8, 1, 0, 0}, nil,
			"train-labels-idx1-ubyte.gz: truncated IDX header: got 6 bytes, want 8"},
		{"truncated pixels", TrainImagesFile, idxBytes(imagesMagic, []uint32{4, 28, 28}, pix[:len(pix)-5]), nil,
			"train-images-idx3-ubyte.gz: truncated: header promises 3136 bytes of pixels, file has 3131"},
		{"truncated labels", TestLabelsFile, idxBytes(labelsMagic, []uint32{5}, lab), nil,
			"t10k-labels-idx1-ubyte.gz: truncated: header promises 5 bytes of labels, file has 4"},
		{"trailing data", TestImagesFile, idxBytes(imagesMagic, []uint32{4, 28, 28}, append(append([]byte(nil), pix...), 0)), nil,
			"t10k-images-idx3-ubyte.gz: extra data after the 3136 bytes of pixels"},
		{"label value", TrainLabelsFile, idxBytes(labelsMagic, []uint32{4}, badLabels), nil,
			"train-labels-idx1-ubyte.gz: label 2 is 10, want 0…9"},
		{"count mismatch", TrainLabelsFile, idxBytes(labelsMagic, []uint32{3}, lab[:3]), nil,
			"train-images-idx3-ubyte.gz holds 4 images but train-labels-idx1-ubyte.gz holds 3 labels"},
		{"huge count", TrainImagesFile, idxBytes(imagesMagic, []uint32{0xffffffff, 28, 28}, pix), nil,
			"train-images-idx3-ubyte.gz: header claims 4294967295 images, more than the 100000 this reader accepts"},
		{"bomb images", TestImagesFile, idxBytes(imagesMagic, []uint32{1_000_000, 28, 28}, pix), nil,
			"t10k-images-idx3-ubyte.gz: header claims 1000000 images, more than the 100000"},
		{"bomb labels", TestLabelsFile, idxBytes(labelsMagic, []uint32{1_000_000}, lab), nil,
			"t10k-labels-idx1-ubyte.gz: header claims 1000000 labels, more than the 100000"},
		{"image count above labels", TestImagesFile, idxBytes(imagesMagic, []uint32{50_000, 28, 28}, pix), nil,
			"t10k-images-idx3-ubyte.gz holds 50000 images but t10k-labels-idx1-ubyte.gz holds 4 labels"},
		{"gzip crc", TrainImagesFile, nil, corruptGzipCRC(t, idxBytes(imagesMagic, []uint32{4, 28, 28}, pix)),
			"train-images-idx3-ubyte.gz: reading pixels: gzip: invalid checksum"},
		{"gzip header", TestImagesFile, nil, []byte{0x1f, 0x8b, 0, 0},
			"t10k-images-idx3-ubyte.gz: bad gzip header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, validFiles(4, 4), true)
			data := c.rawFile
			if data == nil {
				data = gzipBytes(t, c.data)
			}
			if err := os.WriteFile(filepath.Join(dir, c.file+".gz"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load error = %v, want one containing %q", err, c.want)
			}
			if !errors.Is(err, ErrBadData) {
				t.Fatalf("Load error %v does not wrap ErrBadData", err)
			}
		})
	}
}

// TestDirectoryInPlaceOfFile checks that a directory named like an MNIST
// file is reported as such by Load and Ensure, not taken as missing
// (which started a fetch that ended in a failed rename).
func TestDirectoryInPlaceOfFile(t *testing.T) {
	dir := t.TempDir()
	fl := validFiles(2, 2)
	delete(fl, TrainLabelsFile)
	writeFiles(t, dir, fl, true)
	if err := os.Mkdir(filepath.Join(dir, TrainLabelsFile+".gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := "train-labels-idx1-ubyte.gz is a directory, want an IDX file"
	for name, call := range map[string]func() error{
		"Load":   func() error { _, _, err := Load(dir); return err },
		"Ensure": func() error { return Ensure(dir, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrBadData) {
				t.Fatalf("error = %v, want ErrBadData containing %q", err, want)
			}
		})
	}
}

// corruptGzipCRC gzips raw and flips a bit of the CRC-32 in the trailer.
func corruptGzipCRC(t *testing.T, raw []byte) []byte {
	z := gzipBytes(t, raw)
	z[len(z)-8] ^= 1
	return z
}

func TestLoadMissing(t *testing.T) {
	dir := t.TempDir()
	fl := validFiles(2, 2)
	delete(fl, TestLabelsFile)
	writeFiles(t, dir, fl, false)
	_, _, err := Load(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load error = %v, want one wrapping fs.ErrNotExist", err)
	}
	for _, want := range []string{dir, "t10k-labels-idx1-ubyte.gz", "CONVNET_DATA"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("CONVNET_DATA", "/some/where")
	if got := DefaultDir(); got != "/some/where" {
		t.Errorf("DefaultDir with CONVNET_DATA = %q, want /some/where", got)
	}
	t.Setenv("CONVNET_DATA", "")
	t.Setenv("XDG_CACHE_HOME", "/cache")
	if got, want := DefaultDir(), filepath.Join("/cache", "convnet", "mnist"); got != want {
		t.Errorf("DefaultDir = %q, want %q", got, want)
	}
}

// testSet returns an in-memory Set whose example i has every pixel equal
// to i and label i mod 10, so batches reveal which examples they hold.
func testSet(n int) *Set {
	s := &Set{Images: make([]float32, n*Pixels), Labels: make([]uint8, n), N: n}
	for i := range n {
		for p := range Pixels {
			s.Images[i*Pixels+p] = float32(i)
		}
		s.Labels[i] = uint8(i % 10)
	}
	return s
}

func ids(s *Set) []int {
	out := make([]int, s.N)
	for i := range out {
		out[i] = int(s.Images[i*Pixels])
		if s.Labels[i] != uint8(out[i]%10) || s.Images[i*Pixels+Pixels-1] != float32(out[i]) {
			panic("image and label out of step")
		}
	}
	return out
}

func TestSplit(t *testing.T) {
	s := testSet(100)
	a, b := s.Split(70, 42)
	if a.N != 70 || b.N != 30 {
		t.Fatalf("sizes %d, %d; want 70, 30", a.N, b.N)
	}
	seen := make([]int, 100)
	for _, i := range append(ids(a), ids(b)...) {
		seen[i]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("example %d appears %d times in the split, want 1", i, c)
		}
	}
	a2, _ := s.Split(70, 42)
	if !slices.Equal(ids(a), ids(a2)) {
		t.Error("same seed gave different splits")
	}
	a3, _ := s.Split(70, 43)
	if slices.Equal(ids(a), ids(a3)) {
		t.Error("seeds 42 and 43 gave the same split")
	}
	if x, y := s.Split(-5, 1); x.N != 0 || y.N != 100 {
		t.Errorf("Split(-5) sizes %d, %d; want 0, 100", x.N, y.N)
	}
	if x, y := s.Split(500, 1); x.N != 100 || y.N != 0 {
		t.Errorf("Split(500) sizes %d, %d; want 100, 0", x.N, y.N)
	}
}

func TestSubset(t *testing.T) {
	s := testSet(10)
	for _, c := range []struct{ n, want int }{{4, 4}, {0, 0}, {-1, 0}, {11, 10}} {
		sub := s.Subset(c.n)
		if sub.N != c.want || len(sub.Images) != c.want*Pixels || len(sub.Labels) != c.want {
			t.Errorf("Subset(%d): N=%d, want %d", c.n, sub.N, c.want)
		}
		for i, id := range ids(sub) {
			if id != i {
				t.Errorf("Subset(%d) example %d is %d", c.n, i, id)
			}
		}
	}
}
