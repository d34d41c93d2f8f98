package train

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/tensor"
)

// Checkpoint metadata keys. Numbers are decimal strings; floats use the
// shortest representation that reads back to the same float64.
const (
	MetaModel      = "model"                 // models.ConvNetName
	MetaStep       = "global_step"           // optimizer updates done
	MetaEpoch      = "epoch"                 // 0-based epoch in progress (= epochs completed when batch is 0)
	MetaBatch      = "batch"                 // batches of that epoch already trained
	MetaLossSum    = "epoch_loss_sum"        // Σ batch mean loss · batch size over those batches
	MetaImagesSeen = "epoch_images"          // examples trained in those batches
	MetaOptimizer  = "optimizer"             // adam, sgd, …
	MetaLR         = "learning_rate"         // informational
	MetaBatchSize  = "batch_size"            // must match to resume mid-epoch exactly
	MetaSeed       = "seed"                  // weights, shuffles and dropout
	MetaDropout    = "dropout_rate"          // informational
	MetaInit       = "init"                  // informational
	MetaTrainSize  = "train_examples"        // must match for the same batch order
	MetaCorrect    = "epoch_correct"         // training examples of those batches predicted right
	MetaStepsEpoch = "steps_per_epoch"       // 0 = full epochs
	MetaCurrentLR  = "current_learning_rate" // rate of the next update (schedules and callbacks change it)
	MetaInput      = "input_shape"           // "H,W,C" of the images the model takes
	MetaClasses    = "classes"               // JSON list of the class names, by label
	MetaNormalize  = "normalization"         // "mean,…;std,…" (data.Normalization.String); absent: none
	MetaDataset    = "dataset"               // informational: where the data came from
	MetaAugment    = "augment"               // informational
	MetaSchedule   = "schedule"              // informational
	MetaStopped    = "stopped"               // "true" once a callback ended the run
	metaCallback   = "callback/"             // prefix of each callback's state: callback/<name>/<key>
)

// openCheckpoints locks the log and checkpoint directories, removes the
// temporary files a killed save left, restores the latest checkpoint when
// resuming, and refuses to start from scratch over existing checkpoints.
func (t *trainer) openCheckpoints() error {
	dir := t.cfg.CheckpointDir
	if dir == "" {
		if t.cfg.Resume {
			return configErrorf("resume needs a checkpoint directory")
		}
		return nil
	}
	var err error
	if t.locks, err = lockDirs([2]string{"log directory", t.cfg.LogDir}, [2]string{"checkpoint directory", dir}); err != nil {
		return err
	}
	removed, err := checkpoint.RemoveTemp(dir)
	if err != nil {
		return err
	}
	if len(removed) > 0 {
		fmt.Fprintf(t.cfg.Out, "removed %d temporary file(s) an interrupted save left in %s\n", len(removed), dir)
	}
	latest, err := checkpoint.Latest(dir)
	switch {
	case err != nil && !isNotExist(err):
		return configErrorf("reading checkpoint directory %s: %v", dir, err)
	case err != nil:
		if t.cfg.Resume {
			fmt.Fprintf(t.cfg.Out, "no checkpoint in %s yet; starting from scratch\n", dir)
		}
		return nil
	case !t.cfg.Resume:
		return configErrorf("%s already holds checkpoints (latest %s): pass --resume to continue that run, or choose another log or checkpoint directory", dir, latest)
	}
	return t.restore(latest)
}

