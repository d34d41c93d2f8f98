package autograd_test

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// Build loss = mean(w·w + 3w) from a variable, then ask for ∂loss/∂w =
// (2w + 3)/n. The Var is used twice by Mul and once by Scale: the
// gradients of all three uses are summed.
func Example() {
	w := autograd.Variable("w", tensor.Must(tensor.New([]int{2}, []float32{1, -2})))
	unused := autograd.Variable("unused", tensor.Zeros(1))
	loss := autograd.ReduceMean(autograd.Add(autograd.Mul(w, w), autograd.Scale(w, 3)))
	grads, err := autograd.Gradient(loss, w, unused)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("loss:", loss.Value().Data()[0])
	fmt.Println("dw:", grads[0].Data())
	fmt.Println("unused:", grads[1])
	// Output:
	// loss: 1
	// dw: [2.5 -0.5]
	// unused: <nil>
}

// Errors are sticky: a bad op in the middle of a chain surfaces at
// Gradient, without an error check per op.
func Example_stickyError() {
	a := autograd.Variable("a", tensor.Zeros(3))
	b := autograd.Variable("b", tensor.Zeros(2))
	loss := autograd.ReduceSum(autograd.Scale(autograd.Add(a, b), 2))
	_, err := autograd.Gradient(loss, a, b)
	fmt.Println(err)
	// Output:
	// autograd: Add: nn: Add: shapes [3] and [2] do not broadcast: dim 1 from the end is 3 and 2 (want equal, or one of them 1)
}

// A training loop keeps one Workspace: each step's gradients are valid
// until its Reset, which hands the step's activations and gradients to
// the next step; values obtained with Value stay the caller's.
func ExampleWorkspace() {
	w := autograd.Variable("w", tensor.Must(tensor.New([]int{2}, []float32{1, -2})))
	var ws autograd.Workspace
	for step := 0; step < 2; step++ {
		loss := autograd.ReduceSum(autograd.Relu(autograd.Scale(w, 2)))
		grads, err := ws.Gradient(loss, w)
		if err != nil {
			fmt.Println(err)
			return
		}
		l := loss.Value()
		for i, g := range grads[0].Data() { // SGD, lr 0.25
			w.Value().Data()[i] -= 0.25 * g
		}
		w.Value().MarkChanged() // written in place: see Variable
		ws.Reset()              // grads are no longer valid; l still is
		fmt.Println("step", step, "loss", l.Data()[0], "w", w.Value().Data(), "loss Var released:", loss.Err() != nil)
	}
	// Output:
	// step 0 loss 2 w [0.5 -2] loss Var released: true
	// step 1 loss 1 w [0 -2] loss Var released: true
}

// A training step reads what it needs from the graph, then releases it:
// the next step's activations reuse its memory, and the released Vars
// refuse further use instead of exposing recycled data.
func ExampleRelease() {
	w := autograd.Variable("w", tensor.Must(tensor.New([]int{2}, []float32{1, -2})))
	for step := 0; step < 2; step++ {
		y := autograd.Relu(autograd.Scale(w, 2))
		loss := autograd.ReduceSum(y)
		grads, err := autograd.Gradient(loss, w)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("step", step, "loss", loss.Value().Data()[0], "dw", grads[0].Data())
		autograd.Release(loss)
		fmt.Println("y after Release:", y.Value(), y.Err() != nil)
	}
	// Output:
	// step 0 loss 2 dw [2 0]
	// y after Release: <nil> true
	// step 1 loss 2 dw [2 0]
	// y after Release: <nil> true
}

// A custom op: y = x³ computed by the caller, with a backward that
// returns ∂loss/∂x = 3x²·g. Gradient adds it into x's gradient like any
// built-in op's, here beside a second path through Add.
func ExampleCustom() {
	x := autograd.Variable("x", tensor.Must(tensor.New([]int{3}, []float32{1, -2, 0.5})))
	xv := x.Value()
	y := tensor.Zeros(3)
	for i, v := range xv.Data() {
		y.Data()[i] = v * v * v
	}
	cube := autograd.Custom("Cube", y, []*autograd.Var{x}, func(g *tensor.Tensor) ([]*tensor.Tensor, error) {
		dx := tensor.Zeros(3)
		for i, v := range xv.Data() {
			dx.Data()[i] = 3 * v * v * g.Data()[i]
		}
		return []*tensor.Tensor{dx}, nil
	})
	loss := autograd.ReduceSum(autograd.Add(cube, x)) // Σ x³ + x
	grads, err := autograd.Gradient(loss, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("value:", cube.Value().Data(), "inputs:", len(cube.Inputs()), cube.Name())
	fmt.Println("dx:", grads[0].Data()) // 3x² + 1
	// Output:
	// value: [1 -8 0.125] inputs: 1 Cube
	// dx: [4 13 1.75]
}

// Broadcasting: a per-channel scale [C] times an [N, C] batch; the
// scale's gradient is summed over the batch.
func ExampleMul_broadcast() {
	x := autograd.Constant(tensor.Must(tensor.New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})))
	s := autograd.Variable("scale", tensor.Must(tensor.New([]int{3}, []float32{1, 10, 100})))
	y := autograd.Mul(x, s)
	grads, err := autograd.Gradient(autograd.ReduceSum(y), s)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Value().Shape(), y.Value().Data())
	fmt.Println("dscale:", grads[0].Data())
	// Output:
	// [2 3] [1 20 300 4 50 600]
	// dscale: [5 7 9]
}
