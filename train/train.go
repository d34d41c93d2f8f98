// Package train is the training loop: epochs of shuffled mini-batches
// from any data.Dataset (the lecture's MNIST by default), evaluation after
// each epoch, learning-rate schedules and callbacks, metrics.jsonl,
// TensorBoard summaries, checkpoints and exact resume. The model is the
// lecture's ConvNet sized to the data, or any layers.Network (a
// *layers.Sequential or a functional *layers.Model) given in Config.Model.
//
// A run is deterministic at a fixed GOMAXPROCS: the initial weights come
// from Config.Seed, the epoch's example order from (Config.Seed, epoch),
// and each dropout mask from (Config.Seed, global step). A checkpoint
// stores the weights, the optimizer slots and iteration count, the global
// step and the position in the epoch's batch order, so training N epochs
// in one go or in several resumed pieces gives bit-identical weights.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/summary"
	"github.com/convnet-go/convnet/tensor"
)

// Defaults of the lecture's training setup.
const (
	DefaultBatchSize     = 128
	DefaultLR            = 0.001
	DefaultOptimizer     = "adam"
	DefaultLogEvery      = 20
	DefaultEvalBatchSize = 1000
	DefaultKeep          = 5
)

// Config describes a training run. Zero values of the optional fields
// take the defaults above.
type Config struct {
	// Epochs is the total number of epochs the run should reach; a
	// resumed run continues from its checkpoint up to Epochs.
	Epochs int
	// BatchSize is the mini-batch size (default 128).
	BatchSize int
	// LR is the learning rate (default 0.001).
	LR float64
	// Optimizer is adam (default), sgd, momentum, rmsprop or adamw.
	Optimizer string
	// Init is models.InitGlorot (also "") or models.InitLecture.
	Init string
	// DropoutRate is the fc dropout rate while training (the lecture's
	// 0.25 is models.LectureDropout; 0 disables dropout).
	DropoutRate float32
	// Seed seeds the initial weights, the shuffles and dropout.
	Seed uint64
	// Schedule, when set, gives the learning rate of every update
	// (LR(step) before update step+1); LR is then only informational.
	Schedule Schedule

	// LogDir receives metrics.jsonl and the TensorBoard runs train/ and
	// eval/; "" writes none of them.
	LogDir string
	// CheckpointDir receives a checkpoint after every epoch (and on
	// interruption); "" disables checkpoints.
	CheckpointDir string
	// Keep is how many checkpoints to retain (default 5).
	Keep int
	// Resume restores the latest checkpoint of CheckpointDir first. When
	// Resume is false, CheckpointDir must not hold checkpoints yet.
	Resume bool

	// StepsPerEpoch caps the batches of each epoch (0: all of them), for
	// short runs and tests.
	StepsPerEpoch int
	// LogEvery prints the loss every this many steps (default 20).
	LogEvery int
	// EvalBatchSize is the batch size of evaluation (default 1000).
	EvalBatchSize int

	// Out receives progress and per-epoch lines (nil: discarded).
	Out io.Writer
	// Describe, when set, prints the model, which takes inputs of shape
	// input ([1, H, W, C]), to Out at the start (the command line prints a
	// Keras-style summary); its error stops Run.
	Describe func(out io.Writer, m layers.Network, input []int) error
	// Progress draws a progress bar with carriage returns (for a
	// terminal) instead of printing plain lines only.
	Progress bool

	// Model, when set, is trained instead of the lecture's ConvNet; it
	// must take the data's [N, H, W, C] images and return [N, classes]
	// logits (Run checks both shapes first). Init and DropoutRate then do
	// not apply. Its regularization penalties (Model.Losses) are added to
	// the loss that is minimised and reported, as Keras does.
	Model layers.Network
	// ModelName names Model in checkpoint metadata: by default
	// Architecture's name when set (a different one is an error), else
	// "custom".
	ModelName string
	// Architecture, when set, describes Model; checkpoints record it so
	// that LoadModel (eval, predict, serve, export) can rebuild the model.
	// Without it a custom Model's checkpoints hold weights only. The
	// lecture's ConvNet (Model nil) records its own.
	Architecture *Architecture
	// Augment is applied to training batches only.
	Augment data.Augment
	// Workers read and augment examples (default GOMAXPROCS).
	Workers int
	// SkipBadImages drops examples that fail to read and counts them,
	// instead of stopping the run.
	SkipBadImages bool
	// Callbacks run after each epoch's evaluation, in order.
	Callbacks []Callback

	// afterStep, when set (by tests), runs after every optimizer step.
	afterStep func(step int64)
}

