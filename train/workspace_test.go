package train

import (
	"math"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/pool"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/optim"
)

// The training step hands its memory to the next step through a
// Workspace. With the pool poisoned (every recycled array NaN when
// handed back and when handed out) a few steps give the same losses and
// weights, bit for bit, as with plain recycling: no step reads storage
// an earlier step gave up, and no op reads a result element it did not
// write.
func TestTrainStepPoisonedPoolSameBits(t *testing.T) {
	run := func(poisoned bool) (losses []float64, weights [][]float32) {
		defer pool.SetPoison(pool.SetPoison(poisoned))
		m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		tr := &trainer{model: m, vars: m.Variables(), opt: optim.NewAdam(optim.AdamConfig{})}
		batches := data.NewBatches(synthetic(96, 5), data.BatchOptions{BatchSize: 32}, 0)
		defer batches.Close()
		for range 3 {
			x, labels, ok := batches.Next()
			if !ok {
				t.Fatal("the synthetic set ran out of batches")
			}
			l, _, err := tr.trainStep(x, labels)
			if err != nil {
				t.Fatal(err)
			}
			losses = append(losses, l)
		}
		for _, v := range tr.vars {
			weights = append(weights, v.Value().Clone().Data())
		}
		return losses, weights
	}
	wantLoss, wantW := run(false)
	gotLoss, gotW := run(true)
	for i := range wantLoss {
		if math.Float64bits(gotLoss[i]) != math.Float64bits(wantLoss[i]) {
			t.Errorf("step %d: loss %v with the pool poisoned, %v without", i+1, gotLoss[i], wantLoss[i])
		}
	}
	for i := range wantW {
		for j := range wantW[i] {
			if math.Float32bits(gotW[i][j]) != math.Float32bits(wantW[i][j]) {
				t.Errorf("variable %d element %d: %v with the pool poisoned, %v without", i, j, gotW[i][j], wantW[i][j])
				break
			}
		}
	}
}
