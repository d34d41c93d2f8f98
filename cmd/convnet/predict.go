package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/folder"
	"github.com/convnet-go/convnet/imageio"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{name: "predict", summary: "classify digit images with a checkpoint, or run a model (ONNX, Keras, TF.js, checkpoint) on a .npy tensor", run: runPredict})
}

// prediction is one image's result in --json output.
type prediction struct {
	File        string             `json:"file"`
	Inverted    bool               `json:"inverted"`
	Predictions []train.Prediction `json:"predictions"`
	Error       string             `json:"error,omitempty"` // why the image could not be read
}

func runPredict(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("predict", stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: convnet predict --checkpoint PATH [flags] IMAGE...")
		fmt.Fprintln(fs.Output(), "       convnet predict --model MODEL --npy IN.npy --out OUT.npy")
		fmt.Fprintf(fs.Output(), "\nClassifies pictures of single digits (%s). Each picture is made\n", imageio.Formats)
		fmt.Fprintln(fs.Output(), "MNIST-like: grayscale, inverted to a light digit on black when its border is")
		fmt.Fprintln(fs.Output(), "light (see --invert), cropped to the digit, scaled to fit 20x20 by area")
		fmt.Fprintln(fs.Output(), "averaging and centred by mass in a 28x28 frame. An image that cannot be read")
		fmt.Fprintln(fs.Output(), "is reported on stderr, the others are still classified, and the exit code is 2.")
		fmt.Fprintln(fs.Output(), "\nWith --model, runs a model on IN.npy (NumPy v1, little-endian float32, C order,")
		fmt.Fprintln(fs.Output(), "[N, …] in the model's input layout) and writes its first output to OUT.npy")
		fmt.Fprintln(fs.Output(), "(float32, raw: no softmax unless the model ends in one). MODEL is an .onnx file")
		fmt.Fprintln(fs.Output(), "(input in the graph's own layout, e.g. NCHW for PyTorch exports), a convnet")
		fmt.Fprintln(fs.Output(), "model directory (config.json + model.safetensors), a TF.js Layers model.json")
		fmt.Fprintln(fs.Output(), "(NHWC), or a convnet checkpoint file or directory (NHWC [N, 28, 28, 1]).")
		fmt.Fprintln(fs.Output(), "\nflags:")
		fs.PrintDefaults()
	}
	ckpt := fs.String("checkpoint", "", "checkpoint `PATH`, or a directory whose latest checkpoint is used (required)")
	asJSON := fs.Bool("json", false, "print a JSON array instead of text")
	invert := fs.String("invert", models.InvertAuto, "make the digit light on dark: auto (when the border is light), always or never")
	top := fs.Int("top", 3, "how many classes to show per image")
	modelPath := fs.String("model", "", "model `PATH` to run on --npy instead of classifying images: .onnx, model directory, TF.js model.json or checkpoint")
	inNpy := fs.String("npy", "", "input tensor `FILE` (.npy, float32) for --model")
	outNpy := fs.String("out", "", "output tensor `FILE` (.npy) for --model")
	maxPixels := fs.Int64("max-pixels", imageio.DefaultMaxPixels, "refuse images whose header claims more pixels than this")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath != "" || *inNpy != "" || *outNpy != "" {
		return predictNpy(*modelPath, *inNpy, *outNpy, *ckpt != "" || fs.NArg() > 0, stdout)
	}
	switch {
	case *ckpt == "":
		return usageErrorf("--checkpoint is required (a checkpoint file or directory)")
	case fs.NArg() == 0:
		return usageErrorf("no images given: convnet predict --checkpoint PATH IMAGE...")
	case *invert != models.InvertAuto && *invert != models.InvertAlways && *invert != models.InvertNever:
		return usageErrorf("--invert must be auto, always or never, got %q", *invert)
	case *top < 1:
		return usageErrorf("--top must be at least 1, got %d", *top)
	case *maxPixels < 1:
		return usageErrorf("--max-pixels must be at least 1, got %d", *maxPixels)
	}
	model, _, meta, err := train.LoadModel(*ckpt)
	if err != nil {
		return badInput(err)
	}
	info, err := train.CheckpointData(meta)
	if err != nil {
		return badInput(err)
	}
	if *top > len(info.Classes) {
		return usageErrorf("--top must be between 1 and %d (the model's classes), got %d", len(info.Classes), *top)
	}
	// A 28×28×1 model is the digit model: pictures are made MNIST-like.
	// Any other model takes the picture as a class folder's images are
	// read: converted and resized to its input.
	digits := info.Shape == (data.Shape{H: models.ImageSize, W: models.ImageSize, C: 1})
	var pixels [][]float32
	var ok []int // indexes into results of the images read
	results := make([]prediction, fs.NArg())
	failed := 0
	for i, name := range fs.Args() {
		results[i].File = name
		img, _, err := imageio.ReadFile(name, *maxPixels)
		if err != nil {
			results[i].Error = err.Error()
			fmt.Fprintf(stderr, "convnet predict: %v\n", err)
			failed++
			continue
		}
		var px []float32
		if digits {
			px, results[i].Inverted = models.PrepareDigit(img, *invert)
		} else {
			px = make([]float32, info.Shape.Size())
			folder.Convert(px, img, info.Shape)
		}
		pixels = append(pixels, px)
		ok = append(ok, i)
	}
	if len(pixels) > 0 {
		preds, err := train.PredictImages(model, pixels, info, *top)
		if err != nil {
			return err
		}
		for j, i := range ok {
			results[i].Predictions = preds[j]
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			if r.Error != "" {
				continue
			}
			var parts []string
			for _, p := range r.Predictions {
				if p.Label != "" && p.Label != fmt.Sprint(p.Class) {
					parts = append(parts, fmt.Sprintf("%d %s (%.4f)", p.Class, p.Label, p.Probability))
				} else {
					parts = append(parts, fmt.Sprintf("%d (%.4f)", p.Class, p.Probability))
				}
			}
			note := ""
			if r.Inverted {
				note = "  [inverted]"
			}
			fmt.Fprintf(stdout, "%s: %s%s\n", r.File, strings.Join(parts, "  "), note)
		}
	}
	if failed > 0 {
		return usageErrorf("%d of %d images could not be read (see above)", failed, len(results))
	}
	return nil
}
