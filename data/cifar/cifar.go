// Package cifar reads CIFAR-10 in its binary form ("CIFAR-10 binary
// version"): files of 3073-byte records, each one label byte (0…9)
// followed by a 32×32 RGB image stored as three planes (1024 red bytes,
// 1024 green, 1024 blue, each plane row-major). Images become HWC bytes
// in a data.Memory (value byte/255 when read).
//
// The package reads only CIFAR-10's layout: not CIFAR-100's two label
// bytes, not the Python pickles.
package cifar

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/data"
)

// Record layout.
const (
	Side       = 32
	Channels   = 3
	ImageBytes = Side * Side * Channels // 3072
	RecordSize = 1 + ImageBytes         // 3073
	Classes    = 10
)

// TrainFiles and TestFile are the names of the batches in the archive's
// cifar-10-batches-bin folder.
var (
	TrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	TestFile   = "test_batch.bin"
)

// ClassNames are CIFAR-10's classes by label (batches.meta.txt).
var ClassNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// Read decodes a stream of records, appending each image as HWC bytes to
// pixels and its label to labels. name is used in errors. The stream must
// hold a whole number of records with labels below 10; data is read as
// it arrives, so a forged size cannot force a large allocation.
func Read(r io.Reader, name string, pixels, labels []byte) ([]byte, []byte, error) {
	rec := make([]byte, RecordSize)
	br := bufio.NewReaderSize(r, 1<<16)
	for k := 0; ; k++ {
		n, err := io.ReadFull(br, rec)
		if err == io.EOF {
			return pixels, labels, nil
		}
		if err != nil {
			return pixels, labels, fmt.Errorf("cifar: %s: record %d is truncated: %d of %d bytes (a CIFAR-10 record is 1 label byte + 3072 image bytes)", name, k, n, RecordSize)
		}
		if rec[0] >= Classes {
			return pixels, labels, fmt.Errorf("cifar: %s: record %d has label %d, want 0…9", name, k, rec[0])
		}
		labels = append(labels, rec[0])
		plane := rec[1:]
		for i := range Side * Side {
			pixels = append(pixels, plane[i], plane[Side*Side+i], plane[2*Side*Side+i])
		}
	}
}

// Load reads the five training batches and the test batch from dir, or
// from dir/cifar-10-batches-bin when dir does not hold them itself. A
// missing file gives an error naming every file expected and wrapping
// fs.ErrNotExist.
func Load(dir string) (train, test *data.Memory, err error) {
	if _, err := os.Stat(filepath.Join(dir, TestFile)); err != nil {
		if sub := filepath.Join(dir, "cifar-10-batches-bin"); exists(filepath.Join(sub, TestFile)) {
			dir = sub
		}
	}
	var missing []string
	for _, n := range append(append([]string(nil), TrainFiles...), TestFile) {
		if !exists(filepath.Join(dir, n)) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("cifar: %s lacks %s (extract the CIFAR-10 binary version, cifar-10-binary.tar.gz, there): %w",
			dir, strings.Join(missing, ", "), fs.ErrNotExist)
	}
	shape := data.Shape{H: Side, W: Side, C: Channels}
	var px, lb []byte
	for _, n := range TrainFiles {
		if px, lb, err = readFile(filepath.Join(dir, n), px, lb); err != nil {
			return nil, nil, err
		}
	}
	if train, err = data.NewMemory(px, lb, shape, ClassNames); err != nil {
		return nil, nil, err
	}
	px, lb, err = readFile(filepath.Join(dir, TestFile), nil, nil)
	if err != nil {
		return nil, nil, err
	}
	if test, err = data.NewMemory(px, lb, shape, ClassNames); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

func readFile(path string, px, lb []byte) ([]byte, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return px, lb, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	return Read(f, path, px, lb)
}

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