// restore loads the checkpoint at path into the model, the optimizer and
// the loop position.
func (t *trainer) restore(path string) error {
	tensors, meta, err := loadFinite(path)
	if err != nil {
		if prev := intactBefore(path); prev != "" {
			return configErrorf("cannot resume: %v\nthe previous checkpoint %s is intact: move %s out of the directory to resume from it", err, prev, path)
		}
		return configErrorf("cannot resume: %v", err)
	}
	if err := restoreWeights(t.model, tensors, meta, path, t.modelName); err != nil {
		return err
	}
	if got := meta[MetaArchitecture]; got != "" && t.arch != "" && got != t.arch {
		return configErrorf("checkpoint %s holds architecture %.200s; this run builds %.200s", path, got, t.arch)
	}
	if got := meta[MetaOptimizer]; got != t.cfg.Optimizer {
		return configErrorf("checkpoint %s was written with optimizer %q, this run uses %q", path, got, t.cfg.Optimizer)
	}
	pos, err := readPosition(meta, t.stepsPerEpoch())
	if err != nil {
		return configErrorf("checkpoint %s: %v", path, err)
	}
	slots := map[string]*tensor.Tensor{}
	weights := t.model.Weights()
	for name, v := range tensors {
		if _, ok := weights[name]; !ok {
			slots[name] = v
		}
	}
	if err := t.opt.SetSlots(slots); err != nil {
		return configErrorf("checkpoint %s: optimizer state does not fit: %v", path, err)
	}
	t.opt.SetIterations(pos.step)
	t.step, t.epoch, t.batch, t.imagesSeen, t.correct, t.lossSum = pos.step, pos.epoch, pos.batch, pos.imagesSeen, pos.correct, pos.lossSum
	t.lastCkpt = path
	if v, ok := meta[MetaCurrentLR]; ok {
		if t.lr, err = strconv.ParseFloat(v, 64); err != nil || !(t.lr > 0) || math.IsInf(t.lr, 1) {
			return configErrorf("train: checkpoint %s: metadata %q = %q is not a finite positive number", path, MetaCurrentLR, v)
		}
	}
	t.stopped = meta[MetaStopped] == "true"
	for _, c := range t.cfg.Callbacks {
		prefix := metaCallback + c.Name() + "/"
		st := map[string]string{}
		for k, v := range meta {
			if strings.HasPrefix(k, prefix) {
				st[strings.TrimPrefix(k, prefix)] = v
			}
		}
		if len(st) == 0 {
			continue // the checkpoint predates this callback: it starts fresh
		}
		if err := c.SetState(st); err != nil {
			return configErrorf("train: checkpoint %s: %w", path, err)
		}
	}

	// Settings that change the data order or masks make the resumed run
	// differ from an uninterrupted one; say so, but allow it.
	want := t.meta()
	var diffs []string
	for _, k := range []string{MetaBatchSize, MetaSeed, MetaTrainSize, MetaStepsEpoch, MetaLR, MetaDropout} {
		if meta[k] != want[k] {
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", k, meta[k], want[k]))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		fmt.Fprintf(t.cfg.Out, "note: resuming with changed settings (%s)\n", strings.Join(diffs, ", "))
	}
	return nil
}

// position is where a checkpoint stands in the run.
type position struct {
	step              int64
	epoch, batch      int
	imagesSeen        int
	correct           int // of those images, predicted right
	lossSum           float64
	trainExamples     int64
	checkpointBatches int64 // the checkpoint's batch_size
}

// maxEpochs bounds the epoch a checkpoint may claim; more than a million
// epochs is a forged or corrupt file.
const maxEpochs = 1_000_000

// readPosition parses and checks the loop position in meta: every count
// is a non-negative integer, an epoch and a batch each take at least one
// step (epoch ≤ global_step, batch ≤ global_step), the batch lies inside
// an epoch of stepsPerEpoch steps, the images seen fit in the batches
// done, the correct predictions (when recorded) in the images seen, and
// the loss sum is finite and not negative. Errors name the key,
// its value and what was expected.
func readPosition(meta map[string]string, stepsPerEpoch int) (position, error) {
	var p position
	num := func(k string, lo, hi int64) (int64, error) {
		v, err := strconv.ParseInt(meta[k], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("metadata %s = %q is not an integer", k, meta[k])
		}
		if v < lo || v > hi {
			return 0, fmt.Errorf("metadata %s = %d, want %d…%d", k, v, lo, hi)
		}
		return v, nil
	}
	var err error
	if p.step, err = num(MetaStep, 0, math.MaxInt64); err != nil {
		return p, err
	}
	epoch, err := num(MetaEpoch, 0, min(p.step, maxEpochs))
	if err != nil {
		return p, fmt.Errorf("%v (at most global_step %d and %d)", err, p.step, maxEpochs)
	}
	batch, err := num(MetaBatch, 0, min(p.step, int64(stepsPerEpoch)-1))
	if err != nil {
		return p, fmt.Errorf("%v (inside an epoch of %d steps, at most global_step %d)", err, stepsPerEpoch, p.step)
	}
	if p.trainExamples, err = num(MetaTrainSize, 0, math.MaxInt32); err != nil {
		return p, err
	}
	if p.checkpointBatches, err = num(MetaBatchSize, 1, math.MaxInt32); err != nil {
		return p, err
	}
	images, err := num(MetaImagesSeen, 0, batch*p.checkpointBatches)
	if err != nil {
		return p, fmt.Errorf("%v (batch %d of batch_size %d)", err, batch, p.checkpointBatches)
	}
	p.epoch, p.batch, p.imagesSeen = int(epoch), int(batch), int(images)
	if _, ok := meta[MetaCorrect]; ok { // absent in checkpoints that predate it
		correct, err := num(MetaCorrect, 0, images)
		if err != nil {
			return p, fmt.Errorf("%v (of %s %d)", err, MetaImagesSeen, images)
		}
		p.correct = int(correct)
	}
	p.lossSum, err = strconv.ParseFloat(meta[MetaLossSum], 64)
	if err != nil || math.IsNaN(p.lossSum) || math.IsInf(p.lossSum, 0) || p.lossSum < 0 {
		return p, fmt.Errorf("metadata %s = %q, want a finite number ≥ 0", MetaLossSum, meta[MetaLossSum])
	}
	return p, nil
}

// loadFinite is checkpoint.Load followed by checkpoint.CheckFinite.
func loadFinite(path string) (map[string]*tensor.Tensor, map[string]string, error) {
	tensors, meta, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if err := checkpoint.CheckFinite(tensors); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return tensors, meta, nil
}

// intactBefore returns the newest checkpoint older than bad in bad's
// directory index that loads with finite weights, or "".
func intactBefore(bad string) string {
	all, err := checkpoint.Retained(filepath.Dir(bad))
	if err != nil {
		return ""
	}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i] == bad {
			continue
		}
		if _, _, err := loadFinite(all[i]); err == nil {
			return all[i]
		}
	}
	return ""
}

