package optim

import (
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// TestSetLearningRate: setting the rate an optimizer already has changes
// nothing, setting another changes the following steps, and for SGD the
// result is the hand-computed 1 − 0.1·0.5 − 2·0.01·0.5 = 0.94.
func TestSetLearningRate(t *testing.T) {
	makers := map[string]func(lr float64) Optimizer{
		"sgd":      func(lr float64) Optimizer { return NewSGD(lr) },
		"momentum": func(lr float64) Optimizer { return NewMomentum(lr, 0.9, false) },
		"rmsprop":  func(lr float64) Optimizer { return NewRMSProp(RMSPropConfig{LR: lr}) },
		"adam":     func(lr float64) Optimizer { return NewAdam(AdamConfig{LR: lr}) },
		"adamw":    func(lr float64) Optimizer { return NewAdamW(AdamWConfig{LR: lr}) },
	}
	for name, mk := range makers {
		t.Run(name, func(t *testing.T) {
			run := func(o Optimizer, setTo float64) []float32 {
				w := autograd.Variable("w", tensor.Must(tensor.New([]int{3}, []float32{1, -2, 3})))
				g := tensor.Must(tensor.New([]int{3}, []float32{0.5, 0.25, -1}))
				for step := range 3 {
					if step == 1 && setTo > 0 {
						o.(LRSetter).SetLearningRate(setTo)
					}
					if err := o.Step([]*autograd.Var{w}, []*tensor.Tensor{g}); err != nil {
						t.Fatal(err)
					}
				}
				return w.Value().Data()
			}
			a := run(mk(0.1), 0.1)
			b := run(mk(0.1), 0)
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("setting the same rate changed the result: %v vs %v", a, b)
				}
			}
			c := run(mk(0.1), 0.01)
			if c[0] == a[0] {
				t.Fatalf("a new rate changed nothing: %v", c)
			}
			if name == "sgd" && c[0] != float32(0.94) && c[0] != 1-float32(0.1)*0.5-float32(0.01)*0.5-float32(0.01)*0.5 {
				t.Fatalf("SGD with rates 0.1, 0.01, 0.01: w = %v, want 0.94", c[0])
			}
			o := mk(0.1)
			o.(LRSetter).SetLearningRate(0.5)
			if got := o.(LRSetter).LearningRate(); got != 0.5 {
				t.Fatalf("LearningRate() = %v after setting 0.5", got)
			}
		})
	}
}
