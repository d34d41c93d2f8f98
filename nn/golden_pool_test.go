package nn

import (
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// goldPool is one pooling case: forward and the input gradient.
type goldPool struct {
	Name       string      `json:"name"`
	KSize      []int       `json:"ksize"`
	Strides    []int       `json:"strides"`
	Padding    string      `json:"padding"`
	DataFormat string      `json:"data_format"`
	Input      *goldTensor `json:"input"`
	Output     *goldTensor `json:"output"`
	OutGrad    *goldTensor `json:"out_grad"`
	GradInput  *goldTensor `json:"grad_input"`
}

func (c *goldPool) options(i int) PoolOptions {
	return PoolOptions{
		KSize:      paramForm(c.KSize, i, c.DataFormat),
		Strides:    paramForm(c.Strides, i+2, c.DataFormat),
		Padding:    c.Padding,
		DataFormat: c.DataFormat,
	}
}

// TestGoldenMaxPool covers 1-D, 2-D and 3-D max pooling, and the argmax
// variants against the same values. The inputs have distinct values, so
// the gradient's routing to the maximum is unambiguous.
func TestGoldenMaxPool(t *testing.T) {
	for i, c := range loadGolden[goldPool](t, "max_pool.json") {
		t.Run(c.Name, func(t *testing.T) {
			o := c.options(i)
			x, g := c.Input.tensor(t), c.OutGrad.tensor(t)
			y, err := call(t, "forward", func() (*tensor.Tensor, error) { return MaxPool(x, o) })
			expectClose(t, "forward", y, err, c.Output)
			gx, err := call(t, "grad", func() (*tensor.Tensor, error) { return MaxPoolGrad(x, g, o) })
			expectClose(t, "grad", gx, err, c.GradInput)

			var argmax []int32
			ya, err := call(t, "with argmax", func() (*tensor.Tensor, error) {
				y, am, err := MaxPoolWithArgmax(x, o)
				argmax = am
				return y, err
			})
			expectClose(t, "with argmax", ya, err, c.Output)
			if err == nil {
				ga, err := call(t, "grad with argmax", func() (*tensor.Tensor, error) { return MaxPoolGradWithArgmax(c.Input.Shape, g, argmax) })
				expectClose(t, "grad with argmax", ga, err, c.GradInput)
			}
		})
	}
}

// TestGoldenAvgPool covers 1-D, 2-D and 3-D average pooling; under SAME
// both the forward and the gradient divide by the count of real cells.
func TestGoldenAvgPool(t *testing.T) {
	for i, c := range loadGolden[goldPool](t, "avg_pool.json") {
		t.Run(c.Name, func(t *testing.T) {
			o := c.options(i)
			x, g := c.Input.tensor(t), c.OutGrad.tensor(t)
			y, err := call(t, "forward", func() (*tensor.Tensor, error) { return AvgPool(x, o) })
			expectClose(t, "forward", y, err, c.Output)
			gx, err := call(t, "grad", func() (*tensor.Tensor, error) { return AvgPoolGrad(c.Input.Shape, g, o) })
			expectClose(t, "grad", gx, err, c.GradInput)
		})
	}
}
