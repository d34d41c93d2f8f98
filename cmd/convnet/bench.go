package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/convnet-go/convnet/internal/benchmark"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/nn"
)

func init() {
	register(command{
		name:    "bench",
		summary: "time the lecture model's training step, inference and latency",
		run:     runBench,
	})
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	setUsage(fs, "convnet bench [flags]", `
Times the lecture model on random data: one training step (forward,
backward, Adam update) and inference at --batch, and batch-1 latency,
each the median of --runs timed repetitions after --warmup untimed ones.
Prints images per second, GFLOP/s and the peak resident memory; with
--plan also the path each convolution took (its geometry and plan).`)
	var c benchmark.Config
	fs.IntVar(&c.Batch, "batch", 128, "batch size of the training step and of inference")
	fs.IntVar(&c.Warmup, "warmup", 3, "untimed repetitions before timing")
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
	fmt.Fprintf(stdout, "lecture convnet, kernels %s, %d threads, batch %d (median of %d runs)\n", r.Impl, r.Threads, r.Batch, c.Runs)
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
