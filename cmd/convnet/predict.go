package main

import (
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif"  // register GIF for image.Decode
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"os"
	"strings"

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
}

func runPredict(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("predict", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convnet predict --checkpoint PATH [flags] IMAGE...")
		fmt.Fprintln(stderr, "       convnet predict --model MODEL --npy IN.npy --out OUT.npy")
		fmt.Fprintln(stderr, "\nClassifies PNG, JPEG or GIF pictures of single digits. Each picture is made")
		fmt.Fprintln(stderr, "MNIST-like: grayscale, inverted to a light digit on black when its border is")
		fmt.Fprintln(stderr, "light (see --invert), cropped to the digit, scaled to fit 20x20 by area")
		fmt.Fprintln(stderr, "averaging and centred by mass in a 28x28 frame.")
		fmt.Fprintln(stderr, "\nWith --model, runs a model on IN.npy (NumPy v1, little-endian float32, C order,")
		fmt.Fprintln(stderr, "[N, …] in the model's input layout) and writes its first output to OUT.npy")
		fmt.Fprintln(stderr, "(float32, raw: no softmax unless the model ends in one). MODEL is an .onnx file")
		fmt.Fprintln(stderr, "(input in the graph's own layout, e.g. NCHW for PyTorch exports), a convnet")
		fmt.Fprintln(stderr, "model directory (config.json + model.safetensors), a TF.js Layers model.json")
		fmt.Fprintln(stderr, "(NHWC), or a convnet checkpoint file or directory (NHWC [N, 28, 28, 1]).")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	ckpt := fs.String("checkpoint", "", "checkpoint `PATH`, or a directory whose latest checkpoint is used (required)")
	asJSON := fs.Bool("json", false, "print a JSON array instead of text")
	invert := fs.String("invert", models.InvertAuto, "make the digit light on dark: auto (when the border is light), always or never")
	top := fs.Int("top", 3, "how many classes to show per image")
	modelPath := fs.String("model", "", "model `PATH` to run on --npy instead of classifying images: .onnx, model directory, TF.js model.json or checkpoint")
	inNpy := fs.String("npy", "", "input tensor `FILE` (.npy, float32) for --model")
	outNpy := fs.String("out", "", "output tensor `FILE` (.npy) for --model")
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
	case *top < 1 || *top > models.Classes:
		return usageErrorf("--top must be between 1 and %d, got %d", models.Classes, *top)
	}
	var pixels [][]float32
	var results []prediction
	for _, name := range fs.Args() {
		img, err := readDigitImage(name)
		if err != nil {
			return badInput(err)
		}
		px, inv := models.PrepareDigit(img, *invert)
		pixels = append(pixels, px)
		results = append(results, prediction{File: name, Inverted: inv})
	}
	model, _, _, err := train.LoadModel(*ckpt)
	if err != nil {
		return badInput(err)
	}
	preds, err := train.Predict(model, pixels, *top)
	if err != nil {
		return err
	}
	for i := range results {
		results[i].Predictions = preds[i]
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	for _, r := range results {
		var parts []string
		for _, p := range r.Predictions {
			parts = append(parts, fmt.Sprintf("%d (%.4f)", p.Class, p.Probability))
		}
		note := ""
		if r.Inverted {
			note = "  [inverted]"
		}
		fmt.Fprintf(stdout, "%s: %s%s\n", r.File, strings.Join(parts, "  "), note)
	}
	return nil
}

// readDigitImage reads a PNG, JPEG or GIF file.
func readDigitImage(name string) (image.Image, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PNG, JPEG or GIF image: %w", name, err)
	}
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
		return nil, fmt.Errorf("%s: empty %s image", name, format)
	}
	return img, nil
}
