package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/models/keras"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{name: "train", summary: "train the lecture's MNIST convnet", run: runTrain})
}

// defaultEpochs is 10: the lecture's table reaches 0.971 at 10 epochs, and
// with Glorot init the model is within a few tenths of a percent of its
// best by then; at ~1 minute per epoch on 2 cores it stays a coffee break.
const defaultEpochs = 10

// trainFlags are train's flags; eval and predict share --data and the
// subset flags.
type trainFlags struct {
	epochs, batchSize              int
	lr                             float64
	dropout                        float64
	seed                           uint64
	init, optimizer                string
	logdir, checkpointDir, data    string
	resume                         bool
	keep                           int
	trainSubset, testSubset, steps int
	logEvery                       int
	progress                       string
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", stderr)
	setUsage(fs, "convnet train [flags]", `
Trains the lecture's MNIST convnet (conv 5x5/32, pool, conv 5x5/64, pool,
fc 1024, dropout, fc 10; Adam), fetching MNIST into --data when missing.
Writes metrics.jsonl and TensorBoard runs under --logdir and a checkpoint
after every epoch (and on Ctrl-C) under --checkpoint-dir; --resume
continues from the latest one. One run at a time may use a directory.`)
	var f trainFlags
	fs.IntVar(&f.epochs, "epochs", defaultEpochs, "total `N` of epochs to reach (a resumed run continues up to N)")
	fs.IntVar(&f.batchSize, "batch-size", train.DefaultBatchSize, "mini-batch size")
	fs.Float64Var(&f.lr, "lr", train.DefaultLR, "learning rate")
	fs.Float64Var(&f.dropout, "dropout", models.LectureDropout, "fraction of fc units dropped while training (the lecture's keep_prob 0.75 is 0.25)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the initial weights, the shuffles and dropout")
	fs.StringVar(&f.init, "init", models.InitGlorot, "weight init: glorot, or lecture (truncated normal σ=1 kernels, normal conv biases)")
	fs.StringVar(&f.optimizer, "optimizer", train.DefaultOptimizer, "optimizer: "+strings.Join(train.Optimizers, ", "))
	fs.StringVar(&f.logdir, "logdir", filepath.Join("runs", "lecture"), "`DIR` for metrics.jsonl and TensorBoard runs train/ and eval/")
	fs.StringVar(&f.checkpointDir, "checkpoint-dir", "", "checkpoint `DIR` (default <logdir>/checkpoints)")
	fs.BoolVar(&f.resume, "resume", false, "continue from the latest checkpoint")
	fs.IntVar(&f.keep, "keep", train.DefaultKeep, "checkpoints to keep")
	fs.StringVar(&f.data, "data", mnist.DefaultDir(), "MNIST `DIR` (fetched there when missing; env CONVNET_DATA)")
	fs.IntVar(&f.trainSubset, "train-subset", 0, "train on the first `N` training images only (0: all 55,000)")
	fs.IntVar(&f.testSubset, "test-subset", 0, "evaluate on the first `N` validation and test images only (0: all)")
	fs.IntVar(&f.steps, "steps", 0, "stop each epoch after `N` steps (0: whole epochs)")
	fs.IntVar(&f.logEvery, "log-every", train.DefaultLogEvery, "print the loss every `N` steps")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar: auto (when stdout is a terminal), always or never")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected arguments %q (train takes only flags)", fs.Args())
	}
	if err := checkTrainFlags(&f); err != nil {
		return err
	}
	if f.checkpointDir == "" {
		f.checkpointDir = filepath.Join(f.logdir, "checkpoints")
	}
	if err := checkWritable(f.logdir); err != nil {
		return badInput(err)
	}

	data, err := train.LoadData(f.data, stderr, f.trainSubset, f.testSubset)
	if err != nil {
		return loadDataError(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process
	}()

	cfg := train.Config{
		Epochs: f.epochs, BatchSize: f.batchSize, LR: f.lr, Optimizer: f.optimizer, Init: f.init,
		DropoutRate: float32(f.dropout), Seed: f.seed,
		LogDir: f.logdir, CheckpointDir: f.checkpointDir, Keep: f.keep, Resume: f.resume,
		StepsPerEpoch: f.steps, LogEvery: f.logEvery,
		Out: stdout, Progress: f.progress == "always" || f.progress == "auto" && isTerminal(stdout),
		Describe: printSequentialSummary,
	}
	res, err := train.Run(ctx, cfg, data)
	var ce *train.ConfigError
	switch {
	case errors.As(err, &ce):
		return badInput(err)
	case errors.Is(err, train.ErrInterrupted):
		return &exitError{code: 130, err: err}
	case err != nil:
		return err
	}
	if len(res.Epochs) == 0 {
		fmt.Fprintf(stdout, "already trained %d epoch(s) (step %d), --epochs is %d; raise it to train more\n", res.Epoch, res.Step, f.epochs)
	}
	fmt.Fprintf(stdout, "metrics: %s  checkpoint: %s  TensorBoard: tensorboard --logdir %s\n",
		filepath.Join(f.logdir, "metrics.jsonl"), res.Checkpoint, f.logdir)
	return nil
}

