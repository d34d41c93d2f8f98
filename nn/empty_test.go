package nn

import (
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestEmptyOutputs: where TF's output size (in − F + s)/s is 0, forward
// ops return an empty tensor of the right shape and gradient ops return
// zeros of the input's or filter's shape (nothing flowed back), as TF
// does, instead of an error or a crash.
func TestEmptyOutputs(t *testing.T) {
	ones := func(shape ...int) *tensor.Tensor { return tensor.Full(1, shape...) }
	valid := ConvOptions{Padding: "VALID"}
	s2 := ConvOptions{Padding: "VALID", Strides: []int{2}}
	for _, tc := range []struct {
		name string
		run  func() (*tensor.Tensor, error)
		want []int
	}{
		// in 2, k 3, s 2: (2 − 3 + 2)/2 = 0.
		{"conv2d stride 2", func() (*tensor.Tensor, error) { return Conv2D(ones(1, 2, 5, 1), ones(3, 3, 1, 4), s2) }, []int{1, 0, 2, 4}},
		{"conv2d stride 1", func() (*tensor.Tensor, error) { return Conv2D(ones(2, 2, 2, 3), ones(3, 3, 3, 4), valid) }, []int{2, 0, 0, 4}},
		{"conv1d", func() (*tensor.Tensor, error) { return Conv1D(ones(1, 4, 2), ones(5, 2, 3), valid) }, []int{1, 0, 3}},
		{"conv3d", func() (*tensor.Tensor, error) { return Conv3D(ones(1, 3, 3, 3, 1), ones(2, 2, 4, 1, 2), valid) }, []int{1, 2, 2, 0, 2}},
		{"depthwise", func() (*tensor.Tensor, error) { return DepthwiseConv2D(ones(1, 3, 5, 2), ones(4, 3, 2, 2), valid) }, []int{1, 0, 3, 4}},
		{"explicit", func() (*tensor.Tensor, error) {
			return Conv2D(ones(1, 1, 4, 1), ones(3, 3, 1, 1), ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{1, 0}, {0, 0}}})
		}, []int{1, 0, 2, 1}},
		{"max pool", func() (*tensor.Tensor, error) {
			return MaxPool(ones(1, 3, 5, 1), PoolOptions{KSize: []int{4, 2}, Strides: []int{2, 2}, Padding: "VALID"})
		}, []int{1, 0, 2, 1}},
		{"avg pool", func() (*tensor.Tensor, error) {
			return AvgPool(ones(1, 3, 1), PoolOptions{KSize: []int{4}, Strides: []int{3}, Padding: "VALID"})
		}, []int{1, 0, 1}},
		{"conv2d backprop input", func() (*tensor.Tensor, error) {
			return Conv2DBackpropInput([]int{1, 2, 5, 1}, ones(3, 3, 1, 4), ones(1, 0, 2, 4), s2)
		}, []int{1, 2, 5, 1}},
		{"conv2d backprop filter", func() (*tensor.Tensor, error) {
			return Conv2DBackpropFilter(ones(1, 2, 5, 1), []int{3, 3, 1, 4}, ones(1, 0, 2, 4), s2)
		}, []int{3, 3, 1, 4}},
		{"depthwise backprop input", func() (*tensor.Tensor, error) {
			return DepthwiseConv2DBackpropInput([]int{1, 3, 5, 2}, ones(4, 3, 2, 2), ones(1, 0, 3, 4), valid)
		}, []int{1, 3, 5, 2}},
		{"depthwise backprop filter", func() (*tensor.Tensor, error) {
			return DepthwiseConv2DBackpropFilter(ones(1, 3, 5, 2), []int{4, 3, 2, 2}, ones(1, 0, 3, 4), valid)
		}, []int{4, 3, 2, 2}},
		{"max pool grad", func() (*tensor.Tensor, error) {
			return MaxPoolGrad(ones(1, 3, 5, 1), ones(1, 0, 2, 1), PoolOptions{KSize: []int{4, 2}, Strides: []int{2, 2}, Padding: "VALID"})
		}, []int{1, 3, 5, 1}},
		{"avg pool grad", func() (*tensor.Tensor, error) {
			return AvgPoolGrad([]int{1, 3, 1}, ones(1, 0, 1), PoolOptions{KSize: []int{4}, Strides: []int{3}, Padding: "VALID"})
		}, []int{1, 3, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := call(t, tc.name, tc.run)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), tc.want) {
				t.Fatalf("shape %v, want %v", y.Shape(), tc.want)
			}
			for i, v := range y.Data() {
				if v != 0 {
					t.Fatalf("value %d is %v; nothing flows through an empty output", i, v)
				}
			}
		})
	}
}
