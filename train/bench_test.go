package train

import (
	"testing"

	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/optim"
)

// BenchmarkTrainStep times one training step (forward, backward, Adam) of
// the lecture's model on a batch of 128, reporting images/s.
func BenchmarkTrainStep(b *testing.B) {
	m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	t := &trainer{model: m, vars: m.Variables(), opt: optim.NewAdam(optim.AdamConfig{})}
	batches := mnist.NewBatches(synthetic(128, 1), 128, 0, 0, false)
	x, labels, _ := batches.Next()
	batches.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := t.trainStep(x, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "images/s")
}