// EpochMetrics is one line of metrics.jsonl.
type EpochMetrics struct {
	Epoch           int     `json:"epoch"`             // 1-based
	Step            int64   `json:"step"`              // global step after the epoch
	TrainLoss       float64 `json:"train_loss"`        // mean training loss over the epoch's examples
	TrainAccuracy   float64 `json:"train_accuracy"`    // share of the epoch's training examples predicted right (dropout on)
	ValLoss         float64 `json:"val_loss"`          // mean cross-entropy on Data.Validation
	ValAccuracy     float64 `json:"val_accuracy"`      // on Data.Validation, dropout off
	TestLoss        float64 `json:"test_loss"`         // mean cross-entropy on Data.Test
	TestAccuracy    float64 `json:"test_accuracy"`     // on Data.Test, dropout off
	LR              float64 `json:"lr"`                // learning rate of the epoch's last update
	Skipped         int     `json:"skipped,omitempty"` // unreadable training examples dropped (SkipBadImages)
	EpochSeconds    float64 `json:"epoch_seconds"`     // training time of the epoch (this process only)
	ImagesPerSecond float64 `json:"images_per_second"` // training images / EpochSeconds
	EvalSeconds     float64 `json:"eval_seconds"`      // time spent evaluating validation + test
}

// Result is what Run returns.
type Result struct {
	// Epochs holds the metrics of the epochs trained by this call.
	Epochs []EpochMetrics
	// Step is the global step reached.
	Step int64
	// Epoch is the number of epochs completed, by this call and before.
	Epoch int
	// Checkpoint is the path of the last checkpoint written or restored.
	Checkpoint string
	// Model is the trained model.
	Model layers.Network
	// Stopped is set when a callback (EarlyStopping) ended the run.
	Stopped bool
}

// ErrInterrupted is returned (wrapped) when the context is cancelled: the
// run stopped between two steps after saving a checkpoint.
var ErrInterrupted = errors.New("training interrupted")

// ConfigError reports a configuration that cannot run: bad values, an
// unwritable log directory, a checkpoint directory in the way, or a
// checkpoint that does not fit the model.
type ConfigError struct{ Err error }

// Error returns the underlying message.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

func configErrorf(format string, args ...any) error {
	return &ConfigError{Err: fmt.Errorf(format, args...)}
}

// DivergedError reports a NaN or infinite loss. The step's update was not
// applied and no checkpoint was written after it.
type DivergedError struct {
	Step       int64   // global step whose loss was not finite
	Epoch      int     // 1-based
	Batch      int     // 1-based batch within the epoch
	Loss       float64 // the NaN or ±Inf value
	Checkpoint string  // the last good checkpoint, "" if none
}

// Error says at which step the loss stopped being finite and which
// checkpoint is the last good one.
func (e *DivergedError) Error() string {
	last := "no checkpoint was written before it"
	if e.Checkpoint != "" {
		last = "the last good checkpoint is " + e.Checkpoint
	}
	return fmt.Sprintf("loss is %v at step %d (epoch %d, batch %d); stopped without saving; %s",
		e.Loss, e.Step, e.Epoch, e.Batch, last)
}

