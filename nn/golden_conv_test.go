package nn

import (
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// goldConv is one convolution case: forward and both gradients.
type goldConv struct {
	Name             string      `json:"name"`
	Strides          []int       `json:"strides"`
	Dilations        []int       `json:"dilations"`
	Padding          string      `json:"padding"`
	ExplicitPaddings [][2]int    `json:"explicit_paddings"`
	DataFormat       string      `json:"data_format"`
	Input            *goldTensor `json:"input"`
	Filter           *goldTensor `json:"filter"`
	Output           *goldTensor `json:"output"`
	OutGrad          *goldTensor `json:"out_grad"`
	GradInput        *goldTensor `json:"grad_input"`
	GradFilter       *goldTensor `json:"grad_filter"`
}

func (c *goldConv) options(i int) ConvOptions {
	o := ConvOptions{
		Strides:          paramForm(c.Strides, i, c.DataFormat),
		Padding:          c.Padding,
		ExplicitPaddings: c.ExplicitPaddings,
		DataFormat:       c.DataFormat,
	}
	if c.Dilations != nil {
		o.Dilations = paramForm(c.Dilations, i+1, c.DataFormat)
	}
	return o
}

type convOps struct {
	forward        func(input, filter *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error)
	backpropInput  func(inputShape []int, filter, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error)
	backpropFilter func(input *tensor.Tensor, filterShape []int, grad *tensor.Tensor, o ConvOptions) (*tensor.Tensor, error)
}

func testConvGolden(t *testing.T, file string, ops convOps) {
	for i, c := range loadGolden[goldConv](t, file) {
		t.Run(c.Name, func(t *testing.T) {
			o := c.options(i)
			x, f, g := c.Input.tensor(t), c.Filter.tensor(t), c.OutGrad.tensor(t)
			y, err := call(t, "forward", func() (*tensor.Tensor, error) { return ops.forward(x, f, o) })
			expectClose(t, "forward", y, err, c.Output)
			gi, err := call(t, "backprop input", func() (*tensor.Tensor, error) { return ops.backpropInput(c.Input.Shape, f, g, o) })
			expectClose(t, "backprop input", gi, err, c.GradInput)
			gf, err := call(t, "backprop filter", func() (*tensor.Tensor, error) { return ops.backpropFilter(x, c.Filter.Shape, g, o) })
			expectClose(t, "backprop filter", gf, err, c.GradFilter)
		})
	}
}

func TestGoldenConv1D(t *testing.T) {
	testConvGolden(t, "conv1d.json", convOps{Conv1D, Conv1DBackpropInput, Conv1DBackpropFilter})
}

func TestGoldenConv2D(t *testing.T) {
	testConvGolden(t, "conv2d.json", convOps{Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter})
}

func TestGoldenConv3D(t *testing.T) {
	testConvGolden(t, "conv3d.json", convOps{Conv3D, Conv3DBackpropInput, Conv3DBackpropFilter})
}

func TestGoldenDepthwiseConv2D(t *testing.T) {
	testConvGolden(t, "depthwise.json", convOps{DepthwiseConv2D, DepthwiseConv2DBackpropInput, DepthwiseConv2DBackpropFilter})
}

// TestGoldenSeparableConv2D checks the forward, and the gradients the way
// autograd composes them: depthwise, then a 1x1 VALID pointwise conv.
func TestGoldenSeparableConv2D(t *testing.T) {
	type goldSeparable struct {
		goldConv
		DepthwiseFilter     *goldTensor `json:"depthwise_filter"`
		PointwiseFilter     *goldTensor `json:"pointwise_filter"`
		GradDepthwiseFilter *goldTensor `json:"grad_depthwise_filter"`
		GradPointwiseFilter *goldTensor `json:"grad_pointwise_filter"`
	}
	for i, c := range loadGolden[goldSeparable](t, "separable.json") {
		t.Run(c.Name, func(t *testing.T) {
			o := c.options(i)
			x, dw, pw, g := c.Input.tensor(t), c.DepthwiseFilter.tensor(t), c.PointwiseFilter.tensor(t), c.OutGrad.tensor(t)
			y, err := call(t, "forward", func() (*tensor.Tensor, error) { return SeparableConv2D(x, dw, pw, o) })
			expectClose(t, "forward", y, err, c.Output)

			mid, err := DepthwiseConv2D(x, dw, o)
			if err != nil {
				t.Fatalf("depthwise stage: %v", err)
			}
			po := ConvOptions{Padding: "VALID", DataFormat: c.DataFormat}
			gpw, err := call(t, "pointwise filter grad", func() (*tensor.Tensor, error) { return Conv2DBackpropFilter(mid, pw.Shape(), g, po) })
			expectClose(t, "pointwise filter grad", gpw, err, c.GradPointwiseFilter)
			gmid, err := Conv2DBackpropInput(mid.Shape(), pw, g, po)
			if err != nil {
				t.Fatalf("pointwise backprop input: %v", err)
			}
			gx, err := call(t, "input grad", func() (*tensor.Tensor, error) { return DepthwiseConv2DBackpropInput(x.Shape(), dw, gmid, o) })
			expectClose(t, "input grad", gx, err, c.GradInput)
			gdw, err := call(t, "depthwise filter grad", func() (*tensor.Tensor, error) { return DepthwiseConv2DBackpropFilter(x, dw.Shape(), gmid, o) })
			expectClose(t, "depthwise filter grad", gdw, err, c.GradDepthwiseFilter)
		})
	}
}

// TestGoldenConv2DTranspose checks conv2d_transpose, its identity with
// Conv2DBackpropInput, and its gradients (Conv2D of the incoming gradient
// for the input, Conv2DBackpropFilter with the roles swapped for the filter).
func TestGoldenConv2DTranspose(t *testing.T) {
	type goldTranspose struct {
		goldConv
		OutputShape []int `json:"output_shape"`
	}
	for i, c := range loadGolden[goldTranspose](t, "conv2d_transpose.json") {
		t.Run(c.Name, func(t *testing.T) {
			o := c.options(i)
			x, f, g := c.Input.tensor(t), c.Filter.tensor(t), c.OutGrad.tensor(t)
			y, err := call(t, "forward", func() (*tensor.Tensor, error) { return Conv2DTranspose(x, f, c.OutputShape, o) })
			expectClose(t, "forward", y, err, c.Output)
			yb, err := call(t, "as backprop input", func() (*tensor.Tensor, error) { return Conv2DBackpropInput(c.OutputShape, f, x, o) })
			expectClose(t, "as backprop input", yb, err, c.Output)
			gx, err := call(t, "input grad", func() (*tensor.Tensor, error) { return Conv2D(g, f, o) })
			expectClose(t, "input grad", gx, err, c.GradInput)
			gf, err := call(t, "filter grad", func() (*tensor.Tensor, error) { return Conv2DBackpropFilter(g, f.Shape(), x, o) })
			expectClose(t, "filter grad", gf, err, c.GradFilter)
		})
	}
}

// TestGoldenConvPhases reruns the convolution goldens with every strided
// input gradient (and strided Conv2DTranspose) on the sub-pixel phase
// path: their 1–3 channels otherwise keep them on Col2im.
func TestGoldenConvPhases(t *testing.T) {
	defer func(saved tuning) { tune = saved }(tune)
	tune.PhaseMinChannels = 0
	t.Run("conv1d", TestGoldenConv1D)
	t.Run("conv2d", TestGoldenConv2D)
	t.Run("conv3d", TestGoldenConv3D)
	t.Run("conv2d_transpose", TestGoldenConv2DTranspose)
}
