package layers_test

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
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

// residualDense is a custom layer: y = x + relu(x·kernel + bias) for
// x [N, D]. Embedding layers.Base gives it Name, Variables, NonTrainable,
// seeded weights and build-once; the layer itself is only its math.
type residualDense struct {
	layers.Base
	kernel, bias *autograd.Var
}

func (l *residualDense) Build(in []int) error {
	return l.BuildOnce(in, func(in []int) error {
		if len(in) != 2 {
			return fmt.Errorf("residualDense %s: input must be [N, D], got %v", l.Name(), in)
		}
		l.kernel = l.AddWeight("kernel", []int{in[1], in[1]}, initializers.GlorotUniform{}, true)
		l.bias = l.AddWeight("bias", []int{in[1]}, initializers.Zeros{}, true)
		return nil
	})
}

func (l *residualDense) OutputShape(in []int) ([]int, error) { return in, nil }

func (l *residualDense) Call(x *autograd.Var, _ layers.Context) *autograd.Var {
	return autograd.Add(x, autograd.Relu(autograd.BiasAdd(autograd.MatMul(x, l.kernel, false, false), l.bias, "")))
}

func ExampleBase() {
	in := layers.Input("features", 4)
	h := layers.Apply(&residualDense{Base: layers.NewBase("res", 1)}, in)
	out := layers.Apply(layers.NewDense("logits", layers.DenseConfig{Units: 2, Seed: 1}), h)
	m, err := layers.NewModel("custom", []*layers.Node{in}, []*layers.Node{out})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range m.Variables() {
		fmt.Println(v.Name(), v.Value().Shape())
	}
	y := m.Call(autograd.Constant(tensor.Ones(3, 4)), layers.Context{})
	fmt.Println("output", y.Value().Shape(), y.Err())
	// Output:
	// res/kernel [4 4]
	// res/bias [4]
	// logits/kernel [4 2]
	// logits/bias [2]
	// output [3 2] <nil>
}
