package layers

import (
	"testing"

	"github.com/convnet-go/convnet/autograd"
)

// Whole functional models against the same models built with TF.js
// Layers by testdata/gen/layers.js (the ResNet with batch norm is checked
// in package models, which builds it).

type goldModelCase struct {
	Name    string       `json:"name"`
	Inputs  []goldTensor `json:"inputs"`
	Weights []goldWeight `json:"weights"`
	Output  goldTensor   `json:"output"`
}

// goldModels builds the Go twin of each generator model.
var goldModels = map[string]func() (*Model, error){
	"separable": func() (*Model, error) {
		in := Input("image", 6, 5, 3)
		a := Apply(NewSeparableConv2D("sep", ConvConfig{Filters: 4, KernelSize: []int{3}, DepthMultiplier: 2, Padding: "SAME", Activation: autograd.Relu}), in)
		b := Apply(NewDepthwiseConv2D("dw", ConvConfig{KernelSize: []int{3}, Padding: "SAME"}), in)
		x := ApplyN(NewConcatenate("cat", -1), a, b)
		x = Apply(NewConv2D("mix", ConvConfig{Filters: 3, KernelSize: []int{1}}), x)
		x = Apply(NewMaxPooling2D("pool", PoolConfig{PoolSize: []int{2}}), x)
		x = Apply(NewFlatten("flat"), x)
		out := Apply(NewDense("logits", DenseConfig{Units: 2}), x)
		return NewModel("separable", []*Node{in}, []*Node{out})
	},
	"transpose": func() (*Model, error) {
		in := Input("image", 5, 5, 2)
		x := Apply(NewConv2D("dil", ConvConfig{Filters: 3, KernelSize: []int{3}, DilationRate: []int{2}, Padding: "SAME", Activation: autograd.Relu}), in)
		x = Apply(NewConv2D("down", ConvConfig{Filters: 4, KernelSize: []int{3}, Strides: []int{2}, Padding: "SAME"}), x)
		x = Apply(NewConv2DTranspose("up", ConvConfig{Filters: 2, KernelSize: []int{3}, Strides: []int{2}, Activation: autograd.Tanh}), x)
		x = Apply(NewAveragePooling2D("pool", PoolConfig{PoolSize: []int{2}}), x)
		x = Apply(NewFlatten("flat"), x)
		out := Apply(NewDense("logits", DenseConfig{Units: 3}), x)
		return NewModel("transpose", []*Node{in}, []*Node{out})
	},
}

func TestModelsMatchTFJS(t *testing.T) {
	for _, c := range loadGold[goldModelCase](t, "models_tfjs.json") {
		build, ok := goldModels[c.Name]
		if !ok {
			continue // built in another package
		}
		t.Run(c.Name, func(t *testing.T) {
			m, err := build()
			if err != nil {
				t.Fatal(err)
			}
			layerOf := func(v *autograd.Var) string { return v.Name()[:len(v.Name())-len(scopeless(v.Name()))-1] }
			setGoldWeights(t, m.AllWeights(), c.Weights, layerOf) // fails unless the counts agree
			for i, v := range m.AllWeights() {
				if want := c.Weights[i].Layer + "/" + c.Weights[i].Name; v.Name() != want {
					t.Errorf("weight %d is %s, TF.js's model.weights has %s", i, v.Name(), want)
				}
			}
			y := m.Call(autograd.Constant(c.Inputs[0].tensor(t)), Context{})
			if y.Err() != nil {
				t.Fatal(y.Err())
			}
			t.Logf("forward: max |Go − TF.js| = %.2g", closeTo(t, "output", y.Value(), c.Output))
		})
	}
}
