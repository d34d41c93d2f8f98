package train

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/data/folder"
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
	t := &trainer{model: m, vars: m.Variables(), opt: optim.NewAdam(optim.AdamConfig{}), lr: DefaultLR}
	batches := data.NewBatches(synthetic(128, 1), data.BatchOptions{BatchSize: 128}, 0)
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

// BenchmarkTrainFrom compares training throughput (forward, backward,
// Adam on batches of 128, shuffled, read by the worker pool) from images
// in memory and from a folder of 3,000 28×28 PNGs, 300 per class, that
// the benchmark writes first: the same pixels either way. Run both in one
// command and compare the images/s figures:
//
//	go test -run '^$' -bench 'TrainFrom' -benchtime 40x ./train
func BenchmarkTrainFrom(b *testing.B) {
	const n = 3000
	set := synthetic(n, 9)
	dir := b.TempDir()
	for c := range 10 {
		os.MkdirAll(filepath.Join(dir, fmt.Sprint(c)), 0o755)
	}
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		for j := range img.Pix {
			img.Pix[j] = uint8(set.Images[i*784+j] * 255)
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprint(set.Labels[i]), fmt.Sprintf("%05d.png", i)))
		if err != nil {
			b.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	fromFolder, err := folder.Open(dir, folder.Options{H: 28, W: 28, Channels: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, src := range []struct {
		name string
		ds   data.Dataset
	}{{"memory", set}, {"folder", fromFolder}} {
		b.Run("src="+src.name, func(b *testing.B) {
			m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			t := &trainer{model: m, vars: m.Variables(), opt: optim.NewAdam(optim.AdamConfig{}), lr: DefaultLR}
			images, epoch := 0, 0
			batches := data.NewBatches(src.ds, data.BatchOptions{BatchSize: 128, Shuffle: true, Seed: 1}, epoch)
			b.ResetTimer()
			for b.Loop() {
				x, labels, ok := batches.Next()
				if !ok {
					if err := batches.Err(); err != nil {
						b.Fatal(err)
					}
					batches.Close()
					epoch++
					batches = data.NewBatches(src.ds, data.BatchOptions{BatchSize: 128, Shuffle: true, Seed: 1}, epoch)
					x, labels, _ = batches.Next()
				}
				if _, _, err := t.trainStep(x, labels); err != nil {
					b.Fatal(err)
				}
				images += len(labels)
			}
			batches.Close()
			b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
