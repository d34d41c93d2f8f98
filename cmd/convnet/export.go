package main

import (
	"fmt"
	"io"

	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/models/onnx"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{name: "export", summary: "write a checkpoint's model as ONNX", run: runExport})
}

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convnet export --model PATH --format onnx -o OUT.onnx")
		fmt.Fprintln(stderr, "\nWrites the lecture model of a checkpoint as ONNX (opset 13): input \"input\"")
		fmt.Fprintln(stderr, "[N,28,28,1] float32 NHWC, output \"logits\" [N,10], weights as initializers.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	model := fs.String("model", "", "checkpoint `PATH`, or a directory whose latest checkpoint is used (required)")
	format := fs.String("format", "onnx", "output `FORMAT`: onnx")
	out := fs.String("o", "", "output `FILE` (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *model == "":
		return usageErrorf("--model is required (a checkpoint file or directory)")
	case *out == "":
		return usageErrorf("-o is required (the .onnx file to write)")
	case *format != "onnx":
		return usageErrorf("--format must be onnx, got %q", *format)
	case fs.NArg() > 0:
		return usageErrorf("unexpected arguments %q", fs.Args())
	}
	m, file, _, err := train.LoadModel(*model)
	if err != nil {
		return badInput(err)
	}
	err = onnx.ExportFile(*out, m, onnx.ExportOptions{
		InputShape: []int{models.ImageSize, models.ImageSize, 1},
		Name:       models.ConvNetName,
		Metadata:   map[string]string{"checkpoint": file},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (ONNX opset %d) from %s\n", *out, onnx.ExportOpset, file)
	return nil
}
