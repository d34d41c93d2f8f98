package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Logs are one finished epoch's metrics by their Keras names: "loss",
// "accuracy" (training), "val_loss", "val_accuracy", "test_loss",
// "test_accuracy" and "lr". Validation and test entries exist only when
// those sets are there.
type Logs map[string]float64

// Callback acts at the end of each epoch, after evaluation and before
// the epoch's checkpoint, in the sense of a Keras callback's
// on_epoch_end. Its state goes into every checkpoint's metadata (keys
// "callback/<Name>/<key>") and comes back on resume, so an interrupted
// run continues exactly.
type Callback interface {
	// Name is unique among a run's callbacks.
	Name() string
	// OnEpochEnd sees the 1-based epoch just finished and its logs.
	OnEpochEnd(epoch int, logs Logs, run *Control) error
	// State returns the callback's state as strings.
	State() map[string]string
	// SetState restores what State returned.
	SetState(map[string]string) error
}

// Control is what a callback may do to the run.
type Control struct{ t *trainer }

// LearningRate returns the rate of the next update.
func (c *Control) LearningRate() float64 { return c.t.lr }

// SetLearningRate changes the rate of the following updates. It is an
// error with a Schedule, which owns the rate.
func (c *Control) SetLearningRate(lr float64) error {
	if c.t.cfg.Schedule != nil {
		return fmt.Errorf("train: a callback cannot set the learning rate of a run with a schedule (%s)", c.t.cfg.Schedule)
	}
	c.t.lr = lr
	return nil
}

// Stop ends the run after this epoch (Keras' model.stop_training).
func (c *Control) Stop() { c.t.stopped = true }

// SaveWeights keeps a copy of the model's weights under name: in
// <checkpoint dir>/<name>.safetensors (written atomically, with the
// run's metadata) when the run has a checkpoint directory, else in
// memory. It returns the file written ("" in memory).
func (c *Control) SaveWeights(name string) (string, error) { return c.t.saveWeights(name) }

// RestoreWeights loads the weights SaveWeights kept under name into the
// model.
func (c *Control) RestoreWeights(name string) error { return c.t.restoreWeights(name) }

// Print writes a line to the run's output.
func (c *Control) Print(format string, args ...any) {
	c.t.progress.line(fmt.Sprintf(format, args...))
}

func logsOf(m EpochMetrics, hasVal, hasTest bool) Logs {
	l := Logs{"loss": m.TrainLoss, "accuracy": m.TrainAccuracy, "lr": m.LR}
	if hasVal {
		l["val_loss"], l["val_accuracy"] = m.ValLoss, m.ValAccuracy
	}
	if hasTest {
		l["test_loss"], l["test_accuracy"] = m.TestLoss, m.TestAccuracy
	}
	return l
}

// monitor tells whether current improves on best by more than minDelta,
// in Keras' sense: mode "min" (losses) or "max" (accuracies); "auto"
// picks max for names containing "acc". A NaN best means none yet.
type monitor struct {
	Monitor  string
	Mode     string
	MinDelta float64
}

func (m monitor) max() bool {
	switch m.Mode {
	case "max":
		return true
	case "min":
		return false
	}
	return strings.Contains(m.Monitor, "acc")
}

func (m monitor) better(current, best float64) bool {
	if math.IsNaN(best) {
		return true
	}
	if m.max() {
		return current > best+math.Abs(m.MinDelta)
	}
	return current < best-math.Abs(m.MinDelta)
}

func (m monitor) value(logs Logs, who string) (float64, error) {
	v, ok := logs[m.Monitor]
	if !ok {
		keys := make([]string, 0, len(logs))
		for k := range logs {
			keys = append(keys, k)
		}
		return 0, fmt.Errorf("train: %s monitors %q, which this run does not produce (it has %v)", who, m.Monitor, keys)
	}
	return v, nil
}

