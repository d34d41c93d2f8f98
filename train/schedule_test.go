package train

import (
	"math"
	"strings"
	"testing"
)

// The expected values are worked out by hand from the formulas in the
// Keras documentation (keras.optimizers.schedules) and PyTorch's
// OneCycleLR documentation.
func TestSchedulesByHand(t *testing.T) {
	cases := []struct {
		name string
		s    Schedule
		step int64
		want float64
	}{
		{"exp start", ExponentialDecay{Initial: 0.1, DecaySteps: 10, DecayRate: 0.5}, 0, 0.1},
		{"exp half period", ExponentialDecay{Initial: 0.1, DecaySteps: 10, DecayRate: 0.5}, 5, 0.1 * math.Sqrt(0.5)},
		{"exp two periods", ExponentialDecay{Initial: 0.1, DecaySteps: 10, DecayRate: 0.5}, 20, 0.025},
		{"staircase before", ExponentialDecay{Initial: 0.1, DecaySteps: 10, DecayRate: 0.5, Staircase: true}, 19, 0.05},
		{"staircase at", ExponentialDecay{Initial: 0.1, DecaySteps: 10, DecayRate: 0.5, Staircase: true}, 20, 0.025},
		{"piecewise at boundary", PiecewiseConstant{[]int64{10, 20}, []float64{1, 0.5, 0.1}}, 10, 1},
		{"piecewise after boundary", PiecewiseConstant{[]int64{10, 20}, []float64{1, 0.5, 0.1}}, 11, 0.5},
		{"piecewise second", PiecewiseConstant{[]int64{10, 20}, []float64{1, 0.5, 0.1}}, 20, 0.5},
		{"piecewise last", PiecewiseConstant{[]int64{10, 20}, []float64{1, 0.5, 0.1}}, 1000, 0.1},
		{"cosine start", CosineDecay{Initial: 1, DecaySteps: 100}, 0, 1},
		{"cosine middle", CosineDecay{Initial: 1, DecaySteps: 100}, 50, 0.5},
		{"cosine quarter", CosineDecay{Initial: 2, DecaySteps: 100}, 25, 1 + math.Sqrt(0.5)},
		{"cosine end", CosineDecay{Initial: 1, DecaySteps: 100}, 100, 0},
		{"cosine past end", CosineDecay{Initial: 1, DecaySteps: 100}, 150, 0},
		{"cosine alpha middle", CosineDecay{Initial: 1, DecaySteps: 100, Alpha: 0.1}, 50, 0.55},
		{"cosine alpha end", CosineDecay{Initial: 1, DecaySteps: 100, Alpha: 0.1}, 100, 0.1},
		{"warm-up start", CosineDecay{Initial: 0, Target: 1, WarmupSteps: 10, DecaySteps: 100}, 0, 0},
		{"warm-up half", CosineDecay{Initial: 0, Target: 1, WarmupSteps: 10, DecaySteps: 100}, 5, 0.5},
		{"warm-up from 0.1", CosineDecay{Initial: 0.1, Target: 1, WarmupSteps: 10, DecaySteps: 100}, 4, 0.46},
		{"warm-up done", CosineDecay{Initial: 0, Target: 1, WarmupSteps: 10, DecaySteps: 100}, 10, 1},
		{"after warm-up middle", CosineDecay{Initial: 0, Target: 1, WarmupSteps: 10, DecaySteps: 100}, 60, 0.5},
		{"after warm-up end", CosineDecay{Initial: 0, Target: 1, WarmupSteps: 10, DecaySteps: 100}, 110, 0},
		{"one-cycle start", OneCycle{MaxLR: 1, TotalSteps: 100}, 0, 0.04},
		{"one-cycle half-way up", OneCycle{MaxLR: 1, TotalSteps: 100, PctStart: 0.29}, 14, 0.52},
		{"one-cycle peak", OneCycle{MaxLR: 1, TotalSteps: 100}, 29, 1},
		{"one-cycle half-way down", OneCycle{MaxLR: 1, TotalSteps: 100}, 64, (1 + 4e-6) / 2},
		{"one-cycle end", OneCycle{MaxLR: 1, TotalSteps: 100}, 99, 4e-6},
		{"one-cycle past end", OneCycle{MaxLR: 1, TotalSteps: 100}, 500, 4e-6},
		{"one-cycle divisors", OneCycle{MaxLR: 2, TotalSteps: 10, PctStart: 0.5, DivFactor: 10, FinalDivFactor: 100}, 9, 0.002},
		// PctStart·TotalSteps = 1: a rise of no steps, the peak at step 0
		// (once NaN, from 0/0) and the final rate at the last.
		{"one-cycle rise of no steps", OneCycle{MaxLR: 1, TotalSteps: 4, PctStart: 0.25}, 0, 1},
		{"one-cycle rise of no steps, later", OneCycle{MaxLR: 1, TotalSteps: 4, PctStart: 0.25}, 3, 4e-6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.LR(c.step); !(math.Abs(got-c.want) <= 1e-12*math.Max(1, math.Abs(c.want))) { // NaN fails too
				t.Fatalf("%s: LR(%d) = %.15g, want %.15g", c.s, c.step, got, c.want)
			}
		})
	}
}

