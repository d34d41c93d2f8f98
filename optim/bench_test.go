package optim

import (
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

// BenchmarkStepLectureModel updates the lecture's ConvNet parameters
// (3,274,634 floats: conv 5x5x1x32, 5x5x32x64, dense 3136x1024, 1024x10
// and biases) once per iteration.
func BenchmarkStepLectureModel(b *testing.B) {
	shapes := [][]int{{5, 5, 1, 32}, {32}, {5, 5, 32, 64}, {64}, {3136, 1024}, {1024}, {1024, 10}, {10}}
	makers := []struct {
		name string
		mk   func() Optimizer
	}{
		{"SGD", func() Optimizer { return NewSGD(0.01) }},
		{"Momentum", func() Optimizer { return NewMomentum(0.01, 0.9, false) }},
		{"RMSProp", func() Optimizer { return NewRMSProp(RMSPropConfig{}) }},
		{"Adam", func() Optimizer { return NewAdam(AdamConfig{}) }},
		{"AdamW", func() Optimizer { return NewAdamW(AdamWConfig{}) }},
	}
	for _, m := range makers {
		b.Run(m.name, func(b *testing.B) {
			var params []*autograd.Var
			var grads []*tensor.Tensor
			n := 0
			for i, s := range shapes {
				params = append(params, autograd.Variable(string(rune('a'+i)), tensor.Zeros(s...)))
				g := tensor.Zeros(s...)
				g.RandNormal(tensor.NewRand(uint64(i)), 0, 1)
				grads = append(grads, g)
				n += g.Len()
			}
			o := m.mk()
			b.SetBytes(int64(n) * 4)
			b.ResetTimer()
			for b.Loop() {
				if err := o.Step(params, grads); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gparams/s")
		})
	}
}
