package nn

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// FuzzShapeOps feeds arbitrary shapes and parameters (as an importer of
// an untrusted model would) to the broadcasting, reduction and shape ops:
// each must return a result or an error, never panic, and a result must
// have the shape the op promises. shape gives x's dims (rank ≤ 4, dims
// 0–4), op picks the op, params holds small signed ints (perms, axes,
// begins, sizes, pads, a second shape), and big, when non-zero, replaces
// the first of them to probe overflow.
func FuzzShapeOps(f *testing.F) {
	f.Add([]byte{2, 3}, uint8(0), []byte{3}, int64(0))
	f.Add([]byte{2, 3, 4}, uint8(5), []byte{2, 0, 1}, int64(0))
	f.Add([]byte{3, 4}, uint8(8), []byte{1, 1, 2, 2}, int64(0))
	f.Add([]byte{3, 4}, uint8(9), []byte{0, 1, 0xff, 2}, int64(math.MaxInt64))
	f.Add([]byte{4}, uint8(7), []byte{1, 0xff}, int64(0))
	f.Add([]byte{2, 2}, uint8(12), []byte{1, 1, 1, 1}, int64(1<<40))
	f.Fuzz(func(t *testing.T, shape []byte, op uint8, params []byte, big int64) {
		if len(shape) > 4 || len(params) > 16 {
			return
		}
		s := make([]int, len(shape))
		for i, b := range shape {
			s[i] = int(b % 5)
		}
		x := tensor.Zeros(s...)
		for i := range x.Data() {
			x.Data()[i] = float32(i%7) - 3
		}
		p := make([]int, len(params))
		for i, b := range params {
			p[i] = int(int8(b))
		}
		if big != 0 && len(p) > 0 {
			p[0] = int(big)
		}
		pairs := func() [][2]int {
			var pp [][2]int
			for i := 0; i+1 < len(p); i += 2 {
				pp = append(pp, [2]int{p[i], p[i+1]})
			}
			return pp
		}
		small := func(shape []int) bool { // bound the harness' memory, not the op's
			n := 1
			for _, d := range shape {
				if d < 0 || d > 1<<10 {
					return false
				}
				if n *= d; n > 1<<16 {
					return false
				}
			}
			return true
		}
		var y *tensor.Tensor
		var err error
		switch op % 14 {
		case 0:
			if small(clampDims(p)) {
				y, err = Add(x, tensor.Zeros(clampDims(p)...))
			}
		case 1:
			y, err = SumToShape(x, p)
			if err == nil && !tensor.SameShape(y.Shape(), p) {
				t.Fatalf("SumToShape to %v gave %v", p, y.Shape())
			}
		case 2:
			if small(p) {
				y, err = BroadcastTo(x, p)
			} else {
				_, err = checkShape("BroadcastTo", p)
			}
		case 3:
			y, err = ReduceSum(x, p, op&16 != 0)
		case 4:
			y, err = ReduceMax(x, p, op&16 != 0)
			if err == nil {
				_, err = ReduceMaxGrad(tensor.Ones(y.Shape()...), x, y, p, op&16 != 0)
			}
		case 5:
			y, err = Transpose(x, p)
		case 6:
			axis := 0
			if len(p) > 0 {
				axis = p[0]
			}
			y, err = Concat([]*tensor.Tensor{x, x}, axis)
		case 7:
			if len(p) > 0 {
				var ys []*tensor.Tensor
				ys, err = Split(x, p[1:], p[0])
				if err == nil {
					y, err = Concat(ys, p[0])
					if err == nil && !tensor.SameShape(y.Shape(), x.Shape()) {
						t.Fatalf("Concat of Split gave %v from %v", y.Shape(), x.Shape())
					}
				}
			}
		case 8:
			half := len(p) / 2
			y, err = Slice(x, p[:half], p[half:])
		case 9:
			half := len(p) / 2
			y, err = SliceGrad(x, p[:half], p[half:])
		case 10, 11, 12:
			mode := []string{"CONSTANT", "REFLECT", "SYMMETRIC"}[op%14-10]
			pp := pairs()
			out := append([]int(nil), s...)
			for i := range out {
				if i < len(pp) {
					out[i] += pp[i][0] + pp[i][1]
				}
			}
			if small(out) || len(pp) != len(s) {
				y, err = Pad(x, pp, mode, 1)
				if err == nil {
					_, err = PadGrad(y, s, pp, mode)
				}
			} else {
				_, _, err = padMaps("Pad", s, pp, mode)
				if err == nil && !small(out) {
					t.Skip("valid but too large for the harness")
				}
			}
		case 13:
			axis := 0
			if len(p) > 0 {
				axis = p[0]
			}
			y, err = SoftmaxAxis(x, axis)
			if err == nil {
				_, err = LogSoftmaxAxisGrad(y, y, axis)
			}
		}
		if err == nil && y != nil && y.Len() != tensor.Size(y.Shape()) {
			t.Fatalf("result of shape %v holds %d values", y.Shape(), y.Len())
		}
	})
}

