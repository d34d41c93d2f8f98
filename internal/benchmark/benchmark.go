// Package benchmark times a model on 28×28×1 images the way `convnet
// bench` reports it: the median training step (forward, backward and
// Adam update on softmax cross-entropy) and inference at a batch size,
// the latency of one image, achieved GFLOP/s and the process's peak
// resident memory. The models are the lecture's MNIST convnet and a
// small ResNet (see Models); bench/pytorch_lecture.py and
// bench/pytorch_resnet.py build the same two in PyTorch.
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

// ResNetFwdFLOPPerImage is the forward cost of the benchmark's ResNet
// (NewModel("resnet")) for one 28×28 image, its convolutions and dense
// layer (batch norm, ReLU, the additions and pooling are not counted):
// 2·(28·28·9·1·16 (stem) + 4·28·28·9·16·16 (two blocks of 16) +
// 14·14·9·16·32 + 14·14·9·32·32 + 14·14·16·32 (the block of 32 and its
// projection) + 32·10).
const ResNetFwdFLOPPerImage = 2 * (28*28*9*1*16 + 4*28*28*9*16*16 + 14*14*9*16*32 + 14*14*9*32*32 + 14*14*16*32 + 32*10)

// Models lists the models Run can time, the first the default:
//
//	lecture  the lecture's convnet (models.NewConvNet, dropout 0.25)
//	resnet   models.NewResNet with Stages [16, 32], StageBlocks [2, 1]:
//	         conv 3×3/16 + BN + ReLU, two residual blocks of 16, one
//	         stride-2 block of 32 with a 1×1 projection, global average
//	         pooling, dense 10
var Models = []string{"lecture", "resnet"}

// NewModel returns the named model of Models with seeded initial
// weights (seed 1), and its forward FLOP per image.
func NewModel(name string) (Model, float64, error) {
	switch name {
	case "lecture", "":
		m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout, Seed: 1})
		return m, FwdFLOPPerImage, err
	case "resnet":
		m, err := models.NewResNet(models.ResNetConfig{InputShape: []int{28, 28, 1}, Classes: 10,
			Stages: []int{16, 32}, StageBlocks: []int{2, 1}, Seed: 1})
		return m, ResNetFwdFLOPPerImage, err
	}
	return nil, 0, fmt.Errorf("benchmark: unknown model %q, want one of %s", name, strings.Join(Models, ", "))
}

// Model is a benchmark model: a network from [N, 28, 28, 1] images to
// [N, 10] logits.
type Model = layers.Network

// Params returns the number of trainable parameters of m (the moving
// statistics of batch norm are not counted, as PyTorch's parameters()
// leaves out its running statistics).
func Params(m Model) int {
	n := 0
	for _, v := range m.Variables() {
		n += v.Value().Len()
	}
	return n
}

// Config sets the model, the batch size and the number of repetitions.
type Config struct {
	Model  string // one of Models; "" means "lecture"
	Batch  int    // default 128
	Warmup int    // default 5, as the PyTorch and ONNX Runtime scripts in bench/
	Runs   int    // default 20
}

// Result is what Run measured. JSON names match bench/pytorch_lecture.py.
type Result struct {
	Model string `json:"model"`
	// Params is the count of trainable parameters (Params).
	Params int    `json:"params"`
	Impl   string `json:"impl"`
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

// Run builds c.Model (NewModel) and times it.
func Run(c Config) (Result, error) {
	if c.Model == "" {
		c.Model = Models[0]
	}
	if c.Batch == 0 {
		c.Batch = 128
	}
	if c.Warmup == 0 {
		c.Warmup = 5
	}
	if c.Runs == 0 {
		c.Runs = 20
	}
	if c.Batch < 1 || c.Warmup < 0 || c.Runs < 1 {
		return Result{}, fmt.Errorf("benchmark: batch %d, warmup %d, runs %d: want batch ≥ 1, warmup ≥ 0, runs ≥ 1", c.Batch, c.Warmup, c.Runs)
	}
	m, fwdFLOP, err := NewModel(c.Model)
	if err != nil {
		return Result{}, err
	}
	x, labels := randomBatch(c.Batch)
	trainStep := newTrainStep(m, x, labels)
	// Inference is layers.Predict, as convnet predict and serve run it
	// (in batches of its choosing: PredictBatch).
	infer := func(in *tensor.Tensor) func() error {
		return func() error {
			_, err := layers.Predict(m, in, 0)
			return err
		}
	}
	res := Result{Model: c.Model, Params: Params(m), Impl: kernels.Impl(), Paths: map[string]string{}, CPU: kernels.CPUModel(), Threads: runtime.GOMAXPROCS(0), Batch: c.Batch}
	for _, p := range kernels.Paths() {
		res.Paths[p.Family] = p.Impl
	}
	// Each phase starts from a collected heap. After the training phase
	// the heap's next goal lies ~150 MiB ahead, so the batch-1 phase's
	// small allocations (11 KB a call) landed on pages never touched
	// before: ~800 more minor page faults over its 220 calls, and the
	// ResNet's call took 0.13 ms instead of 0.09–0.10. A process that only
	// serves, or one past its first collection, reuses freed pages; so do
	// PyTorch's and ONNX Runtime's allocators.
	runtime.GC()
	if res.TrainStepMS, err = medianMS(trainStep, c.Warmup, c.Runs); err != nil {
		return res, err
	}
	runtime.GC()
	if res.InferMS, err = medianMS(infer(x), c.Warmup, c.Runs); err != nil {
		return res, err
	}
	one, err := tensor.New([]int{1, 28, 28, 1}, x.Data()[:28*28])
	if err != nil {
		return res, err
	}
	runtime.GC()
	if res.LatencyMS, err = medianMS(infer(one), 20, max(200, c.Runs)); err != nil {
		return res, err
	}
	b := float64(c.Batch)
	res.TrainImagesPerSecond = b / res.TrainStepMS * 1e3
	res.TrainGFLOPS = 3 * fwdFLOP * b / res.TrainStepMS / 1e6
	res.InferImagesPerSecond = b / res.InferMS * 1e3
	res.InferGFLOPS = fwdFLOP * b / res.InferMS / 1e6
	res.EpochSecondsEstimated = 55000 / res.TrainImagesPerSecond
	res.PeakRSSMiB = peakRSSMiB()
	return res, nil
}

// randomBatch returns batch images [batch, 28, 28, 1] uniform in [0, 1)
// and labels in 0…9, from seed 2.
func randomBatch(batch int) (*tensor.Tensor, []int) {
	r := tensor.NewRand(2)
	x := tensor.Zeros(batch, 28, 28, 1)
	x.RandUniform(r, 0, 1)
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = r.IntN(10)
	}
	return x, labels
}

// newTrainStep returns one training step of m on (x, labels): forward
// in training mode, mean sparse softmax cross-entropy, gradients, Adam
// (TF1 defaults) update.
func newTrainStep(m Model, x *tensor.Tensor, labels []int) func() error {
	vars := m.Variables()
	opt := optim.NewAdam(optim.AdamConfig{})
	step := int64(0)
	var ws autograd.Workspace
	return func() error {
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