// withDefaults fills the zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.LR == 0 {
		c.LR = DefaultLR
	}
	if c.Optimizer == "" {
		c.Optimizer = DefaultOptimizer
	}
	if c.Init == "" {
		c.Init = models.InitGlorot
	}
	if c.Keep == 0 {
		c.Keep = DefaultKeep
	}
	if c.LogEvery == 0 {
		c.LogEvery = DefaultLogEvery
	}
	if c.EvalBatchSize == 0 {
		c.EvalBatchSize = DefaultEvalBatchSize
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	switch {
	case c.Epochs < 1:
		return c, configErrorf("epochs must be at least 1, got %d", c.Epochs)
	case c.BatchSize < 1:
		return c, configErrorf("batch size must be at least 1, got %d", c.BatchSize)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return c, configErrorf("learning rate must be a positive number, got %v", c.LR)
	case !(c.DropoutRate >= 0 && c.DropoutRate < 1):
		return c, configErrorf("dropout rate must be in [0, 1), got %v", c.DropoutRate)
	case c.Keep < 1:
		return c, configErrorf("keep must be at least 1, got %d", c.Keep)
	case c.StepsPerEpoch < 0 || c.LogEvery < 0 || c.EvalBatchSize < 0:
		return c, configErrorf("steps per epoch, log interval and eval batch size must not be negative, got %d, %d, %d",
			c.StepsPerEpoch, c.LogEvery, c.EvalBatchSize)
	}
	if c.Init != models.InitGlorot && c.Init != models.InitLecture {
		return c, configErrorf("init must be %q or %q, got %q", models.InitGlorot, models.InitLecture, c.Init)
	}
	if _, err := NewOptimizer(c.Optimizer, c.LR); err != nil {
		return c, &ConfigError{Err: err}
	}
	return c, nil
}

// Optimizers lists the names NewOptimizer accepts.
var Optimizers = []string{"adam", "sgd", "momentum", "rmsprop", "adamw"}

// NewOptimizer returns the optimizer called name with learning rate lr and
// TF1's defaults for everything else (momentum 0.9 for "momentum").
func NewOptimizer(name string, lr float64) (optim.Optimizer, error) {
	switch name {
	case "adam":
		return optim.NewAdam(optim.AdamConfig{LR: lr}), nil
	case "sgd":
		return optim.NewSGD(lr), nil
	case "momentum":
		return optim.NewMomentum(lr, 0.9, false), nil
	case "rmsprop":
		return optim.NewRMSProp(optim.RMSPropConfig{LR: lr}), nil
	case "adamw":
		return optim.NewAdamW(optim.AdamWConfig{LR: lr}), nil
	}
	return nil, fmt.Errorf("unknown optimizer %q, want one of %s", name, strings.Join(Optimizers, ", "))
}

// trainer is the state of one Run.
type trainer struct {
	cfg   Config
	data  Data
	model layers.Network
	vars  []*autograd.Var
	opt   optim.Optimizer
	ws    autograd.Workspace // owns each step's intermediates and gradients

	step       int64   // optimizer updates done
	epoch      int     // 0-based epoch in progress
	batch      int     // batches of that epoch done
	lossSum    float64 // Σ batch mean loss · batch size over this epoch
	imagesSeen int     // examples trained this epoch
	correct    int     // of those, predicted right
	lr         float64 // learning rate of the next update
	stopped    bool    // a callback ended the run
	history    []EpochMetrics
	lastCkpt   string
	modelName  string
	arch       string                               // Config.Architecture as MetaArchitecture stores it
	kept       map[string]map[string]*tensor.Tensor // Control.SaveWeights without a checkpoint dir

	trainW, evalW *summary.Writer
	tb            *tensorBoard // graph, hparams and pictures (tensorboard.go)
	metrics       *os.File
	progress      *progress
	locks         []*os.File // hold the directory locks (lockDirs)
}

