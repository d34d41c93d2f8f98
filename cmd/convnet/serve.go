package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/serve"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{name: "serve", summary: "serve a checkpoint over HTTP (Open Inference Protocol) with a web page", run: runServe})
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convnet serve --model PATH [--addr HOST:PORT] [--name NAME] [flags]")
		fmt.Fprintln(stderr, "\nServes the checkpoint's model with the Open Inference Protocol (KServe v2 REST)")
		fmt.Fprintln(stderr, "at /v2/..., a digit-drawing page at /, and /metrics. SIGTERM or Ctrl-C drains")
		fmt.Fprintln(stderr, "the requests in flight and exits 0. One JSON log line per request goes to stderr.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	model := fs.String("model", "", "checkpoint `PATH`, or a directory whose latest checkpoint is used (required)")
	addr := fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on")
	name := fs.String("name", "convnet", "model `NAME` in the URLs")
	maxBatch := fs.Int("max-batch", 32, "most examples per model call (dynamic batching)")
	maxDelay := fs.Duration("max-delay", time.Millisecond, "longest wait for a batch to fill")
	workers := fs.Int("workers", 1, "batches run at once (each uses every core)")
	maxQueue := fs.Int("max-queue", 1024, "requests that may wait for a batch (503 beyond)")
	maxBody := fs.Int64("max-body", 8<<20, "largest request body in bytes (413 beyond)")
	maxPixels := fs.Int64("max-pixels", 16_000_000, "refuse uploaded images whose header claims more pixels")
	timeout := fs.Duration("timeout", 30*time.Second, "read and write timeout of each request")
	drain := fs.Duration("drain", 30*time.Second, "longest wait for requests in flight on SIGTERM")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageErrorf("unexpected arguments %q (serve takes only flags)", fs.Args())
	case *model == "":
		return usageErrorf("--model is required (a checkpoint file or directory, e.g. runs/lecture/checkpoints)")
	case *maxBatch < 1 || *workers < 1 || *maxQueue < 1:
		return usageErrorf("--max-batch %d, --workers %d, --max-queue %d: each must be at least 1", *maxBatch, *workers, *maxQueue)
	case *maxBody < 1 || *maxPixels < 1:
		return usageErrorf("--max-body %d, --max-pixels %d: each must be at least 1", *maxBody, *maxPixels)
	case *maxDelay < 0 || *timeout <= 0 || *drain <= 0:
		return usageErrorf("--max-delay %v must not be negative; --timeout %v and --drain %v must be positive", *maxDelay, *timeout, *drain)
	}
	network, path, meta, err := train.LoadModel(*model)
	if err != nil {
		return badInput(err)
	}
	in, err := checkpointInput(meta)
	if err != nil {
		return badInput(err)
	}
	// Feature maps of the lecture's conv1 and conv2, where the model is a
	// Sequential that has them.
	var maps []string
	if s, ok := network.(*layers.Sequential); ok {
		for _, name := range []string{"conv1", "conv2"} {
			if s.Layer(name) != nil {
				maps = append(maps, name)
			}
		}
	}
	m, err := serve.NewSequential(network, in, maps...)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	opt := serve.Options{
		Name: *name, MaxBatch: *maxBatch, MaxDelay: *maxDelay, Workers: *workers, MaxQueue: *maxQueue,
		MaxBodyBytes: *maxBody, MaxPixels: *maxPixels, RunDir: serve.RunDir(path), Logger: logger,
		ReadTimeout: *timeout, WriteTimeout: *timeout, DrainTimeout: *drain,
	}
	if *maxDelay == 0 {
		opt.MaxDelay = -1
	}
	srv, err := serve.New(m, opt)
	if err != nil {
		return badInput(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		srv.Close()
		return badInput(fmt.Errorf("listening on %s: %w", *addr, err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("serving", "model", *name, "checkpoint", path, "run", opt.RunDir, "addr", ln.Addr().String(), "pid", os.Getpid())
	fmt.Fprintf(stdout, "serving %s (%s) on http://%s/\n", *name, filepath.Base(path), ln.Addr())
	return srv.Serve(ctx, ln)
}
