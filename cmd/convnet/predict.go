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

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/folder"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{name: "predict", summary: "classify digit images with a checkpoint", run: runPredict})
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
		fmt.Fprintln(stderr, "\nClassifies PNG, JPEG or GIF pictures of single digits. Each picture is made")
		fmt.Fprintln(stderr, "MNIST-like: grayscale, inverted to a light digit on black when its border is")
		fmt.Fprintln(stderr, "light (see --invert), cropped to the digit, scaled to fit 20x20 by area")
		fmt.Fprintln(stderr, "averaging and centred by mass in a 28x28 frame.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	ckpt := fs.String("checkpoint", "", "checkpoint `PATH`, or a directory whose latest checkpoint is used (required)")
	asJSON := fs.Bool("json", false, "print a JSON array instead of text")
	invert := fs.String("invert", models.InvertAuto, "make the digit light on dark: auto (when the border is light), always or never")
	top := fs.Int("top", 3, "how many classes to show per image")
	if err := parseFlags(fs, args); err != nil {
		return err
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
	}
	var imgs []image.Image
	for _, name := range fs.Args() {
		img, err := readDigitImage(name)
		if err != nil {
			return badInput(err)
		}
		imgs = append(imgs, img)
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
	var results []prediction
	for i, img := range imgs {
		r := prediction{File: fs.Arg(i)}
		var px []float32
		if digits {
			px, r.Inverted = models.PrepareDigit(img, *invert)
		} else {
			px = make([]float32, info.Shape.Size())
			folder.Convert(px, img, info.Shape)
		}
		pixels = append(pixels, px)
		results = append(results, r)
	}
	preds, err := train.PredictImages(model, pixels, info, *top)
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