// Run trains the lecture's ConvNet on data as cfg says and returns the
// metrics of each epoch. It stops between two steps when ctx is cancelled,
// saving a checkpoint first, and returns an error wrapping ErrInterrupted.
// A non-finite loss stops the run with a *DivergedError; bad settings give
// a *ConfigError.
func Run(ctx context.Context, cfg Config, d Data) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if data.Len(d.Train) == 0 {
		return nil, configErrorf("no training examples")
	}
	model, name := cfg.Model, cfg.ModelName
	if model == nil {
		sh := d.Train.Shape()
		name = models.ConvNetName
		cfg.Architecture = &Architecture{Name: name, Input: [3]int{sh.H, sh.W, sh.C}, Classes: len(d.Train.Classes())}
		if model, err = cfg.Architecture.build(cfg.Seed, cfg.DropoutRate, cfg.Init); err != nil {
			return nil, &ConfigError{Err: err}
		}
	} else if a := cfg.Architecture; a != nil {
		// LoadModel refuses a checkpoint whose model name is not its
		// architecture's: the name follows the architecture.
		if name != "" && name != a.Name {
			return nil, configErrorf("Config.ModelName %q and Config.Architecture of model %q disagree", name, a.Name)
		}
		name = a.Name
	} else if name == "" {
		name = "custom"
	}
	if err := CheckShapes(model, d.Train.Shape(), len(d.Train.Classes())); err != nil {
		return nil, &ConfigError{Err: err}
	}
	if a := cfg.Architecture; a != nil {
		if err := a.FitsData(d.Train.Shape(), len(d.Train.Classes())); err != nil {
			return nil, &ConfigError{Err: err}
		}
	}
	opt, _ := NewOptimizer(cfg.Optimizer, cfg.LR)
	t := &trainer{cfg: cfg, data: d, model: model, vars: model.Variables(), opt: opt, lr: cfg.LR, modelName: name}
	if cfg.Architecture != nil {
		t.arch = cfg.Architecture.String()
	}
	defer t.close()

	if err := t.openCheckpoints(); err != nil {
		return nil, err
	}
	if t.epoch < cfg.Epochs { // a resumed run with nothing to train writes no logs
		if err := t.openLogs(); err != nil {
			return nil, err
		}
	}
	t.progress = newProgress(cfg.Out, cfg.Progress)
	if cfg.Describe != nil {
		sh := t.data.Train.Shape()
		if err := cfg.Describe(cfg.Out, model, []int{1, sh.H, sh.W, sh.C}); err != nil {
			return nil, err
		}
	}
	t.describe()

	res := &Result{Model: model}
	for t.epoch < cfg.Epochs && !t.stopped {
		m, err := t.runEpoch(ctx)
		if err != nil {
			res.Step, res.Epoch, res.Checkpoint = t.step, t.epoch, t.lastCkpt
			return res, err
		}
		res.Epochs = append(res.Epochs, m)
		if ctx.Err() != nil && t.epoch < cfg.Epochs && !t.stopped {
			res.Step, res.Epoch, res.Checkpoint = t.step, t.epoch, t.lastCkpt
			return res, fmt.Errorf("%w after epoch %d; resume from %s", ErrInterrupted, t.epoch, t.lastCkpt)
		}
	}
	res.Step, res.Epoch, res.Checkpoint, res.Stopped = t.step, t.epoch, t.lastCkpt, t.stopped
	return res, t.tb.finish()
}

// describe prints the run's setup.
func (t *trainer) describe() {
	c := t.cfg
	n := data.Len
	steps := t.stepsPerEpoch()
	// Init and DropoutRate shape the lecture's ConvNet only; another
	// model was built with its own.
	initDropout := fmt.Sprintf(", init %s, dropout %g", c.Init, c.DropoutRate)
	if c.Model != nil {
		initDropout = ""
	}
	fmt.Fprintf(c.Out, "training %s: %d train / %d validation / %d test images, batch %d, %d steps per epoch, %s lr %g%s, seed %d\n",
		t.modelName, n(t.data.Train), n(t.data.Validation), n(t.data.Test), c.BatchSize, steps, c.Optimizer, c.LR, initDropout, c.Seed)
	if t.data.Name != "" && t.data.Name != "mnist" || t.data.Normalize != nil || c.Augment.Active() || c.Schedule != nil || len(c.Callbacks) > 0 {
		norm := "none"
		if t.data.Normalize != nil {
			norm = t.data.Normalize.String()
		}
		sched := "constant"
		if c.Schedule != nil {
			sched = c.Schedule.String()
		}
		fmt.Fprintf(c.Out, "data %s, images %v, %d classes, normalisation %s, augmentation %s, schedule %s\n",
			t.data.Name, t.data.Train.Shape(), len(t.data.Train.Classes()), norm, c.Augment, sched)
	}
	if t.step > 0 {
		fmt.Fprintf(c.Out, "resumed from %s at step %d (epoch %d, batch %d)\n", t.lastCkpt, t.step, t.epoch+1, t.batch)
	}
}

