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
