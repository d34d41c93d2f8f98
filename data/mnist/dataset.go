package mnist

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/data"
)

// DigitClasses are MNIST's class names, "0" … "9".
var DigitClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// FashionClasses are Fashion-MNIST's class names by label.
var FashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Len returns N (0 for a nil Set), so a *Set is a data.Dataset.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.N
}

// Shape returns 28×28×1.
func (s *Set) Shape() data.Shape { return data.Shape{H: Rows, W: Cols, C: 1} }

// Classes returns DigitClasses.
func (s *Set) Classes() []string { return DigitClasses }

// Example copies image i into dst (784 values) and returns its digit.
func (s *Set) Example(i int, dst []float32) (int, error) {
	if i < 0 || i >= s.N {
		return 0, fmt.Errorf("mnist: example %d of %d", i, s.N)
	}
	copy(dst[:Pixels], s.Images[i*Pixels:(i+1)*Pixels])
	return int(s.Labels[i]), nil
}

// FashionPackageDir is where Debian's dataset-fashion-mnist package puts
// the four Fashion-MNIST IDX files (`dpkg -L dataset-fashion-mnist`).
const FashionPackageDir = "/usr/share/datasets/fashion-mnist"

// FindFashion returns the directory holding the four Fashion-MNIST files:
// FashionPackageDir when they are there, else dataDir/fashion-mnist,
// else dataDir itself. When none holds all four, the error says what to
// install or where to put the files, and wraps fs.ErrNotExist.
func FindFashion(dataDir string) (string, error) {
	cands := []string{FashionPackageDir, filepath.Join(dataDir, "fashion-mnist"), dataDir}
	for _, d := range cands {
		if _, missing, err := locate(d); err == nil && len(missing) == 0 {
			return d, nil
		}
	}
	return "", fmt.Errorf("fashion-mnist: the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "+
		"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) are in none of %s, %s, %s: install them with "+
		"`apt-get install dataset-fashion-mnist` (Debian), or put them into %s: %w",
		cands[0], cands[1], cands[2], cands[1], fs.ErrNotExist)
}

// LoadIDX reads a directory of IDX files named as MNIST's (gzip or raw):
// images of any size, ubyte, either N×H×W (gray) or N×H×W×C, with ubyte
// labels. The class count is the largest label + 1 (names "0", "1", …).
// Used for MNIST-like sets other than MNIST itself; the pixels stay bytes.
func LoadIDX(dir string) (train, test *data.Memory, err error) {
	paths, missing, err := locate(dir)
	if err != nil {
		return nil, nil, err
	}
	if len(missing) > 0 {
		return nil, nil, missingError(dir, missing)
	}
	var sets [2]struct {
		px     []byte
		labels []byte
		shape  data.Shape
	}
	maxLabel := 0
	for k := range sets {
		s := &sets[k]
		if s.px, s.shape, err = readAnyImages(paths[2*k]); err != nil {
			return nil, nil, fmt.Errorf("idx: %w", err)
		}
		if s.labels, err = readAnyLabels(paths[2*k+1]); err != nil {
			return nil, nil, fmt.Errorf("idx: %w", err)
		}
		if len(s.px) != len(s.labels)*s.shape.Size() {
			return nil, nil, fmt.Errorf("idx: %s holds %d images but %s holds %d labels",
				filepath.Base(paths[2*k]), len(s.px)/max(s.shape.Size(), 1), filepath.Base(paths[2*k+1]), len(s.labels))
		}
		for _, l := range s.labels {
			maxLabel = max(maxLabel, int(l))
		}
	}
	if sets[0].shape != sets[1].shape {
		return nil, nil, fmt.Errorf("idx: training images are %v but test images are %v", sets[0].shape, sets[1].shape)
	}
	names := make([]string, maxLabel+1)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	if train, err = data.NewMemory(sets[0].px, sets[0].labels, sets[0].shape, names); err != nil {
		return nil, nil, err
	}
	if test, err = data.NewMemory(sets[1].px, sets[1].labels, sets[1].shape, names); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// IsIDXDir reports whether dir holds the training image file of an IDX
// set (gzip or raw).
func IsIDXDir(dir string) bool {
	for _, n := range []string{TrainImagesFile + ".gz", TrainImagesFile} {
		if st, err := os.Stat(filepath.Join(dir, n)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}
