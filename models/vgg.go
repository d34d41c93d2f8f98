package models

import (
	"fmt"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
)

// VGGName identifies NewVGG's network in checkpoint metadata.
const VGGName = "convnet-vgg-bn"

// VGGConfig configures NewVGG. Zero fields take the defaults given.
type VGGConfig struct {
	// Input is the image shape [H, W, C] (required; every stage halves H
	// and W, flooring, so each must stay ≥ 1).
	Input [3]int
	// Classes is the number of logits (required, > 0).
	Classes int
	// Stages lists the filters of each stage; nil means [32, 64, 128].
	Stages []int
	// Convs is the number of 3×3 convolutions per stage; 0 means 2.
	Convs int
	// Units is the width of the hidden dense layer; 0 means 256.
	Units int
	// DropoutRate is the fraction of the hidden dense layer's activations
	// dropped while training, in [0, 1).
	DropoutRate float32
	// Seed seeds the initial weights and the dropout masks.
	Seed uint64
}

// NewVGG returns a small VGG-style network with batch normalisation
// (Simonyan and Zisserman 2014; Ioffe and Szegedy 2015) as a Sequential
// model from [N, H, W, C] images to [N, Classes] logits. With the
// defaults on 28×28×1 images:
//
//	s1c1, s1c2   conv 3×3 32 SAME (no bias) → BN → ReLU   [N, 28, 28, 32]
//	s1pool       max 2×2 stride 2                         [N, 14, 14, 32]
//	s2c1, s2c2   conv 3×3 64, BN, ReLU                    [N, 14, 14, 64]
//	s2pool                                                [N, 7, 7, 64]
//	s3c1, s3c2   conv 3×3 128, BN, ReLU                   [N, 7, 7, 128]
//	s3pool                                                [N, 3, 3, 128]
//	flatten                                               [N, 1152]
//	fc           dense 256, ReLU                          [N, 256]
//	dropout      rate DropoutRate (only while training)
//	logits       dense Classes                            [N, Classes]
//
// Each convolution sKcJ is followed by layers sKcJ_bn and sKcJ_relu; the
// convolutions have no bias (batch norm's β takes its place). Kernels
// are Glorot-uniform, biases zero (Keras's defaults).
func NewVGG(c VGGConfig) (*layers.Sequential, error) {
	if c.Input[0] < 1 || c.Input[1] < 1 || c.Input[2] < 1 || c.Classes < 1 {
		return nil, fmt.Errorf("models: VGG input %v and %d classes, want positive sizes and at least one class", c.Input, c.Classes)
	}
	stages := c.Stages
	if stages == nil {
		stages = []int{32, 64, 128}
	}
	convs, units := c.Convs, c.Units
	if convs == 0 {
		convs = 2
	}
	if units == 0 {
		units = 256
	}
	switch {
	case len(stages) == 0:
		return nil, fmt.Errorf("models: VGG needs at least one stage")
	case convs < 0 || units < 0:
		return nil, fmt.Errorf("models: VGG convolutions per stage (%d) and units (%d) must be positive", c.Convs, c.Units)
	case c.Input[0]>>len(stages) < 1 || c.Input[1]>>len(stages) < 1:
		return nil, fmt.Errorf("models: VGG input %v is too small for %d stages that each halve H and W", c.Input, len(stages))
	case !(c.DropoutRate >= 0 && c.DropoutRate < 1):
		return nil, fmt.Errorf("models: dropout rate must be in [0, 1), got %v", c.DropoutRate)
	}
	var ls []layers.Layer
	for s, filters := range stages {
		for j := range convs {
			name := fmt.Sprintf("s%dc%d", s+1, j+1)
			ls = append(ls,
				layers.NewConv2D(name, layers.ConvConfig{Filters: filters, KernelSize: []int{3}, Padding: "SAME", NoBias: true, Seed: c.Seed}),
				layers.NewBatchNormalization(name+"_bn", layers.BatchNormConfig{Seed: c.Seed}),
				layers.NewReLU(name+"_relu"))
		}
		ls = append(ls, layers.NewMaxPooling2D(fmt.Sprintf("s%dpool", s+1),
			layers.PoolConfig{PoolSize: []int{2, 2}, Strides: []int{2, 2}, Padding: "VALID"}))
	}
	ls = append(ls,
		layers.NewFlatten("flatten"),
		layers.NewDense("fc", layers.DenseConfig{Units: units, Activation: autograd.Relu, Seed: c.Seed}),
		layers.NewDropout("dropout", c.DropoutRate, c.Seed),
		layers.NewDense("logits", layers.DenseConfig{Units: c.Classes, Seed: c.Seed}))
	m := layers.NewSequential(ls...)
	if err := m.Build([]int{1, c.Input[0], c.Input[1], c.Input[2]}); err != nil {
		return nil, err
	}
	return m, nil
}
