package benchmark

import (
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/tensor"
)

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
	l, _ := medianMS(infer(one), 20, 200)
	t.Logf("fresh: %.3f", l)
	step := newTrainStep(m, x, labels)
	medianMS(step, 3, 20)
	l, _ = medianMS(infer(one), 20, 200)
	t.Logf("after train: %.3f", l)
	medianMS(infer(x), 3, 20)
	l, _ = medianMS(infer(one), 20, 200)
	t.Logf("after infer128: %.3f", l)
	l, _ = medianMS(infer(one), 20, 2000)
	t.Logf("again 2000: %.3f", l)
}
