package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{name: "eval", summary: "test accuracy, confusion matrix and per-class scores of a checkpoint", run: runEval})
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stderr)
	setUsage(fs, "convnet eval --checkpoint PATH [flags]", `
Evaluates a checkpoint of the lecture's convnet on the MNIST test set:
prints the accuracy, the mean cross-entropy loss and the 10x10 confusion
matrix (rows: true digit, columns: predicted). A checkpoint whose weights
are not all finite is refused.`)
	ckpt := fs.String("checkpoint", "", "checkpoint `PATH`, or a directory whose latest checkpoint is used (required)")
	dataDir := fs.String("data", mnist.DefaultDir(), "MNIST `DIR` (fetched there when missing; env CONVNET_DATA)")
	var df dataFlags
	df.register(fs)
	subset := fs.Int("test-subset", 0, "evaluate the first `N` test images only (0: all)")
	batch := fs.Int("batch-size", train.DefaultEvalBatchSize, "evaluation batch size")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageErrorf("unexpected arguments %q (eval takes only flags)", fs.Args())
	case *ckpt == "":
		return usageErrorf("--checkpoint is required (a checkpoint file or directory, e.g. runs/lecture/checkpoints)")
	case *subset < 0:
		return usageErrorf("--test-subset must not be negative, got %d", *subset)
	case *batch < 1:
		return usageErrorf("--batch-size must be at least 1, got %d", *batch)
	}
	opt, err := df.options(*dataDir, stderr, 0, *subset)
	if err != nil {
		return err
	}
	model, path, meta, err := train.LoadModel(*ckpt)
	if err != nil {
		return badInput(err)
	}
	info, err := train.CheckpointData(meta)
	if err != nil {
		return loadDataError(err)
	}
	// The images must reach the model as in training: a class folder is
	// read at the checkpoint's size and channels, and the checkpoint's
	// normalisation (if any) replaces the one computed from the data.
	if opt.H == 0 {
		opt.H, opt.W = info.Shape.H, info.Shape.W
	}
	if opt.Channels == 0 {
		opt.Channels = info.Shape.C
	}
	opt.Normalize = "off"
	d, err := train.LoadDataset(opt)
	if err != nil {
		return badInput(err)
	}
	set, name := d.Test, "test"
	if data.Len(set) == 0 {
		set, name = d.Validation, "validation"
	}
	if data.Len(set) == 0 {
		return badInput(fmt.Errorf("dataset %s has no test or validation images", opt.Dataset))
	}
	if got := set.Shape(); got != info.Shape {
		return badInput(fmt.Errorf("dataset %s has %v images, the checkpoint's model takes %v", opt.Dataset, got, info.Shape))
	}
	if got := len(set.Classes()); got != len(info.Classes) {
		return badInput(fmt.Errorf("dataset %s has %d classes, the checkpoint's model %d", opt.Dataset, got, len(info.Classes)))
	}
	ev, err := train.EvaluateWith(model, set, *batch, info.Normalize)
	var re *data.ReadError
	switch {
	case errors.As(err, &re):
		return badInput(err)
	case err != nil:
		return err
	}
	if step, epoch := meta[train.MetaStep], meta[train.MetaEpoch]; step != "" && epoch != "" {
		fmt.Fprintf(stdout, "checkpoint %s (step %s, epoch %s)\n", path, step, epoch)
	} else {
		fmt.Fprintf(stdout, "checkpoint %s (no step or epoch recorded)\n", path)
	}
	fmt.Fprintf(stdout, "%s accuracy %.4f (%d/%d)  loss %.4f\n\n", name, ev.Accuracy, ev.Correct, ev.N, ev.Loss)
	if err := ev.WriteConfusion(stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	return ev.WriteReport(stdout)
}
