// Package data is what training reads: a Dataset interface for labelled
// images of one shape, in-memory and index-subset datasets, a seeded
// train/validation split, per-channel normalisation, seeded augmentation
// and Batches, which assembles shuffled mini-batches on a pool of worker
// goroutines ahead of the training loop.
//
// Images are float32 in HWC order (height, width, channels), values in
// [0, 1] as read (byte/255); batches are NHWC tensors. The readers live
// in subpackages: data/mnist (IDX files: MNIST, Fashion-MNIST, any IDX
// directory), data/cifar (CIFAR-10 binary records) and data/folder (one
// subfolder of image files per class).
//
// Every random choice (shuffle order, split, augmentation) is a function
// of a seed and the position it applies to, never of which worker did the
// work, so a run repeats bit for bit and a resumed epoch sees the same
// batches.
package data

import (
	"fmt"
	"math/rand/v2"
)

// Shape is the size of every image of a Dataset: H rows, W columns, C
// channels (1 gray, 3 RGB). An image holds H·W·C values, element
// (y, x, c) at index (y·W + x)·C + c.
type Shape struct{ H, W, C int }

// Size returns H·W·C.
func (s Shape) Size() int { return s.H * s.W * s.C }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.H, s.W, s.C) }

// Dataset is a finite list of labelled images of one Shape.
type Dataset interface {
	// Len returns the number of examples.
	Len() int
	// Shape returns the shape of every image.
	Shape() Shape
	// Classes returns the class names; labels are indices into it.
	Classes() []string
	// Example writes image i (Shape().Size() values, HWC, in [0, 1]) into
	// dst and returns its label. It is safe for concurrent use. An error
	// names what could not be read (a file, a record).
	Example(i int, dst []float32) (label int, err error)
}

// Memory is a Dataset held in memory as bytes: image i is
// Pixels[i·S : (i+1)·S] with S = Shape.Size(), each value byte/255.
type Memory struct {
	Pixels []uint8
	Labels []uint8
	Dims   Shape
	Names  []string
}

// NewMemory checks that pixels and labels agree with shape and that
// every label is below len(names), and returns the Dataset.
func NewMemory(pixels, labels []uint8, shape Shape, names []string) (*Memory, error) {
	if shape.H < 1 || shape.W < 1 || shape.C < 1 {
		return nil, fmt.Errorf("data: image shape %v, want positive sizes", shape)
	}
	if len(pixels) != len(labels)*shape.Size() {
		return nil, fmt.Errorf("data: %d pixel values for %d labels of %v images, want %d", len(pixels), len(labels), shape, len(labels)*shape.Size())
	}
	for i, l := range labels {
		if int(l) >= len(names) {
			return nil, fmt.Errorf("data: label %d is %d, want below the %d classes", i, l, len(names))
		}
	}
	return &Memory{Pixels: pixels, Labels: labels, Dims: shape, Names: names}, nil
}

// Len returns the number of examples.
func (m *Memory) Len() int { return len(m.Labels) }

// Shape returns the images' shape.
func (m *Memory) Shape() Shape { return m.Dims }

// Classes returns the class names.
func (m *Memory) Classes() []string { return m.Names }

// Example writes image i scaled to [0, 1] into dst.
func (m *Memory) Example(i int, dst []float32) (int, error) {
	s := m.Dims.Size()
	if i < 0 || i >= len(m.Labels) {
		return 0, fmt.Errorf("data: example %d of %d", i, len(m.Labels))
	}
	for j, b := range m.Pixels[i*s : (i+1)*s] {
		dst[j] = float32(b) / 255
	}
	return int(m.Labels[i]), nil
}

// Subset is the examples Index[0], Index[1], … of Of, in that order.
type Subset struct {
	Of    Dataset
	Index []int
}

// Len returns len(Index).
func (s *Subset) Len() int { return len(s.Index) }

// Shape returns the parent's shape.
func (s *Subset) Shape() Shape { return s.Of.Shape() }

// Classes returns the parent's class names.
func (s *Subset) Classes() []string { return s.Of.Classes() }

// Example returns the parent's example Index[i].
func (s *Subset) Example(i int, dst []float32) (int, error) {
	if i < 0 || i >= len(s.Index) {
		return 0, fmt.Errorf("data: example %d of %d", i, len(s.Index))
	}
	return s.Of.Example(s.Index[i], dst)
}

// Split partitions ds by a seeded permutation: a holds nFirst examples
// (clamped to [0, Len]) and b the rest, both in permutation order. The
// permutation is rand.New(rand.NewPCG(seed, 0x5b11)).Perm(Len), so the
// same seed and length give the same, disjoint split.
func Split(ds Dataset, nFirst int, seed uint64) (a, b *Subset) {
	n := ds.Len()
	nFirst = min(max(nFirst, 0), n)
	perm := rand.New(rand.NewPCG(seed, 0x5b11)).Perm(n)
	return &Subset{Of: ds, Index: perm[:nFirst]}, &Subset{Of: ds, Index: perm[nFirst:]}
}

// First returns the first n examples of ds (all when n ≤ 0 or n ≥ Len).
func First(ds Dataset, n int) Dataset {
	if n <= 0 || n >= ds.Len() {
		return ds
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return &Subset{Of: ds, Index: idx}
}

// Len returns ds.Len(), or 0 for a nil Dataset.
func Len(ds Dataset) int {
	if ds == nil {
		return 0
	}
	return ds.Len()
}
