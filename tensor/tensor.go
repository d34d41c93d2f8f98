// Package tensor provides Tensor, a dense row-major array of float32 values
// with a shape, and the seeded random fills the rest of convnet uses.
//
// A Tensor of shape [d0, d1, …, dn-1] stores element (i0, i1, …, in-1) at
// Data()[((i0·d1 + i1)·d2 + i2)… + in-1]. Tensors are plain values: there
// is no device, no dtype other than float32 and no strided view; Reshape
// returns a tensor sharing the same backing slice.
package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
)

// Tensor is a shape and its row-major float32 data.
type Tensor struct {
	shape []int
	data  []float32
	// version counts the changes made to data (see Version); a view
	// made by Reshape counts on root, the tensor that owns the data.
	version atomic.Uint64
	root    *Tensor // nil for the owner itself
}

// New returns a tensor of the given shape backed by data (not copied).
// A nil data allocates zeros. It fails when a dimension is negative or
// when len(data) is not the product of the shape.
func New(shape []int, data []float32) (*Tensor, error) {
	n, err := checkShape(shape)
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = make([]float32, n)
	}
	if len(data) != n {
		return nil, fmt.Errorf("tensor: shape %v needs %d values, got %d", shape, n, len(data))
	}
	return &Tensor{shape: append([]int(nil), shape...), data: data}, nil
}

// Must returns t, panicking if err is non-nil. It is for shapes known to
// be valid, as in tests and examples.
func Must(t *Tensor, err error) *Tensor {
	if err != nil {
		panic(err)
	}
	return t
}

// Zeros returns a zero-filled tensor. It panics on a negative dimension,
// which is a programming error.
func Zeros(shape ...int) *Tensor {
	n, err := checkShape(shape)
	if err != nil {
		panic(err)
	}
	return &Tensor{shape: append([]int(nil), shape...), data: make([]float32, n)}
}

// Ones returns a tensor filled with 1.
func Ones(shape ...int) *Tensor { return Full(1, shape...) }

// Full returns a tensor filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := Zeros(shape...)
	t.Fill(v)
	return t
}

// FromFloat64 returns a tensor holding data converted to float32.
func FromFloat64(shape []int, data []float64) (*Tensor, error) {
	f := make([]float32, len(data))
	for i, v := range data {
		f[i] = float32(v)
	}
	return New(shape, f)
}

func checkShape(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("tensor: negative dimension in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt32*64/d {
			return 0, fmt.Errorf("tensor: shape %v is too large", shape)
		}
		n *= d
	}
	return n, nil
}

// Shape returns the tensor's shape. The caller must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// Data returns the backing slice, row-major.
func (t *Tensor) Data() []float32 { return t.data }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Len returns the number of elements, the product of the shape.
func (t *Tensor) Len() int { return len(t.data) }

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	for i := range t.data {
		t.data[i] = v
	}
	t.MarkChanged()
}

// Version returns the number of changes made to t's values so far: a
// count that MarkChanged, and each method that writes the values (Fill,
// RandNormal, RandUniform, RandTruncatedNormal), advances by one. A
// tensor and its Reshape views share the count. Forms derived from a
// weight tensor and kept between calls (the packed panels of nn.Packed)
// record the version they were computed at and are rebuilt when it
// moves on.
func (t *Tensor) Version() uint64 { return t.owner().version.Load() }

// MarkChanged advances Version. Code that writes t's values in place
// through Data (an optimizer's update, loading weights) calls it once
// it has finished writing, so that nothing derived from the old values
// is used again. Values written without it may leave such forms stale.
// It is safe for concurrent use.
func (t *Tensor) MarkChanged() { t.owner().version.Add(1) }

// owner returns the tensor whose data t shares (t itself unless t is a
// Reshape view).
func (t *Tensor) owner() *Tensor {
	if t.root != nil {
		return t.root
	}
	return t
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{shape: append([]int(nil), t.shape...), data: append([]float32(nil), t.data...)}
}

// Reshape returns a tensor with the new shape sharing t's data (and its
// Version). One dimension may be -1 and is then inferred. The element
// count must match.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	shape = append([]int(nil), shape...)
	infer, known := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return nil, fmt.Errorf("tensor: cannot reshape %v to %v: bad dimension %d", t.shape, shape, d)
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || len(t.data)%known != 0 {
			return nil, fmt.Errorf("tensor: cannot reshape %v (%d values) to %v", t.shape, len(t.data), shape)
		}
		shape[infer] = len(t.data) / known
		known *= shape[infer]
	}
	if known != len(t.data) {
		return nil, fmt.Errorf("tensor: cannot reshape %v (%d values) to %v (%d values)", t.shape, len(t.data), shape, known)
	}
	return &Tensor{shape: shape, data: t.data, root: t.owner()}, nil
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Size returns the product of shape.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// String formats the shape and up to the first 8 values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v[", t.shape)
	for i, v := range t.data {
		if i == 8 {
			b.WriteString(" …")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%g", v)
	}
	b.WriteByte(']')
	return b.String()
}

// NewRand returns a PCG generator seeded by seed; every random thing in
// convnet takes one of these, never the clock.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// RandNormal fills t with samples from N(mean, stddev²).
func (t *Tensor) RandNormal(r *rand.Rand, mean, stddev float64) {
	for i := range t.data {
		t.data[i] = float32(mean + stddev*r.NormFloat64())
	}
	t.MarkChanged()
}

// RandUniform fills t with samples from U[lo, hi).
func (t *Tensor) RandUniform(r *rand.Rand, lo, hi float64) {
	for i := range t.data {
		t.data[i] = float32(lo + (hi-lo)*r.Float64())
	}
	t.MarkChanged()
}

// RandTruncatedNormal fills t like tf.random.truncated_normal: samples
// from N(mean, stddev²) redrawn until they lie within two standard
// deviations of the mean.
func (t *Tensor) RandTruncatedNormal(r *rand.Rand, mean, stddev float64) {
	for i := range t.data {
		z := r.NormFloat64()
		for z < -2 || z > 2 {
			z = r.NormFloat64()
		}
		t.data[i] = float32(mean + stddev*z)
	}
	t.MarkChanged()
}
