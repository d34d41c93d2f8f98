package nn

// Pad as tf.pad, and its gradient. Shapes: x of rank r; paddings[i] =
// (before, after) for dim i; the result's dim i is before + x's + after.
// CONSTANT fills with value; REFLECT mirrors about the edge element
// (x[1], x[0], x[1], … — pads ≤ dim − 1); SYMMETRIC mirrors including it
// (x[0], x[0], x[1], … — pads ≤ dim). Every mode is a gather through one
// index map per dim, out index o ↦ x index m(o) (−1 for a constant cell),
// and the gradient is the scatter-add through the same maps, so each x
// element receives the grads of all the cells it was copied to (TF's
// MirrorPadGrad).

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/tensor"
)

// Pad returns x padded by paddings in mode "CONSTANT" (with value),
// "REFLECT" or "SYMMETRIC" (case-insensitive, as tf.pad). Negative pads,
// or mirror pads larger than the mode allows, are errors. Gradient:
// PadGrad.
func Pad(x *tensor.Tensor, paddings [][2]int, mode string, value float32) (*tensor.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("nn: Pad: nil tensor")
	}
	maps, out, err := padMaps("Pad", x.Shape(), paddings, mode)
	if err != nil {
		return nil, err
	}
	y := newResult(out...)
	padWalk(y.Data(), x.Data(), x.Shape(), out, maps, value, false)
	return y, nil
}

// PadGrad returns the gradient of Pad: for each x element, the sum of
// grad (the padded shape) over the cells that copied it.
func PadGrad(grad *tensor.Tensor, xShape []int, paddings [][2]int, mode string) (*tensor.Tensor, error) {
	if grad == nil {
		return nil, fmt.Errorf("nn: PadGrad: nil grad")
	}
	if _, err := checkShape("PadGrad", xShape); err != nil {
		return nil, err
	}
	maps, out, err := padMaps("PadGrad", xShape, paddings, mode)
	if err != nil {
		return nil, err
	}
	if !tensor.SameShape(grad.Shape(), out) {
		return nil, fmt.Errorf("nn: PadGrad: grad has shape %v, want the padded shape %v", grad.Shape(), out)
	}
	dx := newZeroResult(xShape...)
	padWalk(grad.Data(), dx.Data(), xShape, out, maps, 0, true)
	return dx, nil
}

// padMaps validates the pads and returns the index map of each dim and
// the padded shape.
func padMaps(op string, s []int, paddings [][2]int, mode string) ([][]int, []int, error) {
	m := strings.ToUpper(mode)
	if m != "CONSTANT" && m != "REFLECT" && m != "SYMMETRIC" {
		return nil, nil, fmt.Errorf("nn: %s: mode %q (want CONSTANT, REFLECT or SYMMETRIC)", op, mode)
	}
	if len(paddings) != len(s) {
		return nil, nil, fmt.Errorf("nn: %s: %d paddings for shape %v (want one (before, after) per dim)", op, len(paddings), s)
	}
	maps := make([][]int, len(s))
	out := make([]int, len(s))
	for i, d := range s {
		b, a := paddings[i][0], paddings[i][1]
		limit := d // SYMMETRIC
		if m == "REFLECT" {
			limit = d - 1
		}
		if b < 0 || a < 0 || m != "CONSTANT" && (b > limit || a > limit) {
			return nil, nil, fmt.Errorf("nn: %s: paddings %v for dim %d of shape %v (want ≥ 0, and ≤ %d for %s)", op, paddings[i], i, s, limit, m)
		}
		out[i] = b + d + a
		mp := make([]int, out[i])
		for o := range mp {
			j := o - b
			switch {
			case j >= 0 && j < d:
			case m == "CONSTANT":
				j = -1
			case m == "REFLECT" && j < 0:
				j = -j
			case m == "REFLECT":
				j = 2*(d-1) - j
			case j < 0:
				j = -j - 1
			default:
				j = 2*d - 1 - j
			}
			mp[o] = j
		}
		maps[i] = mp
	}
	return maps, out, nil
}

// padWalk visits the padded tensor (shape out, data p) in row-major order
// and either gathers x into it (scatter false; value for constant cells)
// or adds it into x (scatter true).
func padWalk(p, x []float32, xShape, out []int, maps [][]int, value float32, scatter bool) {
	if len(p) == 0 {
		return
	}
	r := len(out)
	if r == 0 {
		if scatter {
			x[0] += p[0]
		} else {
			p[0] = x[0]
		}
		return
	}
	xs := xStrides(xShape)
	n, last := out[r-1], maps[r-1]
	idx := make([]int, r-1)
	for row := 0; row*n < len(p); row++ {
		off, inside := 0, true
		for d, i := range idx {
			j := maps[d][i]
			if j < 0 {
				inside = false
				break
			}
			off += j * xs[d]
		}
		pr := p[row*n : (row+1)*n]
		for i, j := range last {
			switch {
			case scatter && inside && j >= 0:
				x[off+j] += pr[i]
			case scatter:
			case inside && j >= 0:
				pr[i] = x[off+j]
			default:
				pr[i] = value
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < out[d] {
				break
			}
			idx[d] = 0
		}
	}
}