// loadDataError gives bad MNIST files (a *train.ConfigError) exit code 2;
// a failed fetch stays an ordinary failure.
func loadDataError(err error) error {
	var ce *train.ConfigError
	if errors.As(err, &ce) {
		return badInput(err)
	}
	return err
}

// printSequentialSummary prints the Keras-style summary of the model
// train is about to fit (28x28x1 inputs).
func printSequentialSummary(w io.Writer, m *layers.Sequential) error {
	s, err := keras.SequentialSummary(m, []int{1, models.ImageSize, models.ImageSize, 1})
	if err != nil {
		return err
	}
	_, err = s.WriteTo(w)
	return err
}

// checkTrainFlags rejects values that cannot work, naming the flag.
func checkTrainFlags(f *trainFlags) error {
	switch {
	case f.epochs < 1:
		return usageErrorf("--epochs must be at least 1, got %d", f.epochs)
	case f.batchSize < 1:
		return usageErrorf("--batch-size must be at least 1, got %d", f.batchSize)
	case !(f.lr > 0):
		return usageErrorf("--lr must be positive, got %v", f.lr)
	case !(f.dropout >= 0 && f.dropout < 1):
		return usageErrorf("--dropout is the drop rate and must be in [0, 1), got %v", f.dropout)
	case f.init != models.InitGlorot && f.init != models.InitLecture:
		return usageErrorf("--init must be %s or %s, got %q", models.InitGlorot, models.InitLecture, f.init)
	case f.keep < 1:
		return usageErrorf("--keep must be at least 1, got %d", f.keep)
	case f.trainSubset < 0:
		return usageErrorf("--train-subset must not be negative, got %d", f.trainSubset)
	case f.testSubset < 0:
		return usageErrorf("--test-subset must not be negative, got %d", f.testSubset)
	case f.steps < 0:
		return usageErrorf("--steps must not be negative, got %d", f.steps)
	case f.logEvery < 1:
		return usageErrorf("--log-every must be at least 1, got %d", f.logEvery)
	case f.progress != "auto" && f.progress != "always" && f.progress != "never":
		return usageErrorf("--progress must be auto, always or never, got %q", f.progress)
	}
	if _, err := train.NewOptimizer(f.optimizer, f.lr); err != nil {
		return usageErrorf("--optimizer: %v", err)
	}
	return nil
}

// checkWritable checks that dir, or the nearest existing directory above
// it, takes a new file, without creating dir: a run refused later for bad
// data leaves nothing behind.
func checkWritable(dir string) error {
	p := filepath.Clean(dir)
	for {
		st, err := os.Stat(p)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("log directory %s is not writable: %s is not a directory", dir, p)
			}
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("log directory %s is not writable: %v", dir, err)
		}
		p = parent
	}
	f, err := os.CreateTemp(p, ".write-test-*")
	if err != nil {
		return fmt.Errorf("log directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
