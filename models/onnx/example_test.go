package onnx_test

import (
	"fmt"

	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models/onnx"
	"github.com/convnet-go/convnet/tensor"
)

// A model exported to ONNX and imported again gives the same outputs.
func Example() {
	m := layers.NewSequential(
		layers.NewConv2D("conv", layers.Conv2DConfig{Filters: 2, KernelSize: []int{3}, Padding: "SAME", Seed: 1}),
		layers.NewFlatten("flatten"),
		layers.NewDense("logits", layers.DenseConfig{Units: 3, Seed: 2}),
	)
	if err := m.Build([]int{1, 4, 4, 1}); err != nil {
		panic(err)
	}
	b, err := onnx.Export(m, onnx.ExportOptions{InputShape: []int{4, 4, 1}, Name: "tiny"})
	if err != nil {
		panic(err)
	}
	g, err := onnx.Decode(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(g.InputNames(), g.InputShape(0), g.OutputNames(), g.Opset())
	out, err := g.Run(tensor.Ones(2, 4, 4, 1))
	if err != nil {
		panic(err)
	}
	fmt.Println(out[0].Shape())
	// Output:
	// [input] [-1 4 4 1] [logits] 13
	// [2 3]
}
