package nn

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ConvOptions are the attributes of tf.nn.convolution and friends.
//
// Strides and Dilations take what tf.nn takes: nil (all 1), one value for
// every spatial dimension, one value per spatial dimension, or the full
// rank with 1 at the batch and channel positions. Padding is "SAME",
// "VALID" (also the zero value "") or "EXPLICIT", in which case
// ExplicitPaddings gives a (before, after) pair per spatial dimension or
// per dimension of the full rank (zeros at batch and channels).
// DataFormat is "" or channels-last ("NWC", "NHWC", "NDHWC"), or
// channels-first ("NCW", "NCHW", "NCDHW").
type ConvOptions struct {
	Strides          []int
	Padding          string
	ExplicitPaddings [][2]int
	Dilations        []int
	DataFormat       string
}

// PoolOptions are the attributes of tf.nn.max_pool / avg_pool. KSize and
// Strides take the same forms as ConvOptions.Strides; Padding is "SAME",
// "VALID" (also "") or "EXPLICIT" with ExplicitPaddings as in ConvOptions
// (max pooling pads with −∞); DataFormat as in ConvOptions.
type PoolOptions struct {
	KSize            []int
	Strides          []int
	Padding          string
	ExplicitPaddings [][2]int
	DataFormat       string
}

// OutputSize returns the length of one spatial dimension after a window
// of size k with the given stride and dilation slides over in cells, by
// TF's rule (GetWindowedOutputSize) with the effective window
// F = (k−1)·d + 1:
//
//	SAME         ⌈in/s⌉
//	VALID        (in − F + s)/s, the division truncated toward zero
//	P (a number) (in + 2P − F + s)/s, P zero cells on each side: the
//	             lecture's (W − F + 2P)/S + 1 when W + 2P ≥ F
//
// which is ⌈(in − F + 1)/s⌉ when the window fits. When it does not, the
// result may be 0 (an empty output, as TF returns), for example in 2,
// k 3, stride 2; it is an error only when the formula gives a negative
// size, or an argument is out of range.
func OutputSize(in, k, stride, dilation int, padding string) (int, error) {
	if in < 0 || k < 1 || stride < 1 || dilation < 1 {
		return 0, fmt.Errorf("nn: OutputSize needs in ≥ 0, k, stride, dilation ≥ 1; got in=%d k=%d stride=%d dilation=%d", in, k, stride, dilation)
	}
	ek := (k-1)*dilation + 1
	switch strings.ToUpper(padding) {
	case "SAME":
		return ceilDiv(in, stride), nil
	case "VALID", "":
		out := windowedSize(in, ek, stride)
		if out < 0 {
			return 0, fmt.Errorf("nn: VALID output size is negative: input %d, (dilated) window %d, stride %d give (%d − %d + %d)/%d", in, ek, stride, in, ek, stride, stride)
		}
		return out, nil
	}
	p, err := strconv.Atoi(padding)
	if err != nil || p < 0 {
		return 0, fmt.Errorf("nn: padding %q is not SAME, VALID or a whole number of cells", padding)
	}
	out := windowedSize(in+2*p, ek, stride)
	if out < 0 {
		return 0, fmt.Errorf("nn: output size is negative: input %d + 2·%d padding, window %d, stride %d", in, p, ek, stride)
	}
	return out, nil
}

// windowedSize is TF's (in − ek + s)/s with Go's (and C++'s) division
// truncating toward zero: negative only when the window overhangs the
// (padded) input by s cells or more.
func windowedSize(in, ek, s int) int { return (in - ek + s) / s }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// axis is the geometry of one spatial dimension of a sliding window.
type axis struct {
	In, K, Stride, Dilation int
	PadBefore, PadAfter     int
	Out                     int
}

// layout tells where the channels of a rank-r tensor are.
func channelsLast(rank int, format string) (bool, error) {
	last := map[int]string{3: "NWC", 4: "NHWC", 5: "NDHWC"}
	first := map[int]string{3: "NCW", 4: "NCHW", 5: "NCDHW"}
	switch strings.ToUpper(format) {
	case "", last[rank]:
		return true, nil
	case first[rank]:
		return false, nil
	}
	return false, fmt.Errorf("nn: data format %q does not fit a rank-%d input (want %q or %q)", format, rank, last[rank], first[rank])
}

