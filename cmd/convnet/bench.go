package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/convnet-go/convnet/internal/benchmark"
	"github.com/convnet-go/convnet/internal/kernels"
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
	var c benchmark.Config
	fs.IntVar(&c.Batch, "batch", 128, "batch size of the training step and of inference")
	fs.IntVar(&c.Warmup, "warmup", 3, "untimed repetitions before timing")
	fs.IntVar(&c.Runs, "runs", 20, "timed repetitions; the median is reported")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected arguments %q", fs.Args())
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
	fmt.Fprintf(stdout, "train step   %8.2f ms  %8.0f images/s  %6.1f GFLOP/s  (~%.1f s per 55k epoch)\n", r.TrainStepMS, r.TrainImagesPerSecond, r.TrainGFLOPS, r.EpochSecondsEstimated)
	fmt.Fprintf(stdout, "inference    %8.2f ms  %8.0f images/s  %6.1f GFLOP/s\n", r.InferMS, r.InferImagesPerSecond, r.InferGFLOPS)
	fmt.Fprintf(stdout, "batch-1      %8.3f ms\n", r.LatencyMS)
	fmt.Fprintf(stdout, "peak RSS     %8.1f MiB\n", r.PeakRSSMiB)
	return nil
}