// runEpoch trains the rest of epoch t.epoch, evaluates, logs and saves.
func (t *trainer) runEpoch(ctx context.Context) (EpochMetrics, error) {
	c := t.cfg
	shuffleSeed := layers.DeriveSeed(c.Seed, "shuffle")
	b := data.NewBatches(t.data.Train, data.BatchOptions{BatchSize: c.BatchSize, Shuffle: true, Seed: shuffleSeed,
		Augment: c.Augment, Normalize: t.data.Normalize, Workers: c.Workers, SkipBad: c.SkipBadImages}, t.epoch)
	defer b.Close()
	if err := b.Err(); err != nil {
		return EpochMetrics{}, err
	}
	steps := t.stepsPerEpoch()
	if t.batch > 0 {
		b.Skip(t.batch)
	}
	start := time.Now()
	images0, batch0 := t.imagesSeen, t.batch
	for t.batch < steps {
		if ctx.Err() != nil {
			if err := t.save(); err != nil {
				return EpochMetrics{}, fmt.Errorf("%w, but saving the checkpoint failed: %v", ErrInterrupted, err)
			}
			t.progress.clear()
			return EpochMetrics{}, fmt.Errorf("%w at step %d (epoch %d, batch %d of %d); resume from %s",
				ErrInterrupted, t.step, t.epoch+1, t.batch, steps, t.lastCkpt)
		}
		x, labels, ok := b.Next()
		if !ok {
			t.progress.clear()
			if err := b.Err(); err != nil {
				return EpochMetrics{}, fmt.Errorf("train: epoch %d, batch %d: %w (--skip-bad-images drops unreadable images instead)", t.epoch+1, t.batch+1, err)
			}
			return EpochMetrics{}, fmt.Errorf("train: epoch %d ended after %d of %d batches", t.epoch+1, t.batch, steps)
		}
		if len(labels) == 0 { // every example of the batch was unreadable and skipped
			t.batch++
			continue
		}
		loss, correct, err := t.trainStep(x, labels)
		if err != nil {
			t.progress.clear()
			return EpochMetrics{}, err
		}
		t.batch++
		t.lossSum += loss * float64(len(labels))
		t.imagesSeen += len(labels)
		t.correct += correct
		if c.LogEvery > 0 && t.step%int64(c.LogEvery) == 0 {
			t.progress.line(fmt.Sprintf("step %d  epoch %d  loss %.4f", t.step, t.epoch+1, loss))
			if t.trainW != nil {
				if err := t.trainW.Scalar("loss", t.step, loss); err != nil {
					return EpochMetrics{}, err
				}
				if err := t.trainW.Scalar("accuracy", t.step, float64(correct)/float64(len(labels))); err != nil {
					return EpochMetrics{}, err
				}
			}
		}
		elapsed := time.Since(start)
		// The ETA covers the rest of the run: this epoch's remaining
		// steps and the later epochs', at this epoch's pace.
		left := steps - t.batch + (c.Epochs-t.epoch-1)*steps
		eta := elapsed / time.Duration(t.batch-batch0) * time.Duration(left)
		t.progress.bar(t.epoch+1, c.Epochs, t.batch, steps, loss, float64(t.imagesSeen-images0)/elapsed.Seconds(), eta)
		if c.afterStep != nil {
			c.afterStep(t.step)
		}
	}
	trainSeconds := time.Since(start).Seconds()
	t.progress.clear()

	m := EpochMetrics{Epoch: t.epoch + 1, Step: t.step, EpochSeconds: trainSeconds, LR: t.lr, Skipped: b.Skipped()}
	if t.imagesSeen > 0 {
		m.TrainLoss = t.lossSum / float64(t.imagesSeen)
		m.TrainAccuracy = float64(t.correct) / float64(t.imagesSeen)
	}
	if trainSeconds > 0 {
		m.ImagesPerSecond = float64(t.imagesSeen-images0) / trainSeconds
	}
	evalStart := time.Now()
	var val, test Evaluation
	var err error
	if data.Len(t.data.Validation) > 0 {
		if val, err = evaluate(t.model, t.data.Validation, c.EvalBatchSize, t.data.Normalize, c.SkipBadImages); err != nil {
			return m, err
		}
	}
	if data.Len(t.data.Test) > 0 {
		if test, err = evaluate(t.model, t.data.Test, c.EvalBatchSize, t.data.Normalize, c.SkipBadImages); err != nil {
			return m, err
		}
	}
	m.ValAccuracy, m.TestAccuracy = val.Accuracy, test.Accuracy
	m.ValLoss, m.TestLoss = val.Loss, test.Loss
	m.EvalSeconds = time.Since(evalStart).Seconds()

	t.epoch++
	t.batch, t.lossSum, t.imagesSeen, t.correct = 0, 0, 0, 0
	t.history = append(t.history, m)
	if err := t.runCallbacks(m); err != nil {
		return m, err
	}
	if err := t.save(); err != nil {
		return m, err
	}
	if err := t.logEpoch(m, val, test); err != nil {
		return m, err
	}
	saved := ""
	if t.lastCkpt != "" {
		saved = "  saved " + t.lastCkpt
	}
	acc := ""
	if val.N > 0 {
		acc += fmt.Sprintf("  val loss %.4f  val %.4f", m.ValLoss, m.ValAccuracy)
	}
	if test.N > 0 {
		acc += fmt.Sprintf("  test %.4f", m.TestAccuracy)
	}
	fmt.Fprintf(c.Out, "epoch %d/%d  step %d  loss %.4f%s  %.1f s  %.0f images/s%s\n",
		m.Epoch, c.Epochs, m.Step, m.TrainLoss, acc, m.EpochSeconds, m.ImagesPerSecond, saved)
	return m, nil
}