// clampDims maps arbitrary ints to dims 0–4 (the second operand's shape).
func clampDims(p []int) []int {
	out := make([]int, len(p))
	for i, v := range p {
		out[i] = ((v % 5) + 5) % 5
	}
	return out
}

// FuzzWindowOps feeds arbitrary window attributes (as an importer of an
// untrusted model would: ONNX pads, Keras pool sizes, TF input_sizes) to
// the pooling and convolution ops (one with a batch norm before it) and
// their gradients on a small NHWC input: each must return a result or an error, never panic, and a
// forward result must have the shape OutputSize gives per spatial
// dimension. shape gives x's dims (0–5), win the window, strides,
// dilations and explicit pads (signed, small), mode picks the padding.
func FuzzWindowOps(f *testing.F) {
	f.Add([]byte{1, 4, 5, 2}, []byte{2, 2, 2, 2, 1, 1, 1, 0, 0, 1}, uint8(0))
	f.Add([]byte{2, 3, 3, 1}, []byte{3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, uint8(2))
	f.Add([]byte{1, 2, 5, 1}, []byte{3, 3, 2, 2, 1, 1, 0, 0, 0, 0}, uint8(1))
	f.Add([]byte{1, 4, 4, 3}, []byte{2, 3, 1, 2, 2, 1, 0xff, 1, 2, 0}, uint8(2))
	f.Fuzz(func(t *testing.T, shape, win []byte, mode uint8) {
		if len(shape) != 4 || len(win) != 10 {
			return
		}
		s := make([]int, 4)
		for i, b := range shape {
			s[i] = int(b % 6)
		}
		v := make([]int, len(win))
		for i, b := range win {
			v[i] = int(int8(b)) % 8
		}
		k, st, dil := []int{v[0], v[1]}, []int{v[2], v[3]}, []int{v[4], v[5]}
		pads := [][2]int{{v[6], v[7]}, {v[8], v[9]}}
		padding := []string{"SAME", "VALID", "EXPLICIT"}[mode%3]
		x := tensor.Zeros(s...)
		for i := range x.Data() {
			x.Data()[i] = float32(i%5) - 2
		}
		checkOut := func(op string, y *tensor.Tensor, kk, ss, dd []int) {
			t.Helper()
			for i := range 2 {
				p := padding
				if p == "EXPLICIT" {
					p = "VALID" // the pads are added to the input below
				}
				in := s[1+i]
				if padding == "EXPLICIT" {
					in += pads[i][0] + pads[i][1]
				}
				want, err := OutputSize(in, kk[i], ss[i], dd[i], p)
				if err != nil || y.Dim(1+i) != want {
					t.Fatalf("%s: output %v, want dim %d = %d (%v)", op, y.Shape(), 1+i, want, err)
				}
			}
		}
		po := PoolOptions{KSize: k, Strides: st, Padding: padding, ExplicitPaddings: pads}
		if y, err := MaxPool(x, po); err == nil {
			checkOut("MaxPool", y, k, st, []int{1, 1})
			if _, err := MaxPoolGrad(x, tensor.Ones(y.Shape()...), po); err != nil {
				t.Fatalf("MaxPoolGrad after MaxPool: %v", err)
			}
			if _, err := AvgPoolGrad(s, tensor.Ones(y.Shape()...), po); err != nil {
				t.Fatalf("AvgPoolGrad after MaxPool: %v", err)
			}
		}
		_, _ = AvgPool(x, po)
		if len(k) == 2 && k[0] > 0 && k[1] > 0 {
			w := tensor.Ones(k[0], k[1], s[3], 2)
			co := ConvOptions{Strides: st, Dilations: dil, Padding: padding, ExplicitPaddings: pads}
			if y, err := Conv2D(x, w, co); err == nil {
				checkOut("Conv2D", y, k, st, dil)
				g := tensor.Ones(y.Shape()...)
				if _, err := Conv2DBackpropInput(s[1:3], w, g, co); err != nil {
					t.Fatalf("Conv2DBackpropInput with spatial input sizes after Conv2D: %v", err)
				}
				if _, err := Conv2DBackpropFilter(x, w.Shape(), g, co); err != nil {
					t.Fatalf("Conv2DBackpropFilter after Conv2D: %v", err)
				}
			}
			_, _ = DepthwiseConv2D(x, w, co)
			// The same convolution with a batch norm and ReLU before it.
			sc, of := tensor.Ones(s[3]), tensor.Zeros(s[3])
			if y, mean, variance, err := FusedBatchNormReluConv2D(x, sc, of, w, 1e-3, co); err == nil {
				checkOut("FusedBatchNormReluConv2D", y, k, st, dil)
				if _, _, _, _, err := FusedBatchNormReluConv2DGrad(tensor.Ones(y.Shape()...), x, sc, of, w, mean, variance, 1e-3, co); err != nil {
					t.Fatalf("FusedBatchNormReluConv2DGrad after FusedBatchNormReluConv2D: %v", err)
				}
			}
		}
	})
}
