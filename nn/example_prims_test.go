package nn_test

import (
	"fmt"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// A per-channel vector [C] broadcasts over an [N, C] batch; SumToShape
// takes the result's gradient back to the vector's shape.
func ExampleMul() {
	x := tensor.Must(tensor.New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}))
	scale := tensor.Must(tensor.New([]int{3}, []float32{1, 10, 100}))
	y, err := nn.Mul(x, scale)
	if err != nil {
		fmt.Println(err)
		return
	}
	dScale, _, err := nn.MulGrad(tensor.Ones(2, 3), scale, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape(), y.Data())
	fmt.Println(dScale.Shape(), dScale.Data())
	_, err = nn.Add(x, tensor.Zeros(2))
	fmt.Println(err)
	// Output:
	// [2 3] [1 20 300 4 50 600]
	// [3] [5 7 9]
	// nn: Add: shapes [2 3] and [2] do not broadcast: dim 1 from the end is 3 and 2 (want equal, or one of them 1)
}

// The three modes of tf.pad on a row [1 2 3], two cells each side.
func ExamplePad() {
	x := tensor.Must(tensor.New([]int{3}, []float32{1, 2, 3}))
	for _, mode := range []string{"CONSTANT", "REFLECT", "SYMMETRIC"} {
		y, err := nn.Pad(x, [][2]int{{2, 2}}, mode, 0)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(mode, y.Data())
	}
	// Output:
	// CONSTANT [0 0 1 2 3 0 0]
	// REFLECT [3 2 1 2 3 2 1]
	// SYMMETRIC [2 1 1 2 3 3 2]
}
