package benchmark

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/tensor"
)

func minflt() int {
	b, _ := os.ReadFile("/proc/self/stat")
	f := strings.Fields(string(b))
	v, _ := strconv.Atoi(f[9])
	return v
}

func TestTmpLatency(t *testing.T) {
	m, _, _ := NewModel("resnet")
	x, labels := randomBatch(128)
	one, _ := tensor.New([]int{1, 28, 28, 1}, x.Data()[:28*28])
	infer := func(in *tensor.Tensor) func() error {
		return func() error {
			out := m.Call(autograd.Constant(in), layers.Context{})
			err := out.Err()
			autograd.Release(out)
			return err
		}
	}
	meas := func(what string) {
		f0, t0 := minflt(), time.Now()
		l, _ := medianMS(infer(one), 20, 400)
		t.Logf("%s: median %.3f ms, mean %.3f ms, %.2f faults/call", what, l, time.Since(t0).Seconds()*1e3/420, float64(minflt()-f0)/420)
	}
	meas("fresh")
	step := newTrainStep(m, x, labels)
	medianMS(step, 3, 20)
	meas("after train")
	medianMS(infer(x), 3, 20)
	meas("after infer128")
	meas("again")
}
