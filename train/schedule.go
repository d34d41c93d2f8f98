package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule gives the learning rate of each optimizer update, as a Keras
// LearningRateSchedule does: LR(step) is called with step = the number
// of updates already applied (Keras passes optimizer.iterations), so the
// first update uses LR(0). A schedule is a pure function of step, which
// is what makes a resumed run follow it exactly.
type Schedule interface {
	LR(step int64) float64
	String() string
}

// Constant is a fixed learning rate.
type Constant struct{ Rate float64 }

// LR returns Rate.
func (s Constant) LR(int64) float64 { return s.Rate }

func (s Constant) String() string { return fmt.Sprintf("constant %g", s.Rate) }

// PiecewiseConstant is keras.optimizers.schedules.PiecewiseConstantDecay
// (step decay): Values[0] while step ≤ Boundaries[0], Values[i] while
// Boundaries[i−1] < step ≤ Boundaries[i], and the last value after the
// last boundary. len(Values) = len(Boundaries)+1, boundaries increasing.
type PiecewiseConstant struct {
	Boundaries []int64
	Values     []float64
}

// LR returns the value of the interval that holds step.
func (s PiecewiseConstant) LR(step int64) float64 {
	for i, b := range s.Boundaries {
		if step <= b {
			return s.Values[i]
		}
	}
	return s.Values[len(s.Values)-1]
}

func (s PiecewiseConstant) String() string {
	return fmt.Sprintf("piecewise constant %v at steps %v", s.Values, s.Boundaries)
}

// ExponentialDecay is keras.optimizers.schedules.ExponentialDecay:
//
//	lr(step) = Initial · DecayRate^(step / DecaySteps)
//
// with the exponent floored when Staircase is set.
type ExponentialDecay struct {
	Initial    float64
	DecaySteps int64
	DecayRate  float64
	Staircase  bool
}

// LR returns Initial·DecayRate^(step/DecaySteps).
func (s ExponentialDecay) LR(step int64) float64 {
	p := float64(step) / float64(s.DecaySteps)
	if s.Staircase {
		p = math.Floor(p)
	}
	return s.Initial * math.Pow(s.DecayRate, p)
}

func (s ExponentialDecay) String() string {
	return fmt.Sprintf("exponential decay %g·%g^(step/%d), staircase %v", s.Initial, s.DecayRate, s.DecaySteps, s.Staircase)
}

// CosineDecay is keras.optimizers.schedules.CosineDecay (Keras 3), with
// its optional linear warm-up. Without warm-up (WarmupSteps 0):
//
//	s = min(step, DecaySteps)
//	lr = Initial · ((1 − Alpha)·½(1 + cos(π·s/DecaySteps)) + Alpha)
//
// With warm-up the rate first climbs linearly from Initial to Target over
// WarmupSteps steps, lr = Initial + (Target − Initial)·step/WarmupSteps,
// and then decays as above from Target, with s = min(step −
// WarmupSteps, DecaySteps).
type CosineDecay struct {
	Initial     float64
	DecaySteps  int64
	Alpha       float64
	Target      float64 // warm-up target; used only when WarmupSteps > 0
	WarmupSteps int64
}

// LR returns the warm-up or cosine-decayed rate at step.
func (s CosineDecay) LR(step int64) float64 {
	from := s.Initial
	if s.WarmupSteps > 0 {
		step = min(step, s.DecaySteps+s.WarmupSteps)
		if step < s.WarmupSteps {
			return (s.Target-s.Initial)*float64(step)/float64(s.WarmupSteps) + s.Initial
		}
		step -= s.WarmupSteps
		from = s.Target
	}
	step = min(step, s.DecaySteps)
	cosine := 0.5 * (1 + math.Cos(math.Pi*float64(step)/float64(s.DecaySteps)))
	return from * ((1-s.Alpha)*cosine + s.Alpha)
}