func fstr(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func parseState(st map[string]string, who string, floats map[string]*float64, ints map[string]*int) error {
	for k, p := range floats {
		v, err := strconv.ParseFloat(st[k], 64)
		if err != nil {
			return fmt.Errorf("train: %s state %q = %q is not a number", who, k, st[k])
		}
		*p = v
	}
	for k, p := range ints {
		v, err := strconv.Atoi(st[k])
		if err != nil {
			return fmt.Errorf("train: %s state %q = %q is not an integer", who, k, st[k])
		}
		*p = v
	}
	return nil
}

// ReduceLROnPlateau is keras.callbacks.ReduceLROnPlateau: when Monitor
// has not improved by more than MinDelta for Patience epochs, the rate
// becomes max(lr·Factor, MinLR), then Cooldown epochs pass before
// counting again. Keras' defaults: Factor 0.1, Patience 10, MinDelta
// 1e-4, mode auto.
type ReduceLROnPlateau struct {
	Monitor, Mode    string
	Factor, MinDelta float64
	Patience         int
	Cooldown         int
	MinLR            float64

	best           float64 // NaN: none yet
	wait, cooldown int
	initialized    bool
}

// Name returns "reduce_lr_on_plateau".
func (r *ReduceLROnPlateau) Name() string { return "reduce_lr_on_plateau" }

func (r *ReduceLROnPlateau) init() {
	if !r.initialized {
		r.best, r.initialized = math.NaN(), true
	}
}

// OnEpochEnd follows Keras' on_epoch_end step for step.
func (r *ReduceLROnPlateau) OnEpochEnd(epoch int, logs Logs, run *Control) error {
	r.init()
	m := monitor{r.Monitor, r.Mode, r.MinDelta}
	current, err := m.value(logs, r.Name())
	if err != nil {
		return err
	}
	if r.cooldown > 0 {
		r.cooldown--
		r.wait = 0
	}
	if m.better(current, r.best) {
		r.best, r.wait = current, 0
		return nil
	}
	if r.cooldown > 0 {
		return nil
	}
	r.wait++
	if r.wait >= r.Patience {
		old := run.LearningRate()
		if old > r.MinLR {
			lr := max(old*r.Factor, r.MinLR)
			if err := run.SetLearningRate(lr); err != nil {
				return err
			}
			run.Print("epoch %d: ReduceLROnPlateau: %s did not improve for %d epochs; learning rate %g → %g", epoch, r.Monitor, r.wait, old, lr)
			r.cooldown, r.wait = r.Cooldown, 0
		}
	}
	return nil
}

// State returns best, wait and cooldown.
func (r *ReduceLROnPlateau) State() map[string]string {
	r.init()
	return map[string]string{"best": fstr(r.best), "wait": strconv.Itoa(r.wait), "cooldown": strconv.Itoa(r.cooldown)}
}

// SetState restores State's values.
func (r *ReduceLROnPlateau) SetState(st map[string]string) error {
	r.initialized = true
	return parseState(st, r.Name(), map[string]*float64{"best": &r.best}, map[string]*int{"wait": &r.wait, "cooldown": &r.cooldown})
}

// EarlyStopping is keras.callbacks.EarlyStopping: it stops the run when
// Monitor has not improved by more than MinDelta for Patience epochs.
// With RestoreBest the model ends with the weights of its best epoch
// (kept through Control.SaveWeights as "early-stopping-best", so a
// resumed run still has them). Keras 3's order: wait is incremented
// first, reset on an improvement, and the run stops once wait ≥ Patience
// (never after the first epoch).
type EarlyStopping struct {
	Monitor, Mode string
	MinDelta      float64
	Patience      int
	RestoreBest   bool

	best        float64
	bestEpoch   int
	wait        int
	initialized bool
}

// BestWeightsName is the name EarlyStopping keeps its best weights under.
const BestWeightsName = "early-stopping-best"

// Name returns "early_stopping".
func (e *EarlyStopping) Name() string { return "early_stopping" }

func (e *EarlyStopping) init() {
	if !e.initialized {
		e.best, e.initialized = math.NaN(), true
	}
}

// OnEpochEnd counts epochs without improvement and stops the run.
func (e *EarlyStopping) OnEpochEnd(epoch int, logs Logs, run *Control) error {
	e.init()
	m := monitor{e.Monitor, e.Mode, e.MinDelta}
	current, err := m.value(logs, e.Name())
	if err != nil {
		return err
	}
	e.wait++
	if m.better(current, e.best) {
		e.best, e.bestEpoch, e.wait = current, epoch, 0
		if e.RestoreBest {
			if _, err := run.SaveWeights(BestWeightsName); err != nil {
				return err
			}
		}
		return nil
	}
	if e.wait >= e.Patience && epoch > 1 {
		run.Stop()
		msg := fmt.Sprintf("epoch %d: EarlyStopping: %s has not improved on %.6g (epoch %d) for %d epochs; stopping", epoch, e.Monitor, e.best, e.bestEpoch, e.wait)
		if e.RestoreBest && e.bestEpoch > 0 {
			if err := run.RestoreWeights(BestWeightsName); err != nil {
				return err
			}
			msg += fmt.Sprintf("; weights of epoch %d restored", e.bestEpoch)
		}
		run.Print("%s", msg)
	}
	return nil
}

// BestEpoch returns the 1-based epoch of the best value seen (0: none).
func (e *EarlyStopping) BestEpoch() int { return e.bestEpoch }

// State returns best, best_epoch and wait.
func (e *EarlyStopping) State() map[string]string {
	e.init()
	return map[string]string{"best": fstr(e.best), "best_epoch": strconv.Itoa(e.bestEpoch), "wait": strconv.Itoa(e.wait)}
}

// SetState restores State's values.
func (e *EarlyStopping) SetState(st map[string]string) error {
	e.initialized = true
	return parseState(st, e.Name(), map[string]*float64{"best": &e.best}, map[string]*int{"best_epoch": &e.bestEpoch, "wait": &e.wait})
}

// BestCheckpoint is keras.callbacks.ModelCheckpoint with
// save_best_only: after each epoch whose Monitor improves on the best so
// far, it writes the weights to <checkpoint dir>/best.safetensors.
type BestCheckpoint struct {
	Monitor, Mode string

	best        float64
	bestEpoch   int
	initialized bool
	// Path is the file last written.
	Path string
}

// BestFileName is the base name BestCheckpoint writes.
const BestFileName = "best"

// Name returns "best_checkpoint".
func (b *BestCheckpoint) Name() string { return "best_checkpoint" }

func (b *BestCheckpoint) init() {
	if !b.initialized {
		b.best, b.initialized = math.NaN(), true
	}
}

// OnEpochEnd saves the weights when Monitor improves.
func (b *BestCheckpoint) OnEpochEnd(epoch int, logs Logs, run *Control) error {
	b.init()
	m := monitor{Monitor: b.Monitor, Mode: b.Mode}
	current, err := m.value(logs, b.Name())
	if err != nil {
		return err
	}
	if !m.better(current, b.best) {
		return nil
	}
	b.best, b.bestEpoch = current, epoch
	p, err := run.SaveWeights(BestFileName)
	if err != nil {
		return err
	}
	b.Path = p
	return nil
}

// State returns best and best_epoch.
func (b *BestCheckpoint) State() map[string]string {
	b.init()
	return map[string]string{"best": fstr(b.best), "best_epoch": strconv.Itoa(b.bestEpoch)}
}

// SetState restores State's values.
func (b *BestCheckpoint) SetState(st map[string]string) error {
	b.initialized = true
	return parseState(st, b.Name(), map[string]*float64{"best": &b.best}, map[string]*int{"best_epoch": &b.bestEpoch})
}

// runCallbacks calls each callback with the epoch's logs.
func (t *trainer) runCallbacks(m EpochMetrics) error {
	if len(t.cfg.Callbacks) == 0 {
		return nil
	}
	logs := logsOf(m, t.data.Validation != nil && t.data.Validation.Len() > 0, t.data.Test != nil && t.data.Test.Len() > 0)
	ctl := &Control{t: t}
	for _, c := range t.cfg.Callbacks {
		if err := c.OnEpochEnd(m.Epoch, logs, ctl); err != nil {
			return err
		}
	}
	return nil
}
