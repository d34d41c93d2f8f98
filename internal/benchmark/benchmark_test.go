package benchmark

import (
	"errors"
	"testing"
)

func TestRunSmall(t *testing.T) {
	r, err := Run(Config{Batch: 2, Warmup: 1, Runs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.TrainStepMS <= 0 || r.InferMS <= 0 || r.LatencyMS <= 0 || r.Batch != 2 {
		t.Fatalf("implausible result %+v", r)
	}
	if _, err := Run(Config{Batch: -1}); err == nil {
		t.Fatal("Run accepted batch -1")
	}
}

func TestMedianStopsOnError(t *testing.T) {
	calls := 0
	_, err := medianMS(func() error {
		calls++
		if calls == 2 {
			return errBoom
		}
		return nil
	}, 1, 5)
	if err != errBoom || calls != 2 {
		t.Fatalf("medianMS returned %v after %d calls, want errBoom after 2", err, calls)
	}
}

var errBoom = errors.New("boom")
