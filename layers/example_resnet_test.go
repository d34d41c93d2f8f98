package layers_test

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// toyBatch returns 16 random 8×8×3 images, labelled 1 when their mean is
// positive.
func toyBatch() (*tensor.Tensor, []int) {
	x := tensor.Zeros(16, 8, 8, 3)
	x.RandUniform(tensor.NewRand(1), -1, 1.05)
	labels := make([]int, 16)
	for n := range labels {
		var s float32
		for _, v := range x.Data()[n*192 : (n+1)*192] {
			s += v
		}
		if s > 0 {
			labels[n] = 1
		}
	}
	return x, labels
}

// A residual network (conv → BN → ReLU → conv → BN, plus the skip
// connection, global average pooling, dense) trained for a few Adam
// steps. README.md quotes this example.
func Example_residualNetwork() {
	cc := layers.ConvConfig{Filters: 8, KernelSize: []int{3}, Padding: "SAME", NoBias: true, Seed: 1}
	conv := func(name string) layers.Layer { return layers.NewConv2D(name, cc) }
	bn := func(name string) layers.Layer { return layers.NewBatchNormalization(name, layers.BatchNormConfig{}) }
	in := layers.Input("image", 8, 8, 3)
	h := layers.Apply(layers.NewReLU("relu0"), layers.Apply(bn("bn0"), layers.Apply(conv("conv0"), in)))
	y := layers.Apply(layers.NewReLU("relu1"), layers.Apply(bn("bn1"), layers.Apply(conv("conv1"), h)))
	y = layers.Apply(bn("bn2"), layers.Apply(conv("conv2"), y))
	y = layers.Apply(layers.NewReLU("relu2"), layers.ApplyN(layers.NewAdd("skip"), y, h))
	y = layers.Apply(layers.NewDense("logits", layers.DenseConfig{Units: 2, Seed: 1}), layers.Apply(layers.NewGlobalAveragePooling2D("gap"), y))
	model, err := layers.NewModel("resnet", []*layers.Node{in}, []*layers.Node{y})
	if err != nil {
		fmt.Println(err)
		return
	}
	x, labels := toyBatch()
	opt := optim.NewAdam(optim.AdamConfig{LR: 0.01})
	for step := range 6 {
		logits := model.Call(autograd.Constant(x), layers.Context{Training: true, Step: int64(step)})
		loss := autograd.ReduceMean(autograd.SparseSoftmaxCrossEntropyWithLogits(labels, logits))
		grads, err := autograd.Gradient(loss, model.Variables()...)
		if err == nil {
			err = opt.Step(model.Variables(), grads)
		}
		fmt.Printf("step %d: loss %.2f %v\n", step, loss.Value().Data()[0], err)
	}
	// Output:
	// step 0: loss 0.85 <nil>
	// step 1: loss 0.70 <nil>
	// step 2: loss 0.58 <nil>
	// step 3: loss 0.47 <nil>
	// step 4: loss 0.39 <nil>
	// step 5: loss 0.33 <nil>
}
