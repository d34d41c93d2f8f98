package layers

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// Regularizer turns a weight into a penalty added to the training loss
// (Keras's kernel_regularizer and bias_regularizer).
type Regularizer interface {
	// Loss returns the penalty for w as a scalar Var.
	Loss(w *autograd.Var) *autograd.Var
}

// L1L2 is Keras's L1L2 regularizer: L1·Σ|w| + L2·Σw². Its gradient is
// L1·sign(w) + 2·L2·w (0 for the L1 part at w = 0, as TF's sign).
type L1L2 struct {
	L1, L2 float32
}

// L1 is Keras's l1 regularizer (default factor 0.01): L1L2{L1: factor}.
func L1(factor float32) L1L2 { return L1L2{L1: factor} }

// L2 is Keras's l2 regularizer (default factor 0.01): L1L2{L2: factor}.
func L2(factor float32) L1L2 { return L1L2{L2: factor} }

// Loss returns L1·Σ|w| + L2·Σw² as a scalar.
func (r L1L2) Loss(w *autograd.Var) *autograd.Var {
	if w.Err() != nil {
		return w
	}
	var terms []*autograd.Var
	if r.L1 != 0 {
		terms = append(terms, autograd.Scale(autograd.ReduceSum(autograd.Abs(w)), r.L1))
	}
	if r.L2 != 0 {
		terms = append(terms, autograd.Scale(autograd.ReduceSum(autograd.Mul(w, w)), r.L2))
	}
	switch len(terms) {
	case 0:
		return autograd.Constant(tensor.Zeros())
	case 1:
		return terms[0]
	}
	return autograd.Add(terms[0], terms[1])
}

// RegularizerByName returns Keras's regularizer of that name with its
// default factor 0.01: "l1", "l2", "l1_l2" (both 0.01). "" gives nil.
func RegularizerByName(name string) (Regularizer, error) {
	switch name {
	case "":
		return nil, nil
	case "l1":
		return L1(0.01), nil
	case "l2":
		return L2(0.01), nil
	case "l1_l2":
		return L1L2{L1: 0.01, L2: 0.01}, nil
	}
	return nil, fmt.Errorf("layers: unknown regularizer %q, want \"l1\", \"l2\" or \"l1_l2\"", name)
}

// regularize returns the penalties of [kernel, bias] (bias optional).
func regularize(vars []*autograd.Var, kernel, bias Regularizer) []*autograd.Var {
	var out []*autograd.Var
	if len(vars) > 0 && kernel != nil {
		out = append(out, kernel.Loss(vars[0]))
	}
	if len(vars) > 1 && bias != nil {
		out = append(out, bias.Loss(vars[1]))
	}
	return out
}

// Regularized is a layer whose weights carry regularizers.
type Regularized interface {
	// Losses returns the penalties of the current weights, to be added to
	// the training loss.
	Losses() []*autograd.Var
}
