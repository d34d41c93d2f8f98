package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/models/keras"
	"github.com/convnet-go/convnet/models/onnx"
	"github.com/convnet-go/convnet/train"
)

// predictNpy is predict's raw-tensor mode: --model PATH --npy IN.npy
// --out OUT.npy, where PATH is an .onnx file, a Keras model (a convnet
// model directory or a TF.js model.json) or a convnet checkpoint.
// imageArgs tells whether image-mode arguments (--checkpoint, images)
// were given too.
func predictNpy(model, in, out string, imageArgs bool, stdout io.Writer) error {
	switch {
	case model == "" || in == "" || out == "":
		return usageErrorf("--model, --npy and --out go together: convnet predict --model MODEL --npy IN.npy --out OUT.npy")
	case imageArgs:
		return usageErrorf("--model runs a .npy tensor: give no --checkpoint and no images")
	}
	var shape []int
	var err error
	switch {
	case strings.EqualFold(filepath.Ext(model), ".onnx"):
		shape, err = onnx.PredictFile(model, in, out)
	case keras.IsModelPath(model):
		shape, err = keras.PredictFile(model, in, out)
	default:
		m, _, _, lerr := train.LoadModel(model)
		if lerr != nil {
			return badInput(fmt.Errorf("--model %s: not an .onnx file, a model directory or a model.json, and not a checkpoint: %w", model, lerr))
		}
		shape, err = keras.PredictLayerFile(train.Raw(m), in, out)
	}
	if err != nil {
		return badInput(err)
	}
	fmt.Fprintf(stdout, "wrote %s %v\n", out, shape)
	return nil
}