// trainStep runs forward, backward and the optimizer on one batch and
// returns the batch's mean loss and the number of correct predictions.
func (t *trainer) trainStep(x *tensor.Tensor, labels []int) (float64, int, error) {
	logits := t.model.Call(autograd.Constant(x), layers.Context{Training: true, Step: t.step})
	loss := withPenalties(autograd.ReduceMean(autograd.SparseSoftmaxCrossEntropyWithLogits(labels, logits)), t.model)
	// The step's activations and gradients become the next step's
	// storage once the step is over.
	t.ws.Own(loss)
	defer t.ws.Reset()
	if err := loss.Err(); err != nil {
		return 0, 0, fmt.Errorf("train: step %d: %w", t.step+1, err)
	}
	l := float64(loss.Value().Data()[0])
	if !finite(l) {
		return l, 0, &DivergedError{Step: t.step + 1, Epoch: t.epoch + 1, Batch: t.batch + 1, Loss: l, Checkpoint: t.lastCkpt}
	}
	grads, err := t.ws.Gradient(loss, t.vars...)
	if err != nil {
		return 0, 0, fmt.Errorf("train: step %d: %w", t.step+1, err)
	}
	if t.cfg.Schedule != nil {
		t.lr = t.cfg.Schedule.LR(t.step)
	}
	if s, ok := t.opt.(optim.LRSetter); ok {
		s.SetLearningRate(t.lr)
	}
	if err := t.opt.Step(t.vars, grads); err != nil {
		return 0, 0, fmt.Errorf("train: step %d: %w", t.step+1, err)
	}
	t.step++
	correct := countCorrect(logits.Value(), labels)
	return l, correct, nil
}

// withPenalties returns loss + Σ m.Losses(): the regularization
// penalties of m's current weights added to the data loss, as Keras adds
// model.losses to the loss it minimises and reports.
func withPenalties(loss *autograd.Var, m layers.Network) *autograd.Var {
	for _, p := range m.Losses() {
		loss = autograd.Add(loss, p)
	}
	return loss
}

// CheckShapes checks that m takes images of shape sh ([N, H, W, C]) and
// returns [N, classes] logits; the error names what the model takes or
// gives and what the data needs.
func CheckShapes(m layers.Network, sh data.Shape, classes int) error {
	in := []int{1, sh.H, sh.W, sh.C}
	if err := m.Build(in); err != nil {
		return fmt.Errorf("model %s does not take the data's %dx%dx%d images: %w", m.Name(), sh.H, sh.W, sh.C, err)
	}
	out, err := m.OutputShape(in)
	if err != nil {
		return fmt.Errorf("model %s does not take the data's %dx%dx%d images: %w", m.Name(), sh.H, sh.W, sh.C, err)
	}
	if len(out) != 2 || out[1] != classes {
		return fmt.Errorf("model %s outputs %v for one image, the data has %d classes: want [1 %d]", m.Name(), out, classes, classes)
	}
	return nil
}

