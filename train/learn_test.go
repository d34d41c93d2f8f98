package train

import (
	"context"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data/mnist"
	"github.com/convnet-go/convnet/models"
)

// TestLearnsMNIST trains the lecture's model for 300 steps of 32 real
// MNIST images (9,600 examples, ~1/6 of an epoch) and checks the test
// accuracy on the first 2,000 test images. It fetches MNIST into the
// cache (mnist.DefaultDir, or $CONVNET_DATA) when missing. Measured here
// on a busy 2-core machine: 0.9625 after 50 s of training (62 s in all).
func TestLearnsMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real MNIST for about a minute")
	}
	data, err := LoadData(mnist.DefaultDir(), testLog{t}, 0, 2000)
	if err != nil {
		t.Fatalf("MNIST is needed for this test: %v", err)
	}
	data.Validation = nil
	cfg := Config{Epochs: 1, BatchSize: 32, StepsPerEpoch: 300, DropoutRate: models.LectureDropout, Seed: 1, LogEvery: 100, Out: testLog{t}}
	res, err := Run(context.Background(), cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Epochs[0]
	t.Logf("test accuracy %.4f on %d images after %d steps (%.1f s, %.0f images/s)", m.TestAccuracy, data.Test.Len(), m.Step, m.EpochSeconds, m.ImagesPerSecond)
	if m.TestAccuracy < 0.95 {
		t.Errorf("test accuracy %.4f after %d steps, want ≥ 0.95", m.TestAccuracy, m.Step)
	}
}

// testLog writes lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
