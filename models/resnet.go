package models

import (
	"fmt"

	"github.com/convnet-go/convnet/layers"
)

// ResNetConfig configures NewResNet. Zero fields take the defaults given.
type ResNetConfig struct {
	// InputShape is [H, W, C] (required).
	InputShape []int
	// Classes is the number of logits (required, > 0).
	Classes int
	// Stages lists the filters of each stage; nil means [16, 32, 64].
	// Every stage after the first halves H and W in its first block.
	Stages []int
	// Blocks is the number of residual blocks per stage; 0 means 1.
	Blocks int
	// StageBlocks, when not nil, gives each stage its own number of
	// blocks (one entry per stage, each > 0) and overrides Blocks: the
	// benchmark's small ResNet is Stages [16, 32], StageBlocks [2, 1].
	StageBlocks []int
	// Seed seeds the initial weights.
	Seed uint64
}

// NewResNet returns a small ResNet (He et al. 2015, v1 blocks) as a
// functional model from [N, H, W, C] images to [N, Classes] logits:
//
//	stem         conv 3×3 Stages[0] SAME (no bias) → BN → ReLU
//	block s,b    y = BN(conv 3×3(ReLU(BN(conv 3×3 stride st(x)))))
//	             out = ReLU(y + skip), skip = x, or BN(conv 1×1 stride st(x))
//	             when the shape changes (st = 2 in the first block of
//	             every stage after the first)
//	gap          global average pooling [N, Stages[last]]
//	logits       dense Classes
//
// The convolutions have no bias (batch norm's β takes its place). Layer
// names: stem, stem_bn, stem_relu; s<s>b<b>_conv1, _bn1, _relu1, _conv2,
// _bn2, _proj, _proj_bn, _add, _relu2 (s and b from 1); gap; logits.
func NewResNet(c ResNetConfig) (*layers.Model, error) {
	if len(c.InputShape) != 3 {
		return nil, fmt.Errorf("models: ResNet input shape must be [H, W, C], got %v", c.InputShape)
	}
	if c.Classes < 1 {
		return nil, fmt.Errorf("models: ResNet needs Classes > 0, got %d", c.Classes)
	}
	stages := c.Stages
	if stages == nil {
		stages = []int{16, 32, 64}
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("models: ResNet needs at least one stage")
	}
	blocks := c.Blocks
	if blocks == 0 {
		blocks = 1
	}
	if blocks < 0 {
		return nil, fmt.Errorf("models: ResNet blocks per stage must be positive, got %d", c.Blocks)
	}
	stageBlocks := c.StageBlocks
	if stageBlocks == nil {
		stageBlocks = make([]int, len(stages))
		for s := range stageBlocks {
			stageBlocks[s] = blocks
		}
	}
	if len(stageBlocks) != len(stages) {
		return nil, fmt.Errorf("models: ResNet StageBlocks %v must have one entry per stage of %v", c.StageBlocks, stages)
	}
	for _, n := range stageBlocks {
		if n < 1 {
			return nil, fmt.Errorf("models: ResNet StageBlocks must be positive, got %v", c.StageBlocks)
		}
	}
	conv := func(name string, filters, k, stride int) layers.Layer {
		return layers.NewConv2D(name, layers.ConvConfig{Filters: filters, KernelSize: []int{k}, Strides: []int{stride},
			Padding: "SAME", NoBias: true, Seed: c.Seed})
	}
	bn := func(name string) layers.Layer {
		return layers.NewBatchNormalization(name, layers.BatchNormConfig{Seed: c.Seed})
	}

	in := layers.Input("image", c.InputShape...)
	x := layers.Apply(conv("stem", stages[0], 3, 1), in)
	x = layers.Apply(layers.NewReLU("stem_relu"), layers.Apply(bn("stem_bn"), x))
	width := stages[0]
	for s, filters := range stages {
		for b := range stageBlocks[s] {
			p := fmt.Sprintf("s%db%d_", s+1, b+1)
			stride := 1
			if s > 0 && b == 0 {
				stride = 2
			}
			y := layers.Apply(conv(p+"conv1", filters, 3, stride), x)
			y = layers.Apply(layers.NewReLU(p+"relu1"), layers.Apply(bn(p+"bn1"), y))
			y = layers.Apply(bn(p+"bn2"), layers.Apply(conv(p+"conv2", filters, 3, 1), y))
			skip := x
			if stride != 1 || filters != width {
				skip = layers.Apply(bn(p+"proj_bn"), layers.Apply(conv(p+"proj", filters, 1, stride), x))
			}
			x = layers.Apply(layers.NewReLU(p+"relu2"), layers.ApplyN(layers.NewAdd(p+"add"), y, skip))
			width = filters
		}
	}
	x = layers.Apply(layers.NewGlobalAveragePooling2D("gap"), x)
	out := layers.Apply(layers.NewDense("logits", layers.DenseConfig{Units: c.Classes, Seed: c.Seed}), x)
	return layers.NewModel("resnet", []*layers.Node{in}, []*layers.Node{out})
}