// openLogs creates the log directory, metrics.jsonl and the summary
// writers.
func (t *trainer) openLogs() error {
	dir := t.cfg.LogDir
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return configErrorf("cannot create log directory: %v", err)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if t.step > 0 {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		t.history = readHistory(filepath.Join(dir, "metrics.jsonl"), t.epoch)
	}
	f, err := os.OpenFile(filepath.Join(dir, "metrics.jsonl"), flags, 0o644)
	if err != nil {
		return configErrorf("cannot write to log directory %s: %v", dir, err)
	}
	t.metrics = f
	if t.trainW, err = summary.NewWriter(filepath.Join(dir, "train")); err != nil {
		return configErrorf("cannot write TensorBoard summaries: %v", err)
	}
	if t.evalW, err = summary.NewWriter(filepath.Join(dir, "eval")); err != nil {
		return configErrorf("cannot write TensorBoard summaries: %v", err)
	}
	if err := t.openTensorBoard(); err != nil {
		return configErrorf("cannot write TensorBoard summaries: %v", err)
	}
	return nil
}

// logEpoch appends the epoch's metrics and writes its summaries.
func (t *trainer) logEpoch(m EpochMetrics, val, test Evaluation) error {
	if t.metrics == nil {
		return nil
	}
	line, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := t.metrics.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("train: writing metrics: %w", err)
	}
	w, e := t.trainW, t.evalW
	errs := []error{
		w.Scalar("epoch_loss", t.step, m.TrainLoss),
		w.Scalar("images_per_second", t.step, m.ImagesPerSecond),
		w.Scalar("learning_rate", t.step, m.LR),
	}
	if data.Len(t.data.Test) > 0 {
		errs = append(errs, e.Scalar("accuracy", t.step, test.Accuracy), e.Scalar("loss", t.step, test.Loss))
	}
	if data.Len(t.data.Validation) > 0 {
		errs = append(errs, e.Scalar("validation_accuracy", t.step, val.Accuracy), e.Scalar("validation_loss", t.step, val.Loss))
	}
	for _, v := range t.vars {
		errs = append(errs, w.Histogram(v.Name(), t.step, v.Value().Data()))
	}
	if conv1, ok := layerNamed(t.model, "conv1").(*layers.Conv2D); ok {
		img, err := KernelGrid(conv1.Kernel().Value())
		errs = append(errs, err)
		if err == nil {
			errs = append(errs, w.Image("conv1/kernels", t.step, img))
		}
	}
	errs = append(errs, t.writePictures(test), w.Flush(), e.Flush(), t.writeCurves())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("train: writing summaries: %w", err)
	}
	return nil
}

func (t *trainer) close() {
	defer unlockDirs(t.locks)
	t.tb.close()
	if t.trainW != nil {
		t.trainW.Close()
	}
	if t.evalW != nil {
		t.evalW.Close()
	}
	if t.metrics != nil {
		t.metrics.Close()
	}
}

// countCorrect counts the rows of logits [N, C] whose argmax is the label.
func countCorrect(logits *tensor.Tensor, labels []int) int {
	c := logits.Dim(1)
	d := logits.Data()
	n := 0
	for i, y := range labels {
		if argmax(d[i*c:(i+1)*c]) == y {
			n++
		}
	}
	return n
}

// argmax returns the index of the largest value (the first on ties).
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// isNotExist reports whether err means "no checkpoint".
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// stepsPerEpoch is ⌈N/BatchSize⌉, capped by StepsPerEpoch.
func (t *trainer) stepsPerEpoch() int {
	steps := (t.data.Train.Len() + t.cfg.BatchSize - 1) / t.cfg.BatchSize
	if c := t.cfg.StepsPerEpoch; c > 0 && c < steps {
		steps = c
	}
	return steps
}

// readHistory returns the metrics of epochs 1…epochs already in
// metrics.jsonl (for curves.png after a resume); unreadable lines are
// left out.
func readHistory(path string, epochs int) []EpochMetrics {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var h []EpochMetrics
	for _, line := range strings.Split(string(b), "\n") {
		var m EpochMetrics
		if json.Unmarshal([]byte(line), &m) == nil && m.Epoch >= 1 && m.Epoch <= epochs {
			h = append(h, m)
		}
	}
	return h
}