// spatialParam expands a tf.nn-style strides/dilations/ksize argument to
// one value per spatial dimension (nSpatial ≤ 3), written into dst (the
// caller's, often on its stack).
func spatialParam(dst *[3]int, name string, v []int, nSpatial int, chLast bool) ([]int, error) {
	out := dst[:nSpatial]
	switch len(v) {
	case 0:
		for i := range out {
			out[i] = 1
		}
	case 1:
		for i := range out {
			out[i] = v[0]
		}
	case nSpatial:
		copy(out, v)
	case nSpatial + 2:
		c := nSpatial + 1
		sp := 1
		if !chLast {
			c, sp = 1, 2
		}
		if v[0] != 1 || v[c] != 1 {
			return nil, fmt.Errorf("nn: %s %v: a %s other than 1 over the batch or channel dimension is not supported", name, v, name)
		}
		copy(out, v[sp:sp+nSpatial])
	default:
		return nil, fmt.Errorf("nn: %s %v: want 1, %d or %d values", name, v, nSpatial, nSpatial+2)
	}
	for _, s := range out {
		if s < 1 {
			return nil, fmt.Errorf("nn: %s %v: values must be ≥ 1", name, v)
		}
	}
	return out, nil
}

// windowAxes computes the per-dimension geometry for a window of sizes k
// over spatial sizes in, following TF's SAME/VALID/EXPLICIT rules:
// SAME pads max((out−1)·s + (k−1)·d + 1 − in, 0) cells, half before and
// the odd cell after; VALID and EXPLICIT give OutputSize's (in − F + s)/s
// over the (padded) input, which may be 0.
//
// The axes are written into dst (len(in) ≤ 3). The errors quote copies of
// the arguments, so that arrays on the caller's stack stay there.
func windowAxes(dst *[3]axis, in, k, strides, dilations []int, padding string, explicit [][2]int, chLast bool) ([]axis, error) {
	n := len(in)
	ax := dst[:n]
	pad := strings.ToUpper(padding)
	var pairs [][2]int
	if pad == "EXPLICIT" {
		switch len(explicit) {
		case n:
			pairs = explicit
		case n + 2:
			c, sp := n+1, 1
			if !chLast {
				c, sp = 1, 2
			}
			if explicit[0] != [2]int{} || explicit[c] != [2]int{} {
				return nil, fmt.Errorf("nn: explicit paddings %v pad the batch or channel dimension", explicit)
			}
			pairs = explicit[sp : sp+n]
		default:
			return nil, fmt.Errorf("nn: explicit paddings %v: want %d or %d (before, after) pairs", explicit, n, n+2)
		}
	} else if len(explicit) != 0 {
		return nil, fmt.Errorf("nn: explicit paddings %v given with padding %q (want \"EXPLICIT\")", explicit, padding)
	}
	for i := range ax {
		a := axis{In: in[i], K: k[i], Stride: strides[i], Dilation: dilations[i]}
		ek := (a.K-1)*a.Dilation + 1
		switch pad {
		case "SAME":
			a.Out = ceilDiv(a.In, a.Stride)
			total := max((a.Out-1)*a.Stride+ek-a.In, 0)
			a.PadBefore, a.PadAfter = total/2, total-total/2
		case "VALID", "":
			if a.Out = windowedSize(a.In, ek, a.Stride); a.Out < 0 {
				return nil, fmt.Errorf("nn: VALID padding gives a negative output size: input size %v is smaller than the window %v (dilations %v: %d cells) by the stride %v or more in dimension %d", slices.Clone(in), slices.Clone(k), slices.Clone(dilations), ek, slices.Clone(strides), i)
			}
		case "EXPLICIT":
			a.PadBefore, a.PadAfter = pairs[i][0], pairs[i][1]
			if a.PadBefore < 0 || a.PadAfter < 0 {
				return nil, fmt.Errorf("nn: explicit paddings %v: values must be ≥ 0", explicit)
			}
			if a.Out = windowedSize(a.In+a.PadBefore+a.PadAfter, ek, a.Stride); a.Out < 0 {
				return nil, fmt.Errorf("nn: explicit padding gives a negative output size: padded input %d is smaller than the window %d by the stride %d or more in dimension %d", a.In+a.PadBefore+a.PadAfter, ek, a.Stride, i)
			}
		default:
			return nil, fmt.Errorf("nn: padding %q: want \"SAME\", \"VALID\" or \"EXPLICIT\"", padding)
		}
		ax[i] = a
	}
	return ax, nil
}

// float is the element type of the plain-loop reference implementations:
// they run in float32 as the oracle of the fast paths and in float64 for
// the finite-difference gradient checks.
type float interface{ ~float32 | ~float64 }
