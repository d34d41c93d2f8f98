package main

import (
	"fmt"
	"io"

	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models/keras"
	"github.com/convnet-go/convnet/models/onnx"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{name: "export", summary: "write a checkpoint's model as ONNX or as a Keras model directory", run: runExport})
}

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convnet export --model PATH --format onnx -o OUT.onnx")
		fmt.Fprintln(stderr, "       convnet export --model PATH --format keras -o DIR")
		fmt.Fprintln(stderr, "\nWrites the lecture model of a checkpoint as ONNX (opset 13): input \"input\"")
		fmt.Fprintln(stderr, "[N,H,W,C] float32 NHWC as the checkpoint records it ([N,28,28,1] for MNIST),")
		fmt.Fprintln(stderr, "output \"logits\" [N,classes], weights as initializers;")
		fmt.Fprintln(stderr, "or as a Keras model directory: config.json (model.to_json()) and")
		fmt.Fprintln(stderr, "model.safetensors (weights under Keras names).")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	model := fs.String("model", "", "checkpoint `PATH`, or a directory whose latest checkpoint is used (required)")
	format := fs.String("format", "onnx", "output `FORMAT`: onnx or keras")
	out := fs.String("o", "", "output `FILE` (.onnx) or directory (keras) (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *model == "":
		return usageErrorf("--model is required (a checkpoint file or directory)")
	case *out == "":
		return usageErrorf("-o is required (the .onnx file or the model directory to write)")
	case *format != "onnx" && *format != "keras":
		return usageErrorf("--format must be onnx or keras, got %q", *format)
	case fs.NArg() > 0:
		return usageErrorf("unexpected arguments %q", fs.Args())
	}
	m, file, meta, err := train.LoadModel(*model)
	if err != nil {
		return badInput(err)
	}
	in, err := checkpointInput(meta)
	if err != nil {
		return badInput(err)
	}
	// A model trained from a Keras file is written back from its Keras
	// JSON; other models are described layer by layer, which needs a
	// Sequential.
	arch, err := train.ArchitectureOf(meta)
	if err != nil {
		return badInput(err)
	}
	seq, isSeq := m.(*layers.Sequential)
	if *format == "keras" {
		var k *keras.Model
		switch {
		case arch.Name == train.KerasName:
			if k, err = keras.ParseJSON(arch.Keras); err == nil {
				err = k.SetWeights(m.Weights())
			}
		case isSeq:
			k, err = keras.FromSequential(seq, in)
		default:
			err = fmt.Errorf("checkpoint %s holds model %q, a functional model: --format keras writes Sequential models (lecture, vgg) and models trained from a Keras or TF.js file", file, arch.Name)
		}
		if err != nil {
			return badInput(err)
		}
		if err := k.Save(*out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (Keras model directory: %s, %s) from %s\n", *out, keras.ConfigFile, keras.WeightsFile, file)
		return nil
	}
	if !isSeq {
		return badInput(fmt.Errorf("checkpoint %s holds model %q, a functional model: --format onnx writes Sequential models (lecture, vgg) only; --format keras writes models trained from a Keras file", file, arch.Name))
	}
	err = onnx.ExportFile(*out, seq, onnx.ExportOptions{
		InputShape: in,
		Name:       arch.Name,
		Metadata:   map[string]string{"checkpoint": file},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (ONNX opset %d) from %s\n", *out, onnx.ExportOpset, file)
	return nil
}

// checkpointInput is the [H, W, C] of the images the checkpoint's model
// takes (28, 28, 1 for checkpoints that record none).
func checkpointInput(meta map[string]string) ([]int, error) {
	info, err := train.CheckpointData(meta)
	if err != nil {
		return nil, err
	}
	return []int{info.Shape.H, info.Shape.W, info.Shape.C}, nil
}
