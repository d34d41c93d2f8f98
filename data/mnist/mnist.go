// Package mnist reads the MNIST handwritten-digit data set from its four
// IDX files, fetches them into a local cache when they are missing and
// splits off a validation set; a *Set is a data.Dataset, so
// data.NewBatches serves its shuffled mini-batches. LoadIDX reads any
// directory of IDX files named the same way (Fashion-MNIST, FindFashion,
// or other sizes and channel counts).
//
// The IDX files may be gzip-compressed (detected by the 1f 8b magic, not
// by the name) or raw. Every structural fact is checked: magic numbers,
// 28×28 images, counts, truncated or trailing data, labels in 0…9, and
// that each image file has as many entries as its label file.
//
// The package decodes only unsigned-byte IDX files (images of rank 3 or
// 4, labels of rank 1); augmentation and normalisation are package
// data's.
package mnist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/tensor"
)

// The four IDX files, by their customary names. Load accepts each with a
// ".gz" suffix (preferred when both exist) or without it.
const (
	TrainImagesFile = "train-images-idx3-ubyte"
	TrainLabelsFile = "train-labels-idx1-ubyte"
	TestImagesFile  = "t10k-images-idx3-ubyte"
	TestLabelsFile  = "t10k-labels-idx1-ubyte"
)

var fileNames = []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile}

// Set is a list of N labelled images. Image i occupies
// Images[i·784 : (i+1)·784], row-major 28×28, each pixel byte/255 in [0,1];
// its digit is Labels[i] in 0…9.
type Set struct {
	Images []float32 // N×28×28 values in [0,1]
	Labels []uint8   // N digits 0…9
	N      int       // number of examples
}

// Load reads the training set (60,000 examples in the real data) and the
// test set (10,000) from dir. A missing file gives an error wrapping
// fs.ErrNotExist that names the files expected and the directory.
func Load(dir string) (train, test *Set, err error) {
	paths, missing, err := locate(dir)
	if err != nil {
		return nil, nil, err
	}
	if len(missing) > 0 {
		return nil, nil, missingError(dir, missing)
	}
	train, err = loadSet(paths[0], paths[1])
	if err != nil {
		return nil, nil, err
	}
	test, err = loadSet(paths[2], paths[3])
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// ErrBadData is wrapped by every error Load and Ensure return for a file
// that is present but does not hold valid MNIST data (a bad header, a
// count beyond MaxExamples, truncated or trailing bytes, a directory in
// a file's place), so callers can tell bad input from a failed fetch.
var ErrBadData = errors.New("mnist: bad data")

// dataError marks err as bad data: it unwraps to both err and ErrBadData.
type dataError struct{ err error }

func (e dataError) Error() string   { return e.err.Error() }
func (e dataError) Unwrap() []error { return []error{e.err, ErrBadData} }

// locate returns, for each of fileNames, the path of its .gz or raw file
// in dir, and the names for which neither exists. A candidate that exists
// but is not a regular file (a directory, say) is an error wrapping
// ErrBadData: fetching over it could only fail.
func locate(dir string) (paths, missing []string, err error) {
	paths = make([]string, len(fileNames))
	for i, name := range fileNames {
		for _, cand := range []string{name + ".gz", name} {
			p := filepath.Join(dir, cand)
			st, err := os.Stat(p)
			if err != nil {
				continue
			}
			if !st.Mode().IsRegular() {
				what := "not a regular file"
				if st.IsDir() {
					what = "a directory"
				}
				return nil, nil, dataError{fmt.Errorf("mnist: %s is %s, want an IDX file (gzip or raw)", p, what)}
			}
			paths[i] = p
			break
		}
		if paths[i] == "" {
			missing = append(missing, name)
		}
	}
	return paths, missing, nil
}

func missingError(dir string, missing []string) error {
	var b strings.Builder
	for _, m := range missing {
		fmt.Fprintf(&b, " %s.gz", m)
	}
	return fmt.Errorf("mnist: missing in %s:%s (put the four MNIST IDX files train-images-idx3-ubyte.gz, "+
		"train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz, gzip or raw, "+
		"into that directory, or set CONVNET_DATA to the directory that holds them): %w", dir, b.String(), fs.ErrNotExist)
}

// loadSet reads the labels first: their count, checked against
// MaxExamples, is what the image header must repeat before any pixel is
// decoded, so a forged image count costs no memory.
func loadSet(imagesPath, labelsPath string) (*Set, error) {
	labels, err := readLabels(labelsPath)
	if err != nil {
		return nil, dataError{fmt.Errorf("mnist: %w", err)}
	}
	images, err := readImages(imagesPath, labelsPath, len(labels))
	if err != nil {
		return nil, dataError{fmt.Errorf("mnist: %w", err)}
	}
	return &Set{Images: images, Labels: labels, N: len(labels)}, nil
}

// DefaultDir returns $CONVNET_DATA when set, else <user cache dir>/convnet/mnist
// (for example ~/.cache/convnet/mnist on Linux), else convnet-data/mnist
// under the system temporary directory when there is no cache dir.
func DefaultDir() string {
	if d := os.Getenv("CONVNET_DATA"); d != "" {
		return d
	}
	if c, err := os.UserCacheDir(); err == nil {
		return filepath.Join(c, "convnet", "mnist")
	}
	return filepath.Join(os.TempDir(), "convnet-data", "mnist")
}

// Split returns a seeded random partition of s: a holds nFirst examples
// and b the other N−nFirst, both in permutation order. The permutation is
// tensor.NewRand(seed).Perm(N), so the same seed gives the same split. The
// lecture's split is s.Split(55000, seed) on the 60,000 training examples.
// nFirst is clamped to [0, N]. a and b own copies of the data.
func (s *Set) Split(nFirst int, seed uint64) (a, b *Set) {
	nFirst = clamp(nFirst, s.N)
	perm := tensor.NewRand(seed).Perm(s.N)
	return s.gather(perm[:nFirst]), s.gather(perm[nFirst:])
}

// Subset returns the first n examples of s (n clamped to [0, N]), sharing
// s's backing arrays. Use it for quick runs on a fraction of the data.
func (s *Set) Subset(n int) *Set {
	n = clamp(n, s.N)
	return &Set{Images: s.Images[: n*Pixels : n*Pixels], Labels: s.Labels[:n:n], N: n}
}

func (s *Set) gather(idx []int) *Set {
	out := &Set{Images: make([]float32, len(idx)*Pixels), Labels: make([]uint8, len(idx)), N: len(idx)}
	for j, i := range idx {
		copy(out.Images[j*Pixels:(j+1)*Pixels], s.Images[i*Pixels:(i+1)*Pixels])
		out.Labels[j] = s.Labels[i]
	}
	return out
}

func clamp(n, hi int) int {
	return min(max(n, 0), hi)
}
