package benchmark

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

// CheckBatch is the number of images WriteResNetCheck runs.
const CheckBatch = 8

// WriteResNetCheck writes what bench/pytorch_resnet.py --check needs to
// confirm that its PyTorch ResNet is the benchmark's ResNet layer for
// layer, as .npy files (float32, C order) in dir, which must exist:
//
//	<layer>.<weight>.npy  every weight of NewModel("resnet") in TF layout
//	                      (conv kernels HWIO, the dense kernel [in, out],
//	                      batch norm gamma, beta, moving_mean,
//	                      moving_variance [C]), "/" in the name
//	                      written as "."
//	input.npy             [CheckBatch, 28, 28, 1] images, uniform in [0, 1)
//	logits_eval.npy       [CheckBatch, 10] logits at inference (moving
//	                      statistics)
//	logits_train.npy      [CheckBatch, 10] logits in training mode (batch
//	                      statistics), from the same weights
//	params.npy            [1] the trainable parameter count (Params)
//
// The model's seeded initial weights are kept, except batch norm's γ, β
// and moving statistics, which are drawn at random (seed 3) so that the
// check can tell a misplaced one from its default. It returns the
// parameter count.
func WriteResNetCheck(dir string) (int, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return 0, fmt.Errorf("benchmark: check directory %s: want an existing directory (%v)", dir, err)
	}
	m, _, err := NewModel("resnet")
	if err != nil {
		return 0, err
	}
	r := tensor.NewRand(3)
	for _, v := range m.AllWeights() {
		var lo, hi float64
		switch {
		case strings.HasSuffix(v.Name(), "/gamma"), strings.HasSuffix(v.Name(), "/moving_variance"):
			lo, hi = 0.5, 1.5
		case strings.HasSuffix(v.Name(), "/beta"), strings.HasSuffix(v.Name(), "/moving_mean"):
			lo, hi = -0.5, 0.5
		default:
			continue
		}
		v.Value().RandUniform(r, lo, hi)
	}
	// The weights are written first: the training-mode call below
	// updates the moving statistics.
	files := map[string]*tensor.Tensor{}
	for _, v := range m.AllWeights() {
		files[strings.ReplaceAll(v.Name(), "/", ".")] = v.Value().Clone()
	}
	x := tensor.Zeros(CheckBatch, 28, 28, 1)
	x.RandUniform(r, 0, 1)
	files["input"] = x
	// Inference first: training mode moves the moving statistics.
	for _, c := range []struct {
		name string
		ctx  layers.Context
	}{{"logits_eval", layers.Context{}}, {"logits_train", layers.Context{Training: true, Step: 1}}} {
		y := m.Call(autograd.Constant(x), c.ctx)
		if err := y.Err(); err != nil {
			return 0, err
		}
		files[c.name] = y.Value().Clone()
	}
	params := Params(m)
	files["params"] = tensor.Must(tensor.New([]int{1}, []float32{float32(params)}))
	for name, t := range files {
		if err := npy.WriteFile(filepath.Join(dir, name+".npy"), t); err != nil {
			return 0, err
		}
	}
	return params, nil
}