// TestOneCycleShape walks every step: rising to the peak over the first
// 30%, falling after, never outside [final, max].
func TestOneCycleShape(t *testing.T) {
	s := OneCycle{MaxLR: 0.003, TotalSteps: 430}
	up := int64(0.3*430 - 1)
	prev := s.LR(0)
	for step := int64(1); step < 430; step++ {
		lr := s.LR(step)
		if step <= up && !(lr > prev) || step > up+1 && !(lr < prev) {
			t.Fatalf("step %d: %g after %g, want rising until step %d and falling after", step, lr, prev, up)
		}
		if lr > 0.003 || lr < 0.003/25/1e4 {
			t.Fatalf("step %d: %g outside [final, max]", step, lr)
		}
		prev = lr
	}
}

func TestParseSchedule(t *testing.T) {
	// 3 steps per epoch, 6 epochs, base rate 1.
	cases := []struct {
		spec  string
		steps []int64
		want  []float64
	}{
		{"constant", []int64{0, 17}, []float64{1, 1}},
		{"step:2:0.5", []int64{0, 5, 6, 11, 12, 17}, []float64{1, 1, 0.5, 0.5, 0.25, 0.25}},
		{"step:7:0.5", []int64{0, 17}, []float64{1, 1}},
		{"step:1e300:0.5", []int64{0, 17}, []float64{1, 1}},
		{"exp:0.5", []int64{0, 3, 6}, []float64{1, 0.5, 0.25}},
		{"cosine", []int64{0, 9, 18}, []float64{1, 0.5, 0}},
		{"cosine:1", []int64{0, 3, 3 + 15}, []float64{0.1, 1, 0}},
		{"cosine:0:0.2", []int64{18}, []float64{0.2}},
		{"onecycle", []int64{0, 17}, []float64{0.04, 0.04 / 1e4}},
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			s, p, err := ParseSchedule(c.spec, 1, 6, 3)
			if err != nil || p != nil {
				t.Fatalf("ParseSchedule: %v, %v", err, p)
			}
			for i, step := range c.steps {
				if got := s.LR(step); math.Abs(got-c.want[i]) > 1e-12 {
					t.Errorf("LR(%d) = %g, want %g", step, got, c.want[i])
				}
			}
		})
	}
	// EPOCHS 1e300 once overflowed the step interval to 0 at 100 steps per
	// epoch, and the boundary loop never ended.
	if s, _, err := ParseSchedule("step:1e300:0.5", 1, 6, 100); err != nil || s.LR(599) != 1 {
		t.Errorf("step:1e300:0.5 over 600 steps: %v, %v", s, err)
	}
	s, p, err := ParseSchedule("plateau:3:0.5", 1, 6, 3)
	if err != nil || s != nil || p == nil || p.Patience != 3 || p.Factor != 0.5 || p.Monitor != "val_loss" {
		t.Fatalf("plateau: %v, %+v, %v", s, p, err)
	}
	for _, bad := range []string{"step", "step:0:0.5", "step:1.5:0.5", "exp", "exp:-1", "cosine:9", "cosine:1:2", "onecycle:1", "plateau", "plateau:2:1", "warp", "constant:1", "step:a:b",
		"cosine:1e300", "plateau:1e300", "plateau:3e9"} {
		if _, _, err := ParseSchedule(bad, 1, 6, 3); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseSchedule(%q) = %v, want an error quoting it", bad, err)
		}
	}
}

// FuzzParseSchedule: no --schedule value panics or hangs, and a schedule
// it accepts gives non-negative rates over the whole run (not NaN; exp
// with a RATE above 1 may grow to +Inf, as asked).
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"constant", "step:2:0.5", "exp:0.5", "cosine:1:0.2", "onecycle:0.25", "plateau:3:0.5", "step:1e300:0.5", "cosine:1e300"} {
		f.Add(s, uint8(5), uint16(2))
	}
	// A run has at least one epoch of at least one step.
	f.Fuzz(func(t *testing.T, spec string, e uint8, st uint16) {
		epochs, steps := int(e)+1, int64(st)+1
		s, p, err := ParseSchedule(spec, 0.1, epochs, steps)
		if err != nil {
			return
		}
		if p != nil && (p.Patience < 0 || !(p.Factor > 0 && p.Factor < 1)) {
			t.Fatalf("%q: plateau %+v", spec, p)
		}
		if s == nil {
			return
		}
		total := int64(epochs) * steps
		for _, step := range []int64{0, 1, total / 2, total - 1, total, total + 1} {
			if lr := s.LR(step); math.IsNaN(lr) || lr < 0 {
				t.Fatalf("%q over %d epochs of %d steps: LR(%d) = %v", spec, epochs, steps, step, lr)
			}
		}
	})
}
