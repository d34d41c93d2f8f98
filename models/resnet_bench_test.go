package models

import (
	"testing"
	"time"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/internal/cputime"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// benchResNet builds the ResNet of the speed issue's second model
// (28×28×1, stages [16, 32] or the defaults, 10 classes) and a batch of
// 128 seeded images with labels.
func benchResNet(b *testing.B, stages []int) (*layers.Model, *tensor.Tensor, []int) {
	b.Helper()
	m, err := NewResNet(ResNetConfig{InputShape: []int{28, 28, 1}, Classes: 10, Stages: stages, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	const n = 128
	x := tensor.Zeros(n, 28, 28, 1)
	r := tensor.NewRand(7)
	for i := range x.Data() {
		x.Data()[i] = r.Float32()
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 10
	}
	return m, x, labels
}

// reportResNet reports images/s and the process's CPU time per batch
// (cpu-ms/op), which a machine shared with other work inflates less than
// the wall time.
func reportResNet(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}

var benchResNetShapes = []struct {
	name   string
	stages []int
}{{"stages=16,32", []int{16, 32}}, {"stages=16,32,64", nil}}

// BenchmarkResNetTrainStep times one training step of models.NewResNet
// on a batch of 128 28×28×1 images: forward in training mode, softmax
// cross-entropy, backward, Adam, with one reused autograd.Workspace as
// the training loop keeps it. Reports images/s and cpu-ms/op.
//
//	go test -run '^$' -bench 'ResNet' -benchtime 20x ./models
func BenchmarkResNetTrainStep(b *testing.B) {
	for _, s := range benchResNetShapes {
		b.Run(s.name, func(b *testing.B) {
			m, x, labels := benchResNet(b, s.stages)
			vars := m.Variables()
			opt := optim.NewAdam(optim.AdamConfig{})
			var ws autograd.Workspace
			step := func() {
				logits := m.Call(autograd.Constant(x), layers.Context{Training: true})
				loss := autograd.ReduceMean(autograd.SparseSoftmaxCrossEntropyWithLogits(labels, logits))
				grads, err := ws.Gradient(loss, vars...)
				if err != nil {
					b.Fatal(err)
				}
				if err := opt.Step(vars, grads); err != nil {
					b.Fatal(err)
				}
				ws.Reset()
			}
			// Build the layers and warm the buffer pool: fresh pages
			// fault in over the first three steps.
			for range 3 {
				step()
			}
			b.ResetTimer()
			cpu0 := cputime.Process()
			for b.Loop() {
				step()
			}
			reportResNet(b, cputime.Process()-cpu0)
		})
	}
}

// BenchmarkResNetForward times the inference forward pass of
// models.NewResNet on a batch of 128 28×28×1 images (batch norm folded
// into the convolutions). Reports images/s and cpu-ms/op.
func BenchmarkResNetForward(b *testing.B) {
	for _, s := range benchResNetShapes {
		b.Run(s.name, func(b *testing.B) {
			m, x, _ := benchResNet(b, s.stages)
			var ws autograd.Workspace
			fwd := func() {
				y := m.Call(autograd.Constant(x), layers.Context{})
				if err := y.Err(); err != nil {
					b.Fatal(err)
				}
				ws.Own(y)
				ws.Reset()
			}
			for range 3 {
				fwd()
			}
			b.ResetTimer()
			cpu0 := cputime.Process()
			for b.Loop() {
				fwd()
			}
			reportResNet(b, cputime.Process()-cpu0)
		})
	}
}