// restoreWeights checks that a checkpoint belongs to the model and copies
// its weights in; a mismatch names each tensor with both shapes.
func restoreWeights(m layers.Network, tensors map[string]*tensor.Tensor, meta map[string]string, path, name string) error {
	if got := meta[MetaModel]; got != "" && got != name {
		return configErrorf("checkpoint %s holds model %q, not %q", path, got, name)
	}
	if err := m.SetWeights(tensors); err != nil {
		return configErrorf("checkpoint %s does not fit the model: %v", path, err)
	}
	return nil
}

// meta returns the checkpoint metadata of the current position.
func (t *trainer) meta() map[string]string {
	c := t.cfg
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	sh := t.data.Train.Shape()
	classes, _ := json.Marshal(t.data.Train.Classes())
	m := map[string]string{
		MetaModel:      t.modelName,
		MetaStep:       i(t.step),
		MetaEpoch:      i(int64(t.epoch)),
		MetaBatch:      i(int64(t.batch)),
		MetaLossSum:    f(t.lossSum),
		MetaImagesSeen: i(int64(t.imagesSeen)),
		MetaOptimizer:  c.Optimizer,
		MetaLR:         f(c.LR),
		MetaBatchSize:  i(int64(c.BatchSize)),
		MetaSeed:       strconv.FormatUint(c.Seed, 10),
		MetaDropout:    f(float64(c.DropoutRate)),
		MetaInit:       c.Init,
		MetaTrainSize:  i(int64(t.data.Train.Len())),
		MetaStepsEpoch: i(int64(c.StepsPerEpoch)),
		MetaCorrect:    i(int64(t.correct)),
		MetaCurrentLR:  f(t.lr),
		MetaInput:      fmt.Sprintf("%d,%d,%d", sh.H, sh.W, sh.C),
		MetaClasses:    string(classes),
		MetaDataset:    t.data.Name,
		MetaAugment:    c.Augment.String(),
	}
	if t.data.Normalize != nil {
		m[MetaNormalize] = t.data.Normalize.String()
	}
	if c.Schedule != nil {
		m[MetaSchedule] = c.Schedule.String()
	}
	if t.stopped {
		m[MetaStopped] = "true"
	}
	if t.arch != "" {
		m[MetaArchitecture] = t.arch
	}
	for _, cb := range c.Callbacks {
		for k, v := range cb.State() {
			m[metaCallback+cb.Name()+"/"+k] = v
		}
	}
	return m
}

// save writes a checkpoint of the current state (no-op without a
// checkpoint directory).
func (t *trainer) save() error {
	if t.cfg.CheckpointDir == "" {
		return nil
	}
	tensors := t.model.Weights()
	for name, v := range t.opt.Slots() {
		if _, clash := tensors[name]; clash {
			return fmt.Errorf("train: optimizer slot %q has the name of a weight", name)
		}
		tensors[name] = v
	}
	path, err := checkpoint.Save(t.cfg.CheckpointDir, t.step, tensors, t.meta(), t.cfg.Keep)
	if err != nil {
		return fmt.Errorf("train: saving checkpoint: %w", err)
	}
	t.lastCkpt = path
	return nil
}

