package layers

import (
	"fmt"
	"math"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// ZeroPadding2D is Keras's ZeroPadding2D on NHWC input: Padding[0] rows
// of zeros above, Padding[1] below, Padding[2] columns left and
// Padding[3] right: [N, H, W, C] → [N, H + top + bottom, W + left +
// right, C].
type ZeroPadding2D struct {
	name string
	pad  [4]int
}

// NewZeroPadding2D returns a ZeroPadding2D layer. padding is one value
// for all four sides, two (rows, columns: Keras's (symmetric_height,
// symmetric_width)), or four (top, bottom, left, right: Keras's
// ((top, bottom), (left, right))). Other lengths and negative values are
// reported when the layer is built.
func NewZeroPadding2D(name string, padding ...int) *ZeroPadding2D {
	l := &ZeroPadding2D{name: name, pad: [4]int{-1, -1, -1, -1}}
	switch len(padding) {
	case 1:
		l.pad = [4]int{padding[0], padding[0], padding[0], padding[0]}
	case 2:
		l.pad = [4]int{padding[0], padding[0], padding[1], padding[1]}
	case 4:
		copy(l.pad[:], padding)
	}
	return l
}

// Name returns the layer's scope.
func (l *ZeroPadding2D) Name() string { return l.name }

// OutputShape returns the padded shape.
func (l *ZeroPadding2D) OutputShape(in []int) ([]int, error) {
	for _, p := range l.pad {
		if p < 0 {
			return nil, fmt.Errorf("layers: ZeroPadding2D %s: padding must be 1, 2 or 4 values ≥ 0", l.name)
		}
	}
	if len(in) != 4 {
		return nil, fmt.Errorf("layers: ZeroPadding2D %s: input must be NHWC (rank 4), got shape %v", l.name, in)
	}
	return []int{in[0], in[1] + l.pad[0] + l.pad[1], in[2] + l.pad[2] + l.pad[3], in[3]}, nil
}

// Build checks the input shape.
func (l *ZeroPadding2D) Build(in []int) error { _, err := l.OutputShape(in); return err }

// Call pads x with zeros.
func (l *ZeroPadding2D) Call(x *autograd.Var, _ Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	if _, err := l.OutputShape(shapeOf(x)); err != nil {
		return autograd.Failed(err)
	}
	return autograd.Pad(x, [][2]int{{0, 0}, {l.pad[0], l.pad[1]}, {l.pad[2], l.pad[3]}, {0, 0}}, "CONSTANT", 0)
}

// Variables returns nil.
func (l *ZeroPadding2D) Variables() []*autograd.Var { return nil }

// UpSampling2D is Keras's UpSampling2D on NHWC input: [N, H, W, C] →
// [N, H·SH, W·SW, C].
//
//	"nearest" (or "")  y[n, i, j, c] = x[n, ⌊i/SH⌋, ⌊j/SW⌋, c]
//	"bilinear"         tf.image.resize's bilinear with half-pixel centres
//	                   (what Keras 2.x and 3 use): along each axis, output
//	                   cell o reads s = (o + ½)/scale − ½ and mixes cells
//	                   ⌊s⌋ and ⌊s⌋ + 1 (clamped to the edges) with weights
//	                   1 − (s − ⌊s⌋) and s − ⌊s⌋.
//
// TF.js 4.22's layer resizes without half-pixel centres (its
// resizeBilinear default), so its bilinear output differs from Keras's;
// this layer follows Keras.
type UpSampling2D struct {
	name          string
	size          [2]int
	interpolation string
}

// NewUpSampling2D returns an UpSampling2D layer with size [SH, SW] (one
// value for both; nil means 2, Keras's default) and interpolation
// "nearest" or "bilinear".
func NewUpSampling2D(name string, size []int, interpolation string) *UpSampling2D {
	s, err := pair("size", size, 2)
	if err != nil {
		s = [2]int{-1, -1}
	}
	return &UpSampling2D{name: name, size: s, interpolation: strings.ToLower(interpolation)}
}

// Name returns the layer's scope.
func (l *UpSampling2D) Name() string { return l.name }

// OutputShape returns [N, H·SH, W·SW, C].
func (l *UpSampling2D) OutputShape(in []int) ([]int, error) {
	if l.size[0] < 1 {
		return nil, fmt.Errorf("layers: UpSampling2D %s: size must be one or two positive values", l.name)
	}
	switch l.interpolation {
	case "", "nearest", "bilinear":
	default:
		return nil, fmt.Errorf("layers: UpSampling2D %s: interpolation must be \"nearest\" or \"bilinear\", got %q", l.name, l.interpolation)
	}
	if len(in) != 4 {
		return nil, fmt.Errorf("layers: UpSampling2D %s: input must be NHWC (rank 4), got shape %v", l.name, in)
	}
	return []int{in[0], in[1] * l.size[0], in[2] * l.size[1], in[3]}, nil
}

// Build checks the configuration and the input shape.
func (l *UpSampling2D) Build(in []int) error { _, err := l.OutputShape(in); return err }

// Variables returns nil.
func (l *UpSampling2D) Variables() []*autograd.Var { return nil }

// Call resizes x.
func (l *UpSampling2D) Call(x *autograd.Var, _ Context) *autograd.Var {
	if x.Err() != nil {
		return x
	}
	in := shapeOf(x)
	out, err := l.OutputShape(in)
	if err != nil {
		return autograd.Failed(err)
	}
	n, h, w, c := in[0], in[1], in[2], in[3]
	sh, sw := l.size[0], l.size[1]
	if l.interpolation == "bilinear" {
		// y = A_H · x · A_Wᵀ per example and channel, as two matrix
		// products with the resized axis moved to the front.
		y := autograd.Reshape(autograd.Transpose(x, 1, 0, 2, 3), h, n*w*c)
		y = autograd.MatMul(autograd.Constant(bilinearMatrix(h, h*sh)), y, false, false)
		y = autograd.Transpose(autograd.Reshape(y, h*sh, n, w, c), 2, 1, 0, 3)
		y = autograd.Reshape(y, w, n*h*sh*c)
		y = autograd.MatMul(autograd.Constant(bilinearMatrix(w, w*sw)), y, false, false)
		return autograd.Transpose(autograd.Reshape(y, w*sw, n, h*sh, c), 1, 2, 0, 3)
	}
	// Nearest: [N, H, 1, W, 1, C] repeated to [N, H, SH, W, SW, C]; the
	// gradient sums each SH×SW block (nn.SumToShape).
	y := autograd.BroadcastTo(autograd.Reshape(x, n, h, 1, w, 1, c), n, h, sh, w, sw, c)
	return autograd.Reshape(y, out...)
}

// bilinearMatrix returns the [out, in] matrix of half-pixel-centre linear
// interpolation from in cells to out cells (tf.image.resize, bilinear,
// half_pixel_centers).
func bilinearMatrix(in, out int) *tensor.Tensor {
	a := tensor.Zeros(out, in)
	scale := float64(in) / float64(out)
	for o := range out {
		s := (float64(o)+0.5)*scale - 0.5
		f := math.Floor(s)
		lo := max(int(f), 0)
		hi := min(int(math.Ceil(s)), in-1)
		frac := float32(s - f)
		a.Data()[o*in+lo] += 1 - frac
		a.Data()[o*in+hi] += frac
	}
	return a
}
