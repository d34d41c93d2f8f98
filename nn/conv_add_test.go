package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestConv2DBackpropInputAddMatchesTwoOps: Conv2DBackpropInputAdd gives
// the bits of Conv2DBackpropInput then Add on every plan of the input
// gradient: the Winograd ones, whose output transforms add (with
// outputs stored plainly and, from 86 images of 28×28×16, streaming;
// channel counts inside and outside whole vector groups), the
// sub-pixel phases of a stride, which add as they write the rows of dx
// (a 3×3 window, and a 1×1 one whose odd rows and columns take no tap
// and so are add's own), a 1×1 product, the col2im path of a
// 5×5 window with few channels, and channels first. add holds −0s and
// a NaN, which the sum must carry as Add does.
func TestConv2DBackpropInputAddMatchesTwoOps(t *testing.T) {
	for _, tc := range []struct {
		in, filter []int
		o          ConvOptions
	}{
		{[]int{2, 12, 12, 16}, []int{3, 3, 16, 16}, ConvOptions{Padding: "SAME"}},
		{[]int{86, 28, 28, 16}, []int{3, 3, 16, 16}, ConvOptions{Padding: "SAME"}},
		{[]int{1, 14, 14, 32}, []int{3, 3, 32, 32}, ConvOptions{Padding: "SAME"}},
		{[]int{2, 13, 11, 24}, []int{3, 3, 24, 8}, ConvOptions{Padding: "VALID"}},
		{[]int{2, 14, 14, 32}, []int{5, 5, 32, 64}, ConvOptions{Padding: "SAME"}},
		{[]int{2, 9, 9, 20}, []int{3, 3, 20, 12}, ConvOptions{Padding: "SAME"}},
		{[]int{2, 12, 12, 16}, []int{3, 3, 16, 32}, ConvOptions{Padding: "SAME", Strides: []int{2, 2}}},
		{[]int{2, 8, 8, 16}, []int{1, 1, 16, 32}, ConvOptions{Padding: "VALID"}},
		{[]int{2, 12, 12, 16}, []int{1, 1, 16, 32}, ConvOptions{Padding: "VALID", Strides: []int{2, 2}}},
		{[]int{2, 10, 10, 3}, []int{5, 5, 3, 4}, ConvOptions{Padding: "SAME"}},
		{[]int{2, 16, 9, 9}, []int{3, 3, 16, 16}, ConvOptions{Padding: "SAME", DataFormat: "NCHW"}},
	} {
		t.Run(fmt.Sprint(tc.in, tc.filter, tc.o.Strides, tc.o.DataFormat), func(t *testing.T) {
			x, w := cvRand(1, tc.in...), cvRand(2, tc.filter...)
			y, err := Conv2D(x, w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			dy := cvRand(3, y.Shape()...)
			add := cvRand(4, tc.in...)
			for i := 0; i < add.Len(); i += 7 {
				add.Data()[i] = float32(math.Copysign(0, -1))
			}
			add.Data()[5] = float32(math.NaN())
			got, err := Conv2DBackpropInputAdd(x.Shape(), w, dy, add, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			dx, err := Conv2DBackpropInput(x.Shape(), w, dy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Add(dx, add)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(got.Shape(), want.Shape()) {
				t.Fatalf("shape %v, want %v", got.Shape(), want.Shape())
			}
			for i, v := range got.Data() {
				if w := want.Data()[i]; math.Float32bits(v) != math.Float32bits(w) {
					t.Fatalf("dx + add [%d] = %v (%#x), the two ops give %v (%#x)", i, v, math.Float32bits(v), w, math.Float32bits(w))
				}
			}
		})
	}
	x, w := tensor.Zeros(1, 6, 6, 8), tensor.Zeros(3, 3, 8, 8)
	dy := tensor.Zeros(1, 6, 6, 8)
	for _, tc := range []struct {
		add  *tensor.Tensor
		want string
	}{{nil, "add is nil"}, {tensor.Zeros(1, 6, 6, 4), "add has shape [1 6 6 4], want the input's [1 6 6 8]"}} {
		if _, err := Conv2DBackpropInputAdd(x.Shape(), w, dy, tc.add, ConvOptions{Padding: "SAME"}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("add %v: err = %v, want %q", tc.add, err, tc.want)
		}
	}
}