// LoadModel rebuilds the model stored in a checkpoint: from its
// architecture (MetaArchitecture: a built-in model with its sizes, or the
// Keras JSON of a model read from a file), or, in checkpoints that
// predate it, from the metadata's model name (the lecture's ConvNet, also
// when unnamed, or models.NewVGG's network). path is a checkpoint file or
// a directory, whose latest checkpoint is used. The input shape and class
// count come from the metadata (MNIST's when a checkpoint predates them).
// It returns the model (dropout off unless a Context says training), the
// checkpoint's path and its metadata; see CheckpointData for the
// normalisation and class names. Weights that are not all finite are
// refused (checkpoint.CheckFinite); when the latest checkpoint of a
// directory cannot be used, the error names the newest intact one. A
// forged architecture is an error naming the key.
func LoadModel(path string) (layers.Network, string, map[string]string, error) {
	file, err := resolveCheckpoint(path)
	if err != nil {
		return nil, "", nil, err
	}
	tensors, meta, err := loadFinite(file)
	if err != nil {
		if prev := intactBefore(file); prev != "" && file != path {
			err = fmt.Errorf("%w\nthe previous checkpoint %s is intact: pass it as the checkpoint to use it", err, prev)
		}
		return nil, file, nil, err
	}
	m, name, err := modelOf(meta, heldValues(tensors))
	if err != nil {
		return nil, file, meta, fmt.Errorf("checkpoint %s: %w", file, err)
	}
	if err := restoreWeights(m, tensors, meta, file, name); err != nil {
		return nil, file, meta, err
	}
	return m, file, meta, nil
}

// modelOf builds the (untrained) model checkpoint metadata describes,
// of at most about held weights (or maxArchParams, if more), and returns
// it with its MetaModel name.
func modelOf(meta map[string]string, held int64) (layers.Network, string, error) {
	a, err := ArchitectureOf(meta)
	if err != nil {
		return nil, "", err
	}
	m, err := a.buildWithin(held, 0, 0, "")
	if err != nil {
		return nil, "", err
	}
	return m, a.Name, nil
}

// heldValues counts the values of a checkpoint's tensors.
func heldValues(tensors map[string]*tensor.Tensor) int64 {
	var n int64
	for _, t := range tensors {
		n += int64(t.Len())
	}
	return n
}

// ArchitectureOf returns the architecture checkpoint metadata records
// (MetaArchitecture), checked against the input shape and classes it
// records; for checkpoints that predate the key, the lecture's ConvNet
// (also when unnamed) or the VGG that MetaModel names, sized by the
// metadata.
func ArchitectureOf(meta map[string]string) (Architecture, error) {
	info, err := CheckpointData(meta)
	if err != nil {
		return Architecture{}, err
	}
	name := meta[MetaModel]
	a := Architecture{Name: name, Input: [3]int{info.Shape.H, info.Shape.W, info.Shape.C}, Classes: len(info.Classes)}
	if s, ok := meta[MetaArchitecture]; ok {
		if a, err = ParseArchitecture(s); err != nil {
			return a, err
		}
		if name != "" && name != a.Name {
			return a, fmt.Errorf("metadata %s = %q, but the architecture is of model %q", MetaModel, name, a.Name)
		}
		if err := a.FitsData(info.Shape, len(info.Classes)); err != nil {
			return a, fmt.Errorf("metadata %s: %w", MetaArchitecture, err)
		}
		return a, nil
	}
	switch name {
	case models.VGGName:
	case models.ConvNetName, "":
		a.Name = models.ConvNetName
	default:
		return a, fmt.Errorf("holds model %q without an architecture; convnet can rebuild %s and %s from the name alone", name, models.ConvNetName, models.VGGName)
	}
	return a, nil
}

// DataInfo is what a checkpoint says about the data its model takes.
type DataInfo struct {
	Shape     data.Shape
	Classes   []string
	Normalize *data.Normalization // nil: images in [0, 1] as read
}

// CheckpointData reads the input shape, class names and normalisation
// from checkpoint metadata; absent keys mean MNIST's 28×28×1, digits and
// no normalisation (checkpoints written before they existed).
func CheckpointData(meta map[string]string) (DataInfo, error) {
	info := DataInfo{Shape: data.Shape{H: models.ImageSize, W: models.ImageSize, C: 1}}
	if v, ok := meta[MetaInput]; ok {
		if n, err := fmt.Sscanf(v, "%d,%d,%d", &info.Shape.H, &info.Shape.W, &info.Shape.C); n != 3 || err != nil ||
			info.Shape.H < 1 || info.Shape.W < 1 || info.Shape.C < 1 || info.Shape.H > 1<<14 || info.Shape.W > 1<<14 || info.Shape.C > 4 {
			return info, fmt.Errorf("metadata %s = %q, want \"H,W,C\" with sizes up to 16384 and 1 to 4 channels", MetaInput, v)
		}
	}
	info.Classes = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	if v, ok := meta[MetaClasses]; ok {
		if err := json.Unmarshal([]byte(v), &info.Classes); err != nil || len(info.Classes) < 1 || len(info.Classes) > 1<<16 {
			return info, fmt.Errorf("metadata %s = %.80q, want a JSON list of 1 to 65536 class names", MetaClasses, v)
		}
	}
	if v, ok := meta[MetaNormalize]; ok {
		n, err := data.ParseNormalization(v, info.Shape.C)
		if err != nil {
			return info, err
		}
		info.Normalize = n
	}
	return info, nil
}