func (s CosineDecay) String() string {
	if s.WarmupSteps > 0 {
		return fmt.Sprintf("linear warm-up %g→%g over %d steps, then cosine decay over %d steps to %g×", s.Initial, s.Target, s.WarmupSteps, s.DecaySteps, s.Alpha)
	}
	return fmt.Sprintf("cosine decay from %g over %d steps to %g×", s.Initial, s.DecaySteps, s.Alpha)
}

// OneCycle is the one-cycle policy (Smith & Topin, "Super-Convergence")
// in the form of PyTorch's torch.optim.lr_scheduler.OneCycleLR with
// cosine annealing (learning rate only; no momentum cycling). With
// initial = MaxLR/DivFactor and final = initial/FinalDivFactor, the rate
// rises from initial to MaxLR over the first PctStart of TotalSteps and
// falls to final by the last step, each phase a half cosine:
//
//	up   = PctStart·TotalSteps − 1,  last = TotalSteps − 1
//	step ≤ up:  lr = cos(initial → MaxLR, step/up)
//	step > up:  lr = cos(MaxLR → final, (step − up)/(last − up))
//	cos(a → b, p) = b + (a − b)·½(1 + cos(π·p))
//
// When PctStart·TotalSteps is 1 the rise has no steps and step 0 takes
// MaxLR. Steps past the last keep the final rate. Zero PctStart, DivFactor and
// FinalDivFactor take PyTorch's defaults 0.3, 25 and 1e4.
type OneCycle struct {
	MaxLR                               float64
	TotalSteps                          int64
	PctStart, DivFactor, FinalDivFactor float64
}

func (s OneCycle) withDefaults() OneCycle {
	if s.PctStart == 0 {
		s.PctStart = 0.3
	}
	if s.DivFactor == 0 {
		s.DivFactor = 25
	}
	if s.FinalDivFactor == 0 {
		s.FinalDivFactor = 1e4
	}
	return s
}

// LR returns the one-cycle rate at step.
func (s OneCycle) LR(step int64) float64 {
	s = s.withDefaults()
	initial := s.MaxLR / s.DivFactor
	final := initial / s.FinalDivFactor
	up := s.PctStart*float64(s.TotalSteps) - 1
	last := float64(s.TotalSteps - 1)
	anneal := func(a, b, p float64) float64 { return b + (a-b)/2*(math.Cos(math.Pi*p)+1) }
	x := min(float64(step), last)
	if x <= up {
		p := 1.0 // a rise of no steps (up = 0) is at its peak at step 0
		if up > 0 {
			p = x / up
		}
		return anneal(initial, s.MaxLR, p)
	}
	return anneal(s.MaxLR, final, (x-up)/(last-up))
}

func (s OneCycle) String() string {
	s = s.withDefaults()
	return fmt.Sprintf("one-cycle to %g over %d steps (%g up, div %g, final div %g)", s.MaxLR, s.TotalSteps, s.PctStart, s.DivFactor, s.FinalDivFactor)
}

// ScheduleSpecs describes the --schedule forms ParseSchedule accepts.
const ScheduleSpecs = "constant; step:EPOCHS:FACTOR (multiply by FACTOR every EPOCHS epochs); " +
	"exp:RATE (×RATE per epoch, continuous); cosine[:WARMUP_EPOCHS[:ALPHA]] (warm-up from lr/10 to lr, then to ALPHA·lr at the end); " +
	"onecycle[:PCT_START] (peak lr, PyTorch's OneCycleLR); plateau:PATIENCE[:FACTOR] (ReduceLROnPlateau on val_loss, factor 0.1)"

