// Package benchmark times the lecture's MNIST convnet the way
// `convnet bench` reports it: the median training step (forward,
// backward and Adam update) and inference at a batch size, the latency
// of one image, achieved GFLOP/s and the process's peak resident memory.
//
// Every figure is the median of Runs timed repetitions after Warmup
// untimed ones, on fixed random inputs; the counts are the model's
// multiply-accumulates ×2 (forward) and ×6 (a training step: forward,
// and the gradients with respect to inputs and weights).
package benchmark

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// FwdFLOPPerImage is the forward cost of the lecture model for one 28×28
// image: 2·(28·28·32·25 + 14·14·64·25·32 + 3136·1024 + 1024·10).
const FwdFLOPPerImage = 2 * (28*28*32*25 + 14*14*64*25*32 + 3136*1024 + 1024*10)

// Config sets the batch size and the number of repetitions.
type Config struct {
	Batch  int // default 128
	Warmup int // default 3
	Runs   int // default 20
}

// Result is what Run measured. JSON names match bench/pytorch_lecture.py.
type Result struct {
	Impl string `json:"impl"`
	// Paths is the implementation each kernel op family ran
	// ("sgemm": "avx512", "vector": "avx2", …; see kernels.Paths), and
	// CPU what decided them (kernels.CPUModel).
	Paths                 map[string]string `json:"paths"`
	CPU                   string            `json:"cpu"`
	Threads               int               `json:"threads"`
	Batch                 int               `json:"batch"`
	TrainStepMS           float64           `json:"train_step_ms"`
	TrainImagesPerSecond  float64           `json:"train_images_per_second"`
	TrainGFLOPS           float64           `json:"train_gflops"`
	InferMS               float64           `json:"infer_ms"`
	InferImagesPerSecond  float64           `json:"infer_images_per_second"`
	InferGFLOPS           float64           `json:"infer_gflops"`
	LatencyMS             float64           `json:"latency_ms"`
	EpochSecondsEstimated float64           `json:"epoch_seconds_estimated"`
	PeakRSSMiB            float64           `json:"peak_rss_mib"`
}

// Run builds the lecture model with seeded Glorot weights and times it.
func Run(c Config) (Result, error) {
	if c.Batch == 0 {
		c.Batch = 128
	}
	if c.Warmup == 0 {
		c.Warmup = 3
	}
	if c.Runs == 0 {
		c.Runs = 20
	}
	if c.Batch < 1 || c.Warmup < 0 || c.Runs < 1 {
		return Result{}, fmt.Errorf("benchmark: batch %d, warmup %d, runs %d: want batch ≥ 1, warmup ≥ 0, runs ≥ 1", c.Batch, c.Warmup, c.Runs)
	}
	m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout, Seed: 1})
	if err != nil {
		return Result{}, err
	}
	vars := m.Variables()
	opt := optim.NewAdam(optim.AdamConfig{})
	r := tensor.NewRand(2)
	x := tensor.Zeros(c.Batch, 28, 28, 1)
	x.RandUniform(r, 0, 1)
	labels := make([]int, c.Batch)
	for i := range labels {
		labels[i] = r.IntN(10)
	}

	step := int64(0)
	var ws autograd.Workspace
	trainStep := func() error {
		step++
		logits := m.Call(autograd.Constant(x), layers.Context{Training: true, Step: step})
		loss := autograd.ReduceMean(autograd.SparseSoftmaxCrossEntropyWithLogits(labels, logits))
		// As the training loop does: this step's activations and
		// gradients become the next step's storage.
		defer ws.Reset()
		grads, err := ws.Gradient(loss, vars...)
		if err != nil {
			return err
		}
		return opt.Step(vars, grads)
	}
	infer := func(in *tensor.Tensor) func() error {
		return func() error {
			out := m.Call(autograd.Constant(in), layers.Context{})
			err := out.Err()
			autograd.Release(out) // as evaluation does
			return err
		}
	}
	res := Result{Impl: kernels.Impl(), Paths: map[string]string{}, CPU: kernels.CPUModel(), Threads: runtime.GOMAXPROCS(0), Batch: c.Batch}
	for _, p := range kernels.Paths() {
		res.Paths[p.Family] = p.Impl
	}
	if res.TrainStepMS, err = medianMS(trainStep, c.Warmup, c.Runs); err != nil {
		return res, err
	}
	if res.InferMS, err = medianMS(infer(x), c.Warmup, c.Runs); err != nil {
		return res, err
	}
	one, err := tensor.New([]int{1, 28, 28, 1}, x.Data()[:28*28])
	if err != nil {
		return res, err
	}
	if res.LatencyMS, err = medianMS(infer(one), 20, max(200, c.Runs)); err != nil {
		return res, err
	}
	b := float64(c.Batch)
	res.TrainImagesPerSecond = b / res.TrainStepMS * 1e3
	res.TrainGFLOPS = 3 * FwdFLOPPerImage * b / res.TrainStepMS / 1e6
	res.InferImagesPerSecond = b / res.InferMS * 1e3
	res.InferGFLOPS = FwdFLOPPerImage * b / res.InferMS / 1e6
	res.EpochSecondsEstimated = 55000 / res.TrainImagesPerSecond
	res.PeakRSSMiB = peakRSSMiB()
	return res, nil
}

func medianMS(fn func() error, warmup, runs int) (float64, error) {
	for range warmup {
		if err := fn(); err != nil {
			return 0, err
		}
	}
	ts := make([]float64, runs)
	for i := range ts {
		t := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ts[i] = float64(time.Since(t).Nanoseconds()) / 1e6
	}
	slices.Sort(ts)
	if runs%2 == 1 {
		return ts[runs/2], nil
	}
	return (ts[runs/2-1] + ts[runs/2]) / 2, nil
}

// peakRSSMiB reads VmHWM from /proc/self/status; 0 where there is none.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
