package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/models/keras"
	"github.com/convnet-go/convnet/train"
)

func init() {
	register(command{name: "train", summary: "train the lecture's convnet on MNIST, Fashion-MNIST, CIFAR-10 or an image folder", run: runTrain})
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
	schedule, recipe               string
	dataFlags
	augment   string
	earlyStop int
	monitor   string
	saveBest  string
	skipBad   bool
	workers   int
	model     string
}

// dataFlags choose and shape the dataset (train and eval share them).
type dataFlags struct {
	dataset, imageSize, normalize string
	channels                      int
	valFraction                   float64
}

func (d *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.dataset, "dataset", "mnist", "`DATA` to train on: mnist, fashion-mnist, cifar:DIR (CIFAR-10 binary batches), or DIR (IDX files named as MNIST's, or one subfolder of images per class)")
	fs.StringVar(&d.imageSize, "image-size", "", "`HxW` images of a class folder are resized to (default: the first image's size)")
	fs.IntVar(&d.channels, "channels", 0, "channels of class-folder images: 1 (gray), 3 (RGB), 0 (the first image's)")
	fs.StringVar(&d.normalize, "normalize", "auto", "per-channel mean/std normalisation from the training split: auto (on for CIFAR and folders), on, off")
	fs.Float64Var(&d.valFraction, "val-fraction", train.DefaultValidationFraction, "share of a class folder held out for validation")
}

