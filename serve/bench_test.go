package serve

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"runtime"
	"testing"
)

// inferBody returns a batch-1 infer request for the lecture model with
// seeded pseudo-random pixels.
func inferBody(b testing.TB) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	px := make([]float32, 28*28)
	for i := range px {
		px[i] = r.Float32()
	}
	body, err := json.Marshal(InferRequest{Inputs: []InferInput{{Name: "input", Shape: []int64{1, 28, 28, 1}, Datatype: FP32, Data: mustJSON(b, px)}}})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkReadInferRequest measures parsing one batch-1 request of 784
// values: impl=fast is readInferRequest, impl=ref the encoding/json
// reference.
func BenchmarkReadInferRequest(b *testing.B) {
	body := inferBody(b)
	for _, impl := range []struct {
		name string
		read func([]byte) (InferRequest, error)
	}{{"ref", refReadInferRequest}, {"fast", readInferRequest}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if req, err := impl.read(body); err != nil || len(req.Inputs[0].values) != 784 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInferParallel runs batch-1 infer requests through the handler
// (no network) from 32 goroutines, as bench/loadtest's clients, with one
// or two batch workers, and reports the mean batch the model saw.
func BenchmarkInferParallel(b *testing.B) {
	body := inferBody(b)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			s, err := New(lectureModel(b), Options{Logger: quietLogger(), Workers: workers})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetParallelism(32 / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/v2/models/convnet/infer", bytesReader(body))
					rec := httptest.NewRecorder()
					s.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Errorf("status %d: %s", rec.Code, rec.Body)
						return
					}
				}
			})
			b.StopTimer()
			s.metrics.mu.Lock()
			b.ReportMetric(float64(s.metrics.examples)/float64(max(s.metrics.batches, 1)), "examples/batch")
			s.metrics.mu.Unlock()
		})
	}
}
