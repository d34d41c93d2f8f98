package main

import (
	"fmt"
	"io"

	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{name: "eval", summary: "test accuracy and confusion matrix of a checkpoint", run: runEval})
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
	subset := fs.Int("test-subset", 0, "evaluate the first `N` test images only (0: all 10,000)")
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
	model, path, meta, err := train.LoadModel(*ckpt)
	if err != nil {
		return badInput(err)
	}
	data, err := train.LoadData(*dataDir, stderr, 0, *subset)
	if err != nil {
		return loadDataError(err)
	}
	ev, err := train.Evaluate(model, data.Test, *batch)
	if err != nil {
		return err
	}
	if step, epoch := meta[train.MetaStep], meta[train.MetaEpoch]; step != "" && epoch != "" {
		fmt.Fprintf(stdout, "checkpoint %s (step %s, epoch %s)\n", path, step, epoch)
	} else {
		fmt.Fprintf(stdout, "checkpoint %s (no step or epoch recorded)\n", path)
	}
	fmt.Fprintf(stdout, "test accuracy %.4f (%d/%d)  loss %.4f\n\n", ev.Accuracy, ev.Correct, ev.N, ev.Loss)
	return ev.WriteConfusion(stdout)
}
