package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/convnet-go/convnet/internal/benchmark"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

func init() {
	register(command{
		name:    "bench",
		summary: "time a model's training step, inference and latency (lecture or resnet)",
		run:     runBench,
	})
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	setUsage(fs, "convnet bench [flags]", `
Times the lecture model (or, with --model resnet, a small ResNet: conv
3x3/16 + BN + ReLU, two residual blocks of 16, a stride-2 block of 32
with a 1x1 projection, global average pooling, dense 10) on random
28x28x1 data: one training step (forward, backward, Adam update) and
inference at --batch, and batch-1 latency, each the median of --runs
timed repetitions after --warmup untimed ones, each phase starting from a
collected heap. Prints images per second,
GFLOP/s, the parameter count and the peak resident memory; with --plan
also the path each convolution took (its geometry and plan).

With --model resnet --write-check DIR it times nothing: it writes the ResNet's weights,
an input batch and its logits as .npy files to DIR, for
bench/pytorch_resnet.py --check DIR.`)
	var c benchmark.Config
	fs.StringVar(&c.Model, "model", benchmark.Models[0], "model to time: "+strings.Join(benchmark.Models, " or "))
	checkDir := fs.String("write-check", "", "with --model resnet: write its check files to this existing directory and exit")
	fs.IntVar(&c.Batch, "batch", 128, "batch size of the training step and of inference")
	fs.IntVar(&c.Warmup, "warmup", 5, "untimed repetitions before timing (5, as bench/pytorch_*.py and bench/ort/run.js)")
	fs.IntVar(&c.Runs, "runs", 20, "timed repetitions; the median is reported")
	asJSON := fs.Bool("json", false, "print one JSON object")
	showPlan := fs.Bool("plan", false, "also print each convolution's geometry and chosen plan (text output only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageErrorf("unexpected arguments %q (bench takes only flags)", fs.Args())
	case c.Batch < 1:
		return usageErrorf("--batch must be at least 1, got %d", c.Batch)
	case c.Warmup < 0:
		return usageErrorf("--warmup must not be negative, got %d", c.Warmup)
	case c.Runs < 1:
		return usageErrorf("--runs must be at least 1, got %d", c.Runs)
	case *showPlan && *asJSON:
		return usageErrorf("--plan prints text lines: use it without --json")
	case !slices.Contains(benchmark.Models, c.Model):
		return usageErrorf("--model must be one of %s, got %q", strings.Join(benchmark.Models, ", "), c.Model)
	case *checkDir != "" && c.Model != "resnet":
		return usageErrorf("--write-check writes the ResNet's check files: give it with --model resnet, not %q", c.Model)
	}
	if *checkDir != "" {
		params, err := benchmark.WriteResNetCheck(*checkDir)
		if err != nil {
			return badInput(err)
		}
		fmt.Fprintf(stdout, "resnet: %d trainable parameters; weights, input and logits written to %s\n", params, *checkDir)
		return nil
	}
	var plans bytes.Buffer
	if *showPlan {
		nn.ExplainPlans(&plans)
		defer nn.ExplainPlans(nil)
	}
	r, err := benchmark.Run(c)
	if err != nil {
		return badInput(err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "%s model (%d parameters), kernels %s, %d threads, batch %d (median of %d runs)\n", r.Model, r.Params, r.Impl, r.Threads, r.Batch, c.Runs)
	fmt.Fprintf(stdout, "paths       ")
	for _, p := range kernels.Paths() {
		fmt.Fprintf(stdout, " %s=%s", p.Family, r.Paths[p.Family])
	}
	fmt.Fprintf(stdout, "  (%s)\n", r.CPU)
	if *showPlan {
		nn.ExplainPlans(nil)
		stdout.Write(plans.Bytes())
	}
	fmt.Fprintf(stdout, "train step   %8.2f ms  %8.0f images/s  %6.1f GFLOP/s  (~%.1f s per 55k epoch)\n", r.TrainStepMS, r.TrainImagesPerSecond, r.TrainGFLOPS, r.EpochSecondsEstimated)
	fmt.Fprintf(stdout, "inference    %8.2f ms  %8.0f images/s  %6.1f GFLOP/s\n", r.InferMS, r.InferImagesPerSecond, r.InferGFLOPS)
	fmt.Fprintf(stdout, "batch-1      %8.3f ms\n", r.LatencyMS)
	fmt.Fprintf(stdout, "peak RSS     %8.1f MiB\n", r.PeakRSSMiB)
	return nil
}
