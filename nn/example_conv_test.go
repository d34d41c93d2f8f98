package nn_test

import (
	"fmt"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// The lecture's example: a 5x5 binary image and the 3x3 kernel
// [[1,0,1],[0,1,0],[1,0,1]] slid over it without padding.
func ExampleConv2D() {
	image := tensor.Must(tensor.New([]int{1, 5, 5, 1}, []float32{
		1, 1, 1, 0, 0,
		0, 1, 1, 1, 0,
		0, 0, 1, 1, 1,
		0, 0, 1, 1, 0,
		0, 1, 1, 0, 0,
	}))
	kernel := tensor.Must(tensor.New([]int{3, 3, 1, 1}, []float32{
		1, 0, 1,
		0, 1, 0,
		1, 0, 1,
	}))
	y, err := nn.Conv2D(image, kernel, nn.ConvOptions{Strides: []int{1, 1, 1, 1}, Padding: "VALID"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape(), y.Data())
	// Output: [1 3 3 1] [4 3 4 2 4 3 2 3 4]
}

// SAME padding keeps ⌈in/stride⌉ cells; with an even kernel the extra
// padding cell goes after, so the last output sees one real cell.
func ExampleConv1D() {
	x := tensor.Must(tensor.New([]int{1, 4, 1}, []float32{1, 2, 3, 4}))
	w := tensor.Must(tensor.New([]int{2, 1, 1}, []float32{1, 10}))
	y, err := nn.Conv1D(x, w, nn.ConvOptions{Padding: "SAME"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Data())
	// Output: [21 32 43 4]
}

// The gradient of y = Σ_i (x[i] − x[i+2])·g[i] with respect to x and to
// the filter [1, 0, −1].
func ExampleConv1DBackpropInput() {
	x := tensor.Must(tensor.New([]int{1, 5, 1}, []float32{1, 2, 4, 8, 16}))
	w := tensor.Must(tensor.New([]int{3, 1, 1}, []float32{1, 0, -1}))
	g := tensor.Must(tensor.New([]int{1, 3, 1}, []float32{1, 10, 100}))
	o := nn.ConvOptions{Padding: "VALID"}
	dx, err := nn.Conv1DBackpropInput(x.Shape(), w, g, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	dw, err := nn.Conv1DBackpropFilter(x, w.Shape(), g, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(dx.Data(), dw.Data())
	// Output: [1 10 99 -10 -100] [421 842 1684]
}

// Each channel gets its own filters; output channel c·M + m.
func ExampleDepthwiseConv2D() {
	x := tensor.Must(tensor.New([]int{1, 1, 1, 2}, []float32{1, 10}))
	w := tensor.Must(tensor.New([]int{1, 1, 2, 2}, []float32{1, 2, 3, 4})) // [KH, KW, C, M]
	y, err := nn.DepthwiseConv2D(x, w, nn.ConvOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape(), y.Data())
	// Output: [1 1 1 4] [1 2 30 40]
}

// A stride-2 transposed convolution with a 2x2 filter of ones copies each
// input cell into a 2x2 block.
func ExampleConv2DTranspose() {
	x := tensor.Must(tensor.New([]int{1, 2, 2, 1}, []float32{1, 2, 3, 4}))
	y, err := nn.Conv2DTranspose(x, tensor.Ones(2, 2, 1, 1), []int{1, 4, 4, 1}, nn.ConvOptions{Strides: []int{2}, Padding: "VALID"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < 4; i++ {
		fmt.Println(y.Data()[4*i : 4*i+4])
	}
	// Output:
	// [1 1 2 2]
	// [1 1 2 2]
	// [3 3 4 4]
	// [3 3 4 4]
}

// Validation quotes what it received.
func ExampleConv2D_error() {
	_, err := nn.Conv2D(tensor.Zeros(1, 28, 28, 1), tensor.Zeros(5, 5, 3, 32), nn.ConvOptions{Padding: "SAME"})
	fmt.Println(err)
	// Output: nn.Conv2D: input [1 28 28 1] has 1 channels but filter [5 5 3 32] expects 3
}
