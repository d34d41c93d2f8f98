package optim_test

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// Minimise (w − 3)² with Adam: differentiate with autograd, then Step.
func ExampleAdam() {
	w := autograd.Variable("w", tensor.Zeros(1))
	target := autograd.Constant(tensor.Full(3, 1))
	opt := optim.NewAdam(optim.AdamConfig{LR: 0.1})
	for range 300 {
		d := autograd.Sub(w, target)
		loss := autograd.ReduceSum(autograd.Mul(d, d))
		grads, err := autograd.Gradient(loss, w)
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := opt.Step([]*autograd.Var{w}, grads); err != nil {
			fmt.Println(err)
			return
		}
	}
	slots := opt.Slots()
	fmt.Printf("w = %.3f after %d steps; slots %d (w/Adam, w/Adam_1)\n", w.Value().Data()[0], opt.Iterations(), len(slots))
	// Output:
	// w = 3.000 after 300 steps; slots 2 (w/Adam, w/Adam_1)
}