// ParseSchedule turns a --schedule value into a Schedule for a run of
// epochs epochs of stepsPerEpoch updates with base rate lr. The plateau
// form is a callback, not a schedule: it returns a nil Schedule and the
// *ReduceLROnPlateau.
func ParseSchedule(spec string, lr float64, epochs int, stepsPerEpoch int64) (Schedule, *ReduceLROnPlateau, error) {
	parts := strings.Split(spec, ":")
	nums := make([]float64, len(parts)-1)
	for i, p := range parts[1:] {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, nil, fmt.Errorf("schedule %q: %q is not a non-negative number", spec, p)
		}
		nums[i] = v
	}
	arg := func(i int, def float64) float64 {
		if i < len(nums) {
			return nums[i]
		}
		return def
	}
	total := int64(epochs) * stepsPerEpoch
	bad := func(want string) error {
		return fmt.Errorf("schedule %q: want %s (forms: %s)", spec, want, ScheduleSpecs)
	}
	switch parts[0] {
	case "constant", "":
		if len(nums) > 0 {
			return nil, nil, bad("constant with no arguments")
		}
		return Constant{Rate: lr}, nil, nil
	case "step":
		if len(nums) != 2 || nums[0] < 1 || nums[0] != math.Trunc(nums[0]) || !(nums[1] > 0) {
			return nil, nil, bad("step:EPOCHS:FACTOR with whole EPOCHS ≥ 1 and FACTOR > 0")
		}
		// EPOCHS beyond the run change nothing: clamped, they cannot
		// overflow the step count (1e300 would make it negative and the
		// loop below endless).
		every := int64(min(nums[0], float64(max(epochs, 1)))) * stepsPerEpoch
		var s PiecewiseConstant
		v := lr
		s.Values = append(s.Values, v)
		// Keras' boundaries are inclusive: the rate changes after step b,
		// so the update that starts epoch k·EPOCHS (step k·every) is the
		// first at the new rate.
		for b := every - 1; b < total-1; b += every {
			v *= nums[1]
			s.Boundaries = append(s.Boundaries, b)
			s.Values = append(s.Values, v)
		}
		return s, nil, nil
	case "exp":
		if len(nums) != 1 || !(nums[0] > 0) {
			return nil, nil, bad("exp:RATE with RATE > 0")
		}
		return ExponentialDecay{Initial: lr, DecaySteps: stepsPerEpoch, DecayRate: nums[0]}, nil, nil
	case "cosine":
		if len(nums) > 2 || arg(1, 0) > 1 {
			return nil, nil, bad("cosine[:WARMUP_EPOCHS[:ALPHA]] with ALPHA in [0, 1]")
		}
		// Compared before the conversion, which a huge warm-up would
		// overflow to a negative step count.
		warmSteps := arg(0, 0) * float64(stepsPerEpoch)
		if warmSteps >= float64(total) {
			return nil, nil, bad("a warm-up shorter than the run")
		}
		warm := int64(warmSteps)
		if warm == 0 {
			return CosineDecay{Initial: lr, DecaySteps: total, Alpha: arg(1, 0)}, nil, nil
		}
		return CosineDecay{Initial: lr / 10, Target: lr, WarmupSteps: warm, DecaySteps: total - warm, Alpha: arg(1, 0)}, nil, nil
	case "onecycle":
		if len(nums) > 1 || arg(0, 0.3) <= 0 || arg(0, 0.3) >= 1 {
			return nil, nil, bad("onecycle[:PCT_START] with PCT_START in (0, 1)")
		}
		if total < 2 {
			return nil, nil, bad("at least two steps in the run")
		}
		return OneCycle{MaxLR: lr, TotalSteps: total, PctStart: arg(0, 0.3)}, nil, nil
	case "plateau":
		if len(nums) < 1 || len(nums) > 2 || nums[0] != math.Trunc(nums[0]) || nums[0] > math.MaxInt32 || !(arg(1, 0.1) > 0 && arg(1, 0.1) < 1) {
			return nil, nil, bad("plateau:PATIENCE[:FACTOR] with whole PATIENCE and FACTOR in (0, 1)")
		}
		return nil, &ReduceLROnPlateau{Monitor: "val_loss", Patience: int(nums[0]), Factor: arg(1, 0.1), MinDelta: 1e-4}, nil
	}
	return nil, nil, bad("a known schedule name")
}
