package layers_test

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/tensor"
)

func ExampleSequential() {
	m := layers.NewSequential(
		layers.NewConv2D("conv1", layers.Conv2DConfig{Filters: 8, KernelSize: []int{3}, Padding: "SAME", Activation: autograd.Relu}),
		layers.NewMaxPooling2D("pool1", layers.PoolConfig{PoolSize: []int{2}}),
		layers.NewFlatten("flatten"),
		layers.NewDense("logits", layers.DenseConfig{Units: 10}),
	)
	// The first call builds every layer from the input's shape.
	logits := m.Call(autograd.Constant(tensor.Zeros(4, 28, 28, 1)), layers.Context{})
	if err := logits.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("logits", logits.Value().Shape())
	for _, v := range m.Variables() {
		fmt.Println(v.Name(), v.Value().Shape())
	}
	// Output:
	// logits [4 10]
	// conv1/kernel [3 3 1 8]
	// conv1/bias [8]
	// logits/kernel [1568 10]
	// logits/bias [10]
}
