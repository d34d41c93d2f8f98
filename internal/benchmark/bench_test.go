package benchmark

import (
	"fmt"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
)

// BenchmarkTrainStep times Run's training step of each model at batch
// 128, for profiling (-cpuprofile) and A/B comparisons:
//
//	go test -run '^$' -bench 'TrainStep/model=resnet' -cpuprofile cpu.out ./internal/benchmark
func BenchmarkTrainStep(b *testing.B) {
	for _, name := range Models {
		b.Run("model="+name, func(b *testing.B) {
			m, flop, err := NewModel(name)
			if err != nil {
				b.Fatal(err)
			}
			x, labels := randomBatch(128)
			step := newTrainStep(m, x, labels)
			if err := step(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := step(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(3*flop*128*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkInfer times inference of each model at batch 128 and at
// batch 1 (the latency `convnet bench` reports).
func BenchmarkInfer(b *testing.B) {
	for _, name := range Models {
		for _, batch := range []int{128, 1} {
			b.Run(fmt.Sprintf("model=%s/batch=%d", name, batch), func(b *testing.B) {
				benchInfer(b, name, batch)
			})
		}
	}
}

func benchInfer(b *testing.B, name string, batch int) {
	m, flop, err := NewModel(name)
	if err != nil {
		b.Fatal(err)
	}
	x, _ := randomBatch(batch)
	for b.Loop() {
		out := m.Call(autograd.Constant(x), layers.Context{})
		if err := out.Err(); err != nil {
			b.Fatal(err)
		}
		autograd.Release(out)
	}
	b.ReportMetric(flop*float64(batch)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkPredict times layers.Predict over a batch of 128 in batches
// of 8 to 128 rows, and with the batch size it picks (rows=auto), for
// layers.PredictBatch's rule:
//
//	go test -run '^$' -bench Predict -benchtime 100x ./internal/benchmark
func BenchmarkPredict(b *testing.B) {
	for _, name := range Models {
		m, flop, err := NewModel(name)
		if err != nil {
			b.Fatal(err)
		}
		x, _ := randomBatch(128)
		for _, rows := range []int{0, 8, 16, 32, 64, 128} {
			label := fmt.Sprint(rows)
			if rows == 0 {
				label = "auto"
			}
			b.Run(fmt.Sprintf("model=%s/rows=%s", name, label), func(b *testing.B) {
				for b.Loop() {
					if _, err := layers.Predict(m, x, rows); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(flop*128*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
