package onnx

import (
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
)

// BenchmarkLectureInference runs the lecture model on a batch of 128:
// impl=native is the layers model itself, impl=onnx its export imported
// (NHWC input, transposes in the graph).
func BenchmarkLectureInference(b *testing.B) {
	m, err := models.NewConvNet(models.ConvNetConfig{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	data, err := Export(m, ExportOptions{InputShape: []int{28, 28, 1}})
	if err != nil {
		b.Fatal(err)
	}
	g, err := Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	x := randomInput([]int{128, 28, 28, 1}, 1)
	b.Run("impl=native", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if y := m.Call(autograd.Constant(x), layers.Context{}); y.Err() != nil {
				b.Fatal(y.Err())
			}
		}
		b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "images/s")
	})
	b.Run("impl=onnx", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := g.Run(x); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "images/s")
	})
}
