package tensor_test

import (
	"fmt"

	"github.com/convnet-go/convnet/tensor"
)

func ExampleTensor_Reshape() {
	// A 2x3 matrix, row-major: element (i, j) is at Data()[i·3 + j].
	x := tensor.Must(tensor.New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}))
	y, err := x.Reshape(3, -1)
	if err != nil {
		panic(err)
	}
	y.Data()[0] = 10 // a view: x changes too
	fmt.Println(y.Shape(), x.Data())
	// Output: [3 2] [10 2 3 4 5 6]
}
