package main

import (
	"fmt"
	"io"

	"github.com/convnet-go/convnet/models/onnx"
)

// predictNpy is predict's raw-tensor mode: --model MODEL.onnx --npy IN.npy
// --out OUT.npy. imageArgs tells whether image-mode arguments
// (--checkpoint, images) were given too.
func predictNpy(model, in, out string, imageArgs bool, stdout io.Writer) error {
	switch {
	case model == "" || in == "" || out == "":
		return usageErrorf("--model, --npy and --out go together: convnet predict --model MODEL.onnx --npy IN.npy --out OUT.npy")
	case imageArgs:
		return usageErrorf("--model runs a .npy tensor: give no --checkpoint and no images")
	}
	shape, err := onnx.PredictFile(model, in, out)
	if err != nil {
		return badInput(err)
	}
	fmt.Fprintf(stdout, "wrote %s %v\n", out, shape)
	return nil
}
