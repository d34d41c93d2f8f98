package nn_test

import (
	"fmt"

	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// The lecture's pooling layer on one 4x4 single-channel image: 2x2 windows,
// stride 2.
func ExampleMaxPool() {
	x := tensor.Must(tensor.New([]int{1, 4, 4, 1}, []float32{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12,
		13, 14, 15, 16,
	}))
	y, err := nn.MaxPool(x, nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "VALID"})
	if err != nil {
		panic(err)
	}
	fmt.Println(y.Shape(), y.Data())
	// Output: [1 2 2 1] [6 8 14 16]
}

// Under SAME padding the windows that hang over the edge average only
// their real cells: the bottom-right window of a 3x3 input holds one.
func ExampleAvgPool() {
	x := tensor.Must(tensor.New([]int{1, 3, 3, 1}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}))
	o := nn.PoolOptions{KSize: []int{2}, Strides: []int{2}, Padding: "SAME"}
	y, _ := nn.AvgPool(x, o)
	fmt.Println(y.Data())
	dx, _ := nn.AvgPoolGrad(x.Shape(), tensor.Ones(y.Shape()...), o)
	fmt.Println(dx.Data())
	// Output:
	// [3 4.5 7.5 9]
	// [0.25 0.25 0.5 0.25 0.25 0.5 0.5 0.5 1]
}

// The gradient of a max pool goes to the first maximum of each window.
func ExampleMaxPoolGrad() {
	x := tensor.Must(tensor.New([]int{1, 2, 4, 1}, []float32{1, 5, 2, 2, 5, 0, 2, 2}))
	o := nn.PoolOptions{KSize: []int{2}, Strides: []int{2}}
	dx, _ := nn.MaxPoolGrad(x, tensor.Must(tensor.New([]int{1, 1, 2, 1}, []float32{10, 20})), o)
	fmt.Println(dx.Data())
	// Output: [0 10 20 0 0 0 0 0]
}

func ExampleSoftmax() {
	y, _ := nn.Softmax(tensor.Must(tensor.New([]int{3}, []float32{1, 2, 3})))
	fmt.Printf("%.4f\n", y.Data())
	// Output: [0.0900 0.2447 0.6652]
}

func ExampleSparseSoftmaxCrossEntropyWithLogits() {
	logits := tensor.Must(tensor.New([]int{2, 3}, []float32{1, 2, 3, 0, 0, 0}))
	loss, backprop, _ := nn.SparseSoftmaxCrossEntropyWithLogits([]int{2, 0}, logits)
	fmt.Printf("%.4f\n%.4f\n", loss.Data(), backprop.Data())
	_, _, err := nn.SparseSoftmaxCrossEntropyWithLogits([]int{2, 3}, logits)
	fmt.Println(err)
	// Output:
	// [0.4076 1.0986]
	// [0.0900 0.2447 -0.3348 -0.6667 0.3333 0.3333]
	// nn: SparseSoftmaxCrossEntropyWithLogits: label 3 of example 1 is outside the valid range [0, 3) for logits of shape [2 3]
}

func ExampleSigmoidCrossEntropyWithLogits() {
	labels := tensor.Must(tensor.New([]int{3}, []float32{1, 0, 1}))
	logits := tensor.Must(tensor.New([]int{3}, []float32{0, 0, 100}))
	loss, _ := nn.SigmoidCrossEntropyWithLogits(labels, logits)
	fmt.Printf("%.4f\n", loss.Data())
	// Output: [0.6931 0.6931 0.0000]
}

func ExampleMatMul() {
	a := tensor.Must(tensor.New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}))
	b := tensor.Must(tensor.New([]int{2, 3}, []float32{1, 0, 1, 0, 1, 0}))
	y, _ := nn.MatMul(a, b, false, true) // a·bᵀ
	fmt.Println(y.Shape(), y.Data())
	// Output: [2 2] [4 2 10 5]
}

func ExampleBiasAdd() {
	x := tensor.Zeros(2, 3)
	y, _ := nn.BiasAdd(x, tensor.Must(tensor.New([]int{3}, []float32{1, 2, 3})), "")
	db, _ := nn.BiasAddGrad(tensor.Ones(2, 3), "")
	fmt.Println(y.Data(), db.Data())
	// Output: [1 2 3 1 2 3] [2 2 2]
}

// Dropout keeps about 1−rate of the values, scaled by 1/(1−rate); the same
// seed gives the same mask, and outside training it is the identity.
func ExampleDropout() {
	x := tensor.Ones(1000)
	y, mask, _ := nn.Dropout(x, 0.25, 7, true)
	_, again, _ := nn.Dropout(x, 0.25, 7, true)
	values := map[float32]int{}
	same := true
	for i, v := range y.Data() {
		values[v]++
		same = same && mask.Data()[i] == again.Data()[i]
	}
	fmt.Printf("values %.4f and 0; kept about 3/4: %v; same mask for the same seed: %v\n",
		1/(1-float32(0.25)), values[0] > 200 && values[0] < 300 && values[0]+values[1/(1-float32(0.25))] == 1000, same)
	ev, evMask, _ := nn.Dropout(x, 0.25, 7, false)
	fmt.Println(ev.Data()[0], evMask == nil)
	// Output:
	// values 1.3333 and 0; kept about 3/4: true; same mask for the same seed: true
	// 1 true
}
