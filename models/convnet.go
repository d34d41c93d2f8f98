// Package models holds convnet's ready-made networks, built from layers.
package models

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/layers"
)

// ConvNetName identifies the lecture's ConvNet in checkpoint metadata.
const ConvNetName = "cs20-lecture-convnet"

// ConvNet's input and output sizes: 28×28×1 MNIST images, 10 classes.
const (
	ImageSize = 28
	Classes   = 10
)

// LectureDropout is the lecture's drop rate: keep_prob 0.75, so 0.25 of the
// fc activations are dropped while training.
const LectureDropout = 0.25

// Initialisation schemes for ConvNetConfig.Init.
const (
	// InitGlorot is Keras's default: Glorot-uniform kernels, zero biases.
	InitGlorot = "glorot"
	// InitLecture is the lecture code's: truncated-normal (σ = 1, redrawn
	// beyond 2σ) kernels everywhere, standard-normal conv biases
	// (tf.random_normal_initializer) and zero dense biases
	// (tf.constant_initializer(0.0)).
	InitLecture = "lecture"
)

// ConvNetConfig configures NewConvNet.
type ConvNetConfig struct {
	// Init is InitGlorot (also "") or InitLecture.
	Init string
	// DropoutRate is the fraction of fc activations dropped while
	// training, in [0, 1); the lecture uses LectureDropout.
	DropoutRate float32
	// Seed seeds the initial weights and the dropout masks.
	Seed uint64
	// Input is the image shape [H, W, C]; zero is MNIST's [28, 28, 1].
	// The two pools halve H and W (flooring), so fc's kernel is
	// [⌊⌊H/2⌋/2⌋·⌊⌊W/2⌋/2⌋·64, 1024].
	Input [3]int
	// Classes is the number of logits; 0 is 10.
	Classes int
}

// NewConvNet returns the lecture's MNIST network, built for [N, 28, 28, 1]
// inputs and returning [N, 10] logits (other sizes through c.Input and
// c.Classes):
//
//	conv1   5×5×32 SAME, ReLU   [N, 28, 28, 32]   conv1/kernel [5,5,1,32], conv1/bias [32]
//	pool1   max 2×2 stride 2    [N, 14, 14, 32]
//	conv2   5×5×64 SAME, ReLU   [N, 14, 14, 64]   conv2/kernel [5,5,32,64], conv2/bias [64]
//	pool2   max 2×2 stride 2    [N, 7, 7, 64]
//	flatten                     [N, 3136]
//	fc      dense 1024, ReLU    [N, 1024]         fc/kernel [3136,1024], fc/bias [1024]
//	dropout rate DropoutRate    [N, 1024]         (only while training)
//	logits  dense 10            [N, 10]           logits/kernel [1024,10], logits/bias [10]
//
// Unlike the lecture's code, dropout is off outside training and its
// argument is the drop rate, not keep_prob.
func NewConvNet(c ConvNetConfig) (*layers.Sequential, error) {
	var convK, convB, denseK, denseB initializers.Initializer
	switch c.Init {
	case InitGlorot, "":
		// nil: the layers' defaults, GlorotUniform and Zeros.
	case InitLecture:
		convK = initializers.TruncatedNormal{Mean: 0, Stddev: 1}
		convB = initializers.RandomNormal{Mean: 0, Stddev: 1}
		denseK = initializers.TruncatedNormal{Mean: 0, Stddev: 1}
		denseB = initializers.Zeros{}
	default:
		return nil, fmt.Errorf("models: unknown init %q, want %q or %q", c.Init, InitGlorot, InitLecture)
	}
	if c.Input == ([3]int{}) {
		c.Input = [3]int{ImageSize, ImageSize, 1}
	}
	if c.Classes == 0 {
		c.Classes = Classes
	}
	if c.Input[0] < 4 || c.Input[1] < 4 || c.Input[2] < 1 || c.Classes < 1 {
		return nil, fmt.Errorf("models: ConvNet input %v and %d classes, want H, W ≥ 4, C ≥ 1 and at least one class", c.Input, c.Classes)
	}
	if !(c.DropoutRate >= 0 && c.DropoutRate < 1) {
		return nil, fmt.Errorf("models: dropout rate must be in [0, 1), got %v", c.DropoutRate)
	}
	conv := func(name string, filters int) layers.Layer {
		return layers.NewConv2D(name, layers.Conv2DConfig{
			Filters: filters, KernelSize: []int{5, 5}, Padding: "SAME",
			Activation: autograd.Relu, KernelInitializer: convK, BiasInitializer: convB, Seed: c.Seed,
		})
	}
	pool := func(name string) layers.Layer {
		return layers.NewMaxPooling2D(name, layers.PoolConfig{PoolSize: []int{2, 2}, Strides: []int{2, 2}, Padding: "VALID"})
	}
	m := layers.NewSequential(
		conv("conv1", 32),
		pool("pool1"),
		conv("conv2", 64),
		pool("pool2"),
		layers.NewFlatten("flatten"),
		layers.NewDense("fc", layers.DenseConfig{Units: 1024, Activation: autograd.Relu,
			KernelInitializer: denseK, BiasInitializer: denseB, Seed: c.Seed}),
		layers.NewDropout("dropout", c.DropoutRate, c.Seed),
		layers.NewDense("logits", layers.DenseConfig{Units: c.Classes,
			KernelInitializer: denseK, BiasInitializer: denseB, Seed: c.Seed}),
	)
	if err := m.Build([]int{1, c.Input[0], c.Input[1], c.Input[2]}); err != nil {
		return nil, err
	}
	return m, nil
}
