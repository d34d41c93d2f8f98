// Package layers provides Keras style layers on top of autograd, with
// Keras's names, arguments, defaults and weight names: Conv1D, Conv2D,
// Conv3D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, max and
// average pooling in 1–3 dimensions, global pooling, BatchNormalization,
// Dense, Dropout, SpatialDropout2D, Flatten, Reshape, ZeroPadding2D,
// UpSampling2D, Activation, ReLU, LeakyReLU and the merges (Add,
// Subtract, Multiply, Average, Maximum, Concatenate). Models are a
// Sequential (itself a Layer) or a functional Model (Input, Apply,
// ApplyN, NewModel); a custom layer embeds Base.
//
// Shape legend: N batch, H height, W width, C input channels, K filters
// (output channels), D features. Images are NHWC, conv kernels HWIO
// ([KH, KW, C, K]), dense kernels [D_in, D_out] — TensorFlow's layouts, so
// weights move between convnet and TensorFlow unchanged.
//
// A layer's variables are named by its scope, as tf.variable_scope does:
// a Conv2D named "conv1" owns "conv1/kernel" and "conv1/bias". Layers are
// built lazily on their first Call from the input's shape (like Keras), or
// eagerly with Build. Building or calling a layer needs no error check:
// a bad configuration or shape yields a Var carrying the error, which
// autograd propagates to the end of the forward pass and to Gradient.
//
// Every random thing is seeded: a layer's initial values come from its
// Seed and its variable names, and Dropout's mask from its Seed, its name
// and the global step in Context, so a resumed training run repeats the
// same masks bit for bit.
package layers

import (
	"fmt"
	"hash/fnv"
	"reflect"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/tensor"
)

// Context is what a forward pass needs besides its input.
type Context struct {
	// Training is Keras's training flag: it turns dropout on and makes
	// batch normalization use (and fold into its moving statistics) the
	// batch's own mean and variance.
	Training bool
	// Step is the global training step; Dropout derives its mask seed
	// from it.
	Step int64
}

// Layer is one layer of a network.
type Layer interface {
	// Name returns the layer's scope, e.g. "conv1".
	Name() string
	// Build creates the layer's variables for inputs of the given shape
	// (batch dimension first; its value is not used). Building a built
	// layer again is a no-op when the shape agrees and an error when not.
	Build(inputShape []int) error
	// OutputShape returns the shape of the layer's output for an input of
	// the given shape, without building the layer.
	OutputShape(inputShape []int) ([]int, error)
	// Call applies the layer to x, building it first from x's shape when
	// needed. Errors travel in the returned Var.
	Call(x *autograd.Var, ctx Context) *autograd.Var
	// Variables returns the layer's trainable variables in a fixed order
	// (kernel, then bias); nil before the layer is built.
	Variables() []*autograd.Var
}

// Activation is an elementwise function applied to a layer's output, such
// as autograd.Relu. A nil Activation is the identity.
type Activation func(*autograd.Var) *autograd.Var

// newVariable returns the variable scope/name of the given shape filled
// by init, from a generator seeded with seed and the variable's full name.
func newVariable(scope, name string, shape []int, init initializers.Initializer, seed uint64) *autograd.Var {
	full := scope + "/" + name
	t := tensor.Zeros(shape...)
	init.Init(t, tensor.NewRand(DeriveSeed(seed, full)))
	return autograd.Variable(full, t)
}

// DeriveSeed mixes a seed with a name and optional counters (such as the
// global step) into a new, well-spread seed with splitmix64. The same
// inputs always give the same seed.
func DeriveSeed(seed uint64, name string, counters ...int64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	s := splitmix64(seed ^ h.Sum64())
	for _, c := range counters {
		s = splitmix64(s ^ splitmix64(uint64(c)))
	}
	return s
}

// splitmix64 is the output function of Vigna's SplitMix64 generator.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// pair expands a 1- or 2-value spatial parameter (nil → def, def) for
// error messages and shape arithmetic.
func pair(name string, v []int, def int) ([2]int, error) {
	switch len(v) {
	case 0:
		return [2]int{def, def}, nil
	case 1:
		if v[0] < 1 {
			break
		}
		return [2]int{v[0], v[0]}, nil
	case 2:
		if v[0] < 1 || v[1] < 1 {
			break
		}
		return [2]int{v[0], v[1]}, nil
	}
	return [2]int{}, fmt.Errorf("%s must be one or two positive values, got %v", name, v)
}

// padding normalises a layer padding argument: "" is VALID, as in Keras.
func padding(p string) (string, error) {
	switch p {
	case "", "VALID", "valid":
		return "VALID", nil
	case "SAME", "same":
		return "SAME", nil
	}
	return "", fmt.Errorf("padding must be \"SAME\" or \"VALID\", got %q", p)
}

// shapeOf returns x's shape, or nil when x carries an error.
func shapeOf(x *autograd.Var) []int {
	if x == nil || x.Err() != nil {
		return nil
	}
	return x.Shape()
}

// biasThen returns act(BiasAdd(y, bias)), as one autograd.BiasAddRelu
// node when act is autograd.Relu (same value and gradients, fewer passes
// over memory).
func biasThen(act Activation, y, bias *autograd.Var) *autograd.Var {
	if isRelu(act) {
		return autograd.BiasAddRelu(y, bias, "")
	}
	return apply(act, autograd.BiasAdd(y, bias, ""))
}

// reluPC identifies autograd.Relu among Activation values.
var reluPC = reflect.ValueOf(autograd.Relu).Pointer()

// isRelu reports whether act is autograd.Relu, for which the layers run
// fused ops.
func isRelu(act Activation) bool {
	return act != nil && reflect.ValueOf(act).Pointer() == reluPC
}

// apply applies act when it is non-nil.
func apply(act Activation, x *autograd.Var) *autograd.Var {
	if act == nil {
		return x
	}
	return act(x)
}
