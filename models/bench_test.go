package models

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/internal/cputime"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/tensor"
)

// BenchmarkConvNetInference is the lecture model's forward pass in
// inference mode (Call with training false, the result released as
// evaluation and serving do) at batch sizes 1, 8 and 128. Besides the
// wall time it reports the process's CPU time per call (cpu-ns/op), which
// other processes on a shared machine disturb less.
func BenchmarkConvNetInference(b *testing.B) {
	m, err := NewConvNet(ConvNetConfig{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 8, 128} {
		x := tensor.Zeros(n, ImageSize, ImageSize, 1)
		x.RandUniform(tensor.NewRand(2), 0, 1)
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			cpu0 := cputime.Process()
			for b.Loop() {
				y := m.Call(autograd.Constant(x), layers.Context{})
				if y.Err() != nil {
					b.Fatal(y.Err())
				}
				autograd.Release(y)
			}
			b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
