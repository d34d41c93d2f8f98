package layers

import (
	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// Network is a whole model as training, evaluation, checkpoints and
// serving use it: one input batch [N, input shape...] in, one output
// [N, output shape...] out. *Sequential and the functional *Model (with
// one input and one output) both satisfy it.
type Network interface {
	// Name returns the model's name.
	Name() string
	// Call runs the model on x; ctx.Training turns dropout on and makes
	// batch normalization use and update batch statistics. Errors travel
	// in the result.
	Call(x *autograd.Var, ctx Context) *autograd.Var
	// Build builds the model for inputs of the given shape (batch first),
	// or, built already, checks that the shape is the one it was built
	// for.
	Build(inputShape []int) error
	// OutputShape returns the output shape for an input shape (batch
	// first).
	OutputShape(inputShape []int) ([]int, error)
	// Variables returns the trainable weights, the ones an optimizer
	// updates, in a fixed order.
	Variables() []*autograd.Var
	// NonTrainable returns the weights a forward pass updates itself
	// (batch norm's moving statistics).
	NonTrainable() []*autograd.Var
	// AllWeights returns every weight in Keras's model.weights order.
	AllWeights() []*autograd.Var
	// Weights returns every weight's live value by name (trainable and
	// not), what a checkpoint stores.
	Weights() map[string]*tensor.Tensor
	// SetWeights copies values into the weights by name; on error nothing
	// changes.
	SetWeights(values map[string]*tensor.Tensor) error
	// Losses returns the regularization penalties of the current weights
	// (Keras's model.losses), scalars to add to the training loss.
	Losses() []*autograd.Var
}

var (
	_ Network = (*Sequential)(nil)
	_ Network = (*Model)(nil)
)