// options turns the flags into train.DataOptions.
func (d *dataFlags) options(dir string, log io.Writer, trainSubset, testSubset int) (train.DataOptions, error) {
	o := train.DataOptions{Dataset: d.dataset, Dir: dir, Log: log, TrainSubset: trainSubset, TestSubset: testSubset,
		Channels: d.channels, ValidationFraction: d.valFraction, Normalize: d.normalize}
	if d.imageSize != "" {
		hs, ws, ok := strings.Cut(strings.ToLower(d.imageSize), "x")
		h, err1 := strconv.Atoi(hs)
		w, err2 := strconv.Atoi(ws)
		if !ok || err1 != nil || err2 != nil || h < 4 || w < 4 || h > 4096 || w > 4096 {
			return o, usageErrorf("--image-size %q, want HxW with sizes 4…4096, e.g. 64x64", d.imageSize)
		}
		o.H, o.W = h, w
	}
	switch {
	case d.channels != 0 && d.channels != 1 && d.channels != 3:
		return o, usageErrorf("--channels must be 0, 1 or 3, got %d", d.channels)
	case d.normalize != "auto" && d.normalize != "on" && d.normalize != "off":
		return o, usageErrorf("--normalize must be auto, on or off, got %q", d.normalize)
	case !(d.valFraction > 0 && d.valFraction < 1):
		return o, usageErrorf("--val-fraction must be in (0, 1), got %v", d.valFraction)
	}
	return o, nil
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
	fs.StringVar(&f.model, "model", "lecture", "`MODEL` to train: lecture (the lecture's convnet), vgg (3 stages of two 3x3 convolutions with batch norm, 32/64/128 filters, dense 256, dropout; models.NewVGG), resnet (a small ResNet with batch norm: 3 stages of 16/32/64 filters, 2 residual blocks each; models.NewResNet), vgg:F1,F2,… or resnet:F1,F2,… (the same with F1, F2, … filters per stage, e.g. vgg:64,128,256), a Keras model.to_json() FILE.json (fresh weights from --seed), a TF.js model.json or a model DIR (config.json + model.safetensors; their weights are the start). With --resume and no --model, the checkpoint's own architecture")
	fs.StringVar(&f.recipe, "recipe", "lecture", "`NAME` of the starting settings, which other flags override: "+recipeDocs())
	fs.IntVar(&f.epochs, "epochs", defaultEpochs, "total `N` of epochs to reach (a resumed run continues up to N)")
	fs.IntVar(&f.batchSize, "batch-size", train.DefaultBatchSize, "mini-batch size; unset, the recipe's")
	fs.Float64Var(&f.lr, "lr", train.DefaultLR, "learning rate, the peak of a schedule; unset, the recipe's")
	fs.StringVar(&f.schedule, "schedule", "constant", "learning-rate schedule (unset, the recipe's): "+train.ScheduleSpecs)
	fs.Float64Var(&f.dropout, "dropout", models.LectureDropout, "fraction of fc units dropped while training (the lecture's keep_prob 0.75 is 0.25); unset, the recipe's")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the initial weights, the shuffles, dropout and augmentation")
	fs.StringVar(&f.init, "init", models.InitGlorot, "weight init: glorot, or lecture (truncated normal σ=1 kernels, normal conv biases)")
	fs.StringVar(&f.optimizer, "optimizer", train.DefaultOptimizer, "optimizer: "+strings.Join(train.Optimizers, ", "))
	fs.StringVar(&f.logdir, "logdir", filepath.Join("runs", "lecture"), "`DIR` for metrics.jsonl, curves.png and TensorBoard runs train/ and eval/")
	fs.StringVar(&f.checkpointDir, "checkpoint-dir", "", "checkpoint `DIR` (default <logdir>/checkpoints)")
	fs.BoolVar(&f.resume, "resume", false, "continue from the latest checkpoint")
	fs.IntVar(&f.keep, "keep", train.DefaultKeep, "checkpoints to keep")
	fs.StringVar(&f.data, "data", mnist.DefaultDir(), "MNIST `DIR` (fetched there when missing; env CONVNET_DATA); also searched for fashion-mnist/")
	f.dataFlags.register(fs)
	fs.StringVar(&f.augment, "augment", "none", "training augmentation `LIST`: shift:N (random crop after N-pixel padding), flip (left-right; not for digits), rotate:DEGREES, erase:P (random erasing of a rectangle with probability P, after normalisation); e.g. shift:2,rotate:10")
	fs.IntVar(&f.earlyStop, "early-stop", 0, "stop after `N` epochs without improvement of --monitor and restore the best epoch's weights (0: off)")
	fs.StringVar(&f.monitor, "monitor", "val_loss", "metric --early-stop watches: val_loss, val_accuracy, loss, accuracy")
	fs.StringVar(&f.saveBest, "save-best", "val_accuracy", "write <checkpoint-dir>/best.safetensors whenever this `METRIC` improves (none: off)")
	fs.BoolVar(&f.skipBad, "skip-bad-images", false, "drop and count unreadable images instead of stopping")
	fs.IntVar(&f.workers, "workers", 0, "goroutines reading and augmenting images (0: GOMAXPROCS)")
	fs.IntVar(&f.trainSubset, "train-subset", 0, "train on the first `N` training images only (0: all)")
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
	modelSet := false
	fs.Visit(func(fl *flag.Flag) { modelSet = modelSet || fl.Name == "model" })
	if err := applyRecipe(fs, &f); err != nil {
		return err
	}
	if err := checkTrainFlags(&f); err != nil {
		return err
	}
	aug, err := data.ParseAugment(f.augment)
	if err != nil {
		return usageErrorf("--augment: %v", err)
	}
	dopt, err := f.dataFlags.options(f.data, stderr, f.trainSubset, f.testSubset)
	if err != nil {
		return err
	}
	if f.checkpointDir == "" {
		f.checkpointDir = filepath.Join(f.logdir, "checkpoints")
	}
	if err := checkWritable(f.logdir); err != nil {
		return badInput(err)
	}

	dopt.SkipBad = f.skipBad
	d, err := train.LoadDataset(dopt)
	if err != nil {
		return loadDataError(err)
	}

	steps := int64((d.Train.Len() + f.batchSize - 1) / f.batchSize)
	if f.steps > 0 {
		steps = min(steps, int64(f.steps))
	}
	sched, plateau, err := train.ParseSchedule(f.schedule, f.lr, f.epochs, steps)
	if err != nil {
		return usageErrorf("--schedule: %v", err)
	}
	var callbacks []train.Callback
	if plateau != nil {
		callbacks = append(callbacks, plateau)
	}
	hasVal := data.Len(d.Validation) > 0
	if f.earlyStop > 0 {
		if strings.HasPrefix(f.monitor, "val_") && !hasVal {
			return usageErrorf("--early-stop watches %s, but dataset %s has no validation images", f.monitor, d.Name)
		}
		callbacks = append(callbacks, &train.EarlyStopping{Monitor: f.monitor, Patience: f.earlyStop, RestoreBest: true})
	}
	// Without validation images the default best-checkpoint metric has
	// nothing to watch: the callback is left out.
	if f.saveBest != "none" && (hasVal || !strings.HasPrefix(f.saveBest, "val_")) {
		callbacks = append(callbacks, &train.BestCheckpoint{Monitor: f.saveBest})
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process
	}()

	cfg := train.Config{
		Epochs: f.epochs, BatchSize: f.batchSize, LR: f.lr, Optimizer: f.optimizer, Init: f.init,
		DropoutRate: float32(f.dropout), Seed: f.seed, Schedule: sched,
		LogDir: f.logdir, CheckpointDir: f.checkpointDir, Keep: f.keep, Resume: f.resume,
		StepsPerEpoch: f.steps, LogEvery: f.logEvery,
		Augment: aug, Workers: f.workers, SkipBadImages: f.skipBad, Callbacks: callbacks,
		Out: stdout, Progress: f.progress == "always" || f.progress == "auto" && isTerminal(stdout),
		Describe: printNetworkSummary,
	}
	// --resume without --model continues with the checkpoint's own model.
	var choice train.ModelChoice
	found := false
	if f.resume && !modelSet {
		if choice, found, err = train.ResumeChoice(f.checkpointDir, f.seed, float32(f.dropout), f.init); err != nil {
			return badInput(fmt.Errorf("--resume: %w", err))
		}
	}
	if !found {
		if choice, err = train.ChooseModel(f.model, d.Train.Shape(), len(d.Train.Classes()), f.seed, float32(f.dropout), f.init); err != nil {
			return badInput(fmt.Errorf("--model %s: %w", f.model, err))
		}
	}
	cfg.Model, cfg.Architecture = choice.Model, choice.Architecture // the checkpoints name the model after its architecture
	if k := choice.Keras; k != nil {
		cfg.Describe = func(w io.Writer, _ layers.Network, _ []int) error {
			_, err := k.Summary().WriteTo(w)
			return err
		}
	}
	fmt.Fprintf(stdout, "model: %s\n", choice.From)
	res, err := train.Run(ctx, cfg, d)
	var ce *train.ConfigError
	var re *data.ReadError
	switch {
	case errors.As(err, &ce) || errors.As(err, &re):
		return badInput(err)
	case errors.Is(err, train.ErrInterrupted):
		return &exitError{code: 130, err: err}
	case err != nil:
		return err
	}
	if len(res.Epochs) == 0 {
		if res.Stopped {
			fmt.Fprintf(stdout, "this run was stopped early (step %d); nothing to do\n", res.Step)
		} else {
			fmt.Fprintf(stdout, "already trained %d epoch(s) (step %d), --epochs is %d; raise it to train more\n", res.Epoch, res.Step, f.epochs)
		}
	}
	fmt.Fprintf(stdout, "metrics: %s  curves: %s  checkpoint: %s  TensorBoard: tensorboard --logdir %s\n",
		filepath.Join(f.logdir, "metrics.jsonl"), filepath.Join(f.logdir, train.CurvesFile), res.Checkpoint, f.logdir)
	return nil
}

