package train_test

import (
	"fmt"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/train"
)

// ExampleChooseModel picks the built-in ResNet for 32×32 RGB images of 10
// classes: the architecture a checkpoint records for it, and the model
// rebuilt from that record alone.
func ExampleChooseModel() {
	c, err := train.ChooseModel("resnet", data.Shape{H: 32, W: 32, C: 3}, 10, 1, 0, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, c.Architecture)
	a, err := train.ParseArchitecture(c.Architecture.String())
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := a.Build(0, 0, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	// stem conv + BN (γ, β, moving mean and variance): 5; six blocks of
	// two convs and two BNs: 60; two projections (conv + BN): 10; dense
	// kernel and bias: 2.
	out, err := m.OutputShape([]int{1, 32, 32, 3})
	fmt.Println(len(m.AllWeights()), "weights, output", out, err)
	// Output:
	// convnet-resnet {"name":"convnet-resnet","input":[32,32,3],"classes":10,"stages":[16,32,64],"blocks":2}
	// 77 weights, output [1 10] <nil>
}