// recipeDocs lists the recipes for the flag's help.
func recipeDocs() string {
	var parts []string
	for _, n := range train.RecipeNames() {
		parts = append(parts, n+" ("+train.Recipes[n].Doc+")")
	}
	return strings.Join(parts, "; ")
}

// applyRecipe fills the flags the user did not set from the recipe.
func applyRecipe(fs *flag.FlagSet, f *trainFlags) error {
	r, err := train.LookupRecipe(f.recipe)
	if err != nil {
		return usageErrorf("--recipe: %v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !set["batch-size"] {
		f.batchSize = r.BatchSize
	}
	if !set["lr"] {
		f.lr = r.LR
	}
	if !set["schedule"] {
		f.schedule = r.Schedule
	}
	if !set["dropout"] {
		f.dropout = r.Dropout
	}
	if !set["normalize"] {
		f.normalize = r.Normalize
	}
	return nil
}

// loadDataError gives bad data files (a *train.ConfigError or an
// unreadable image, *data.ReadError) exit code 2;
// a failed fetch stays an ordinary failure.
func loadDataError(err error) error {
	var ce *train.ConfigError
	var re *data.ReadError
	if errors.As(err, &ce) || errors.As(err, &re) {
		return badInput(err)
	}
	return err
}

// printNetworkSummary prints the Keras-style summary of the model train
// is about to fit to inputs of the given shape: a table of layers for a
// Sequential, the counts and shapes for another model.
func printNetworkSummary(w io.Writer, m layers.Network, input []int) error {
	if seq, ok := m.(*layers.Sequential); ok {
		s, err := keras.SequentialSummary(seq, input)
		if err != nil {
			return err
		}
		_, err = s.WriteTo(w)
		return err
	}
	m = train.Raw(m)
	out, err := m.OutputShape(input)
	if err != nil {
		return err
	}
	all, trainable := 0, 0
	for _, v := range m.AllWeights() {
		all += v.Value().Len()
	}
	for _, v := range m.Variables() {
		trainable += v.Value().Len()
	}
	_, err = fmt.Fprintf(w, "Model: %q (%T; the layer table is printed for Sequential models and Keras files)\ninput %v, output %v\nTotal params: %d\nTrainable params: %d\nNon-trainable params: %d\n",
		m.Name(), m, input[1:], out[1:], all, trainable, all-trainable)
	return err
}

// maxEpochs bounds --epochs so that a run's step count (epochs × steps
// per epoch, which the schedules divide) stays far from overflowing.
const maxEpochs = 1_000_000

// checkTrainFlags rejects values that cannot work, naming the flag.
func checkTrainFlags(f *trainFlags) error {
	_, _, builtin, modelErr := train.ParseBuiltin(f.model)
	switch {
	case f.epochs < 1 || f.epochs > maxEpochs:
		return usageErrorf("--epochs must be 1…%d, got %d", maxEpochs, f.epochs)
	case f.batchSize < 1:
		return usageErrorf("--batch-size must be at least 1, got %d", f.batchSize)
	case !(f.lr > 0):
		return usageErrorf("--lr must be positive, got %v", f.lr)
	case !(f.dropout >= 0 && f.dropout < 1):
		return usageErrorf("--dropout is the drop rate and must be in [0, 1), got %v", f.dropout)
	case modelErr != nil:
		return usageErrorf("--model: %v", modelErr)
	case !builtin && !exists(f.model):
		return usageErrorf("--model must be lecture, vgg, resnet, a Keras JSON file, a TF.js model.json or a model directory; %q is none of them and no such file", f.model)
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
	case f.earlyStop < 0:
		return usageErrorf("--early-stop must not be negative, got %d", f.earlyStop)
	case f.workers < 0 || f.workers > 256:
		return usageErrorf("--workers must be 0…256, got %d", f.workers)
	case !knownMetric(f.monitor):
		return usageErrorf("--monitor must be val_loss, val_accuracy, loss or accuracy, got %q", f.monitor)
	case f.saveBest != "none" && !knownMetric(f.saveBest):
		return usageErrorf("--save-best must be none, val_loss, val_accuracy, loss or accuracy, got %q", f.saveBest)
	}
	if _, err := train.NewOptimizer(f.optimizer, f.lr); err != nil {
		return usageErrorf("--optimizer: %v", err)
	}
	return nil
}

// exists reports whether path names a file or directory.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// knownMetric reports whether m names a metric the callbacks can watch.
func knownMetric(m string) bool {
	switch m {
	case "val_loss", "val_accuracy", "loss", "accuracy":
		return true
	}
	return false
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
