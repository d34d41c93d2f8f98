package nn

import (
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// goldError is an input TF rejects. The generator writes these by hand:
// tfjs accepts some of them (a negative VALID output size, for one).
type goldError struct {
	Name             string   `json:"name"`
	Op               string   `json:"op"`
	InputShape       []int    `json:"input_shape"`
	InputSizes       []int    `json:"input_sizes"`
	FilterShape      []int    `json:"filter_shape"`
	FilterSizes      []int    `json:"filter_sizes"`
	PointwiseShape   []int    `json:"pointwise_shape"`
	GradShape        []int    `json:"grad_shape"`
	OutputShape      []int    `json:"output_shape"`
	Strides          []int    `json:"strides"`
	Dilations        []int    `json:"dilations"`
	KSize            []int    `json:"ksize"`
	Padding          string   `json:"padding"`
	ExplicitPaddings [][2]int `json:"explicit_paddings"`
	DataFormat       string   `json:"data_format"`
	AShape           []int    `json:"a_shape"`
	BShape           []int    `json:"b_shape"`
	TransposeA       bool     `json:"transpose_a"`
	TransposeB       bool     `json:"transpose_b"`
	ValueShape       []int    `json:"value_shape"`
	BiasShape        []int    `json:"bias_shape"`
	LogitsShape      []int    `json:"logits_shape"`
	LabelsShape      []int    `json:"labels_shape"`
	Labels           []int    `json:"labels"`
}

// run calls the op the case names on tensors of the case's shapes (their
// values do not matter for shape checks), or reports an unknown op.
func (c *goldError) run(t *testing.T) (*tensor.Tensor, error) {
	z := func(shape []int) *tensor.Tensor { return tensor.Zeros(shape...) }
	o := ConvOptions{Strides: c.Strides, Padding: c.Padding, ExplicitPaddings: c.ExplicitPaddings, Dilations: c.Dilations, DataFormat: c.DataFormat}
	po := PoolOptions{KSize: c.KSize, Strides: c.Strides, Padding: c.Padding, DataFormat: c.DataFormat}
	twoOut := func(a, b *tensor.Tensor, err error) (*tensor.Tensor, error) { return a, err }
	switch c.Op {
	case "conv1d":
		return Conv1D(z(c.InputShape), z(c.FilterShape), o)
	case "conv2d":
		return Conv2D(z(c.InputShape), z(c.FilterShape), o)
	case "conv3d":
		return Conv3D(z(c.InputShape), z(c.FilterShape), o)
	case "depthwise":
		return DepthwiseConv2D(z(c.InputShape), z(c.FilterShape), o)
	case "conv1d_backprop_input":
		return Conv1DBackpropInput(c.InputSizes, z(c.FilterShape), z(c.GradShape), o)
	case "conv2d_backprop_input":
		return Conv2DBackpropInput(c.InputSizes, z(c.FilterShape), z(c.GradShape), o)
	case "conv3d_backprop_input":
		return Conv3DBackpropInput(c.InputSizes, z(c.FilterShape), z(c.GradShape), o)
	case "depthwise_backprop_input":
		return DepthwiseConv2DBackpropInput(c.InputSizes, z(c.FilterShape), z(c.GradShape), o)
	case "conv1d_backprop_filter":
		return Conv1DBackpropFilter(z(c.InputShape), c.FilterSizes, z(c.GradShape), o)
	case "conv2d_backprop_filter":
		return Conv2DBackpropFilter(z(c.InputShape), c.FilterSizes, z(c.GradShape), o)
	case "conv3d_backprop_filter":
		return Conv3DBackpropFilter(z(c.InputShape), c.FilterSizes, z(c.GradShape), o)
	case "depthwise_backprop_filter":
		return DepthwiseConv2DBackpropFilter(z(c.InputShape), c.FilterSizes, z(c.GradShape), o)
	case "separable":
		return SeparableConv2D(z(c.InputShape), z(c.FilterShape), z(c.PointwiseShape), o)
	case "conv2d_transpose":
		return Conv2DTranspose(z(c.InputShape), z(c.FilterShape), c.OutputShape, o)
	case "max_pool":
		return MaxPool(z(c.InputShape), po)
	case "avg_pool":
		return AvgPool(z(c.InputShape), po)
	case "max_pool_grad":
		return MaxPoolGrad(z(c.InputShape), z(c.GradShape), po)
	case "avg_pool_grad":
		return AvgPoolGrad(c.InputSizes, z(c.GradShape), po)
	case "matmul":
		return MatMul(z(c.AShape), z(c.BShape), c.TransposeA, c.TransposeB)
	case "bias_add":
		return BiasAdd(z(c.ValueShape), z(c.BiasShape), c.DataFormat)
	case "softmax":
		return Softmax(z(c.LogitsShape))
	case "log_softmax":
		return LogSoftmax(z(c.LogitsShape))
	case "softmax_xent":
		return twoOut(SoftmaxCrossEntropyWithLogits(z(c.LabelsShape), z(c.LogitsShape)))
	case "sparse_softmax_xent":
		return twoOut(SparseSoftmaxCrossEntropyWithLogits(c.Labels, z(c.LogitsShape)))
	case "sigmoid_xent":
		return SigmoidCrossEntropyWithLogits(z(c.LabelsShape), z(c.LogitsShape))
	}
	t.Fatalf("unknown op %q in errors.json", c.Op)
	return nil, nil
}

// acceptedByTF lists the cases of errors.json that TF accepts. Most have a
// VALID (or explicit) output size of TF's (in − F + s)/s = 0, not
// negative, so TF returns an empty tensor or a zero gradient
// (GetWindowedOutputSize fails only below zero; TestEmptyOutputs checks
// those ops); tf.nn.conv1d takes extra leading batch dimensions
// (TestConv1DLeadingBatchDims). On these all-zero inputs every result is
// zeros.
var acceptedByTF = map[string]bool{
	"conv1d/input_rank4":    true,
	"conv2d/valid_negative": true, "conv2d/valid_negative_one_axis": true, "conv2d/valid_negative_dilated": true,
	"conv2d_backprop_input/valid_negative": true, "conv1d/valid_negative": true, "conv3d/valid_negative": true,
	"depthwise/valid_negative": true, "max_pool/valid_negative": true, "max_pool/valid_negative_1d": true,
	"max_pool/valid_negative_3d": true, "avg_pool/valid_negative": true, "avg_pool/valid_negative_1d": true,
	"avg_pool/valid_negative_3d": true,
}

// TestGoldenErrors checks that every input TF rejects returns an error
// (and does not panic).
func TestGoldenErrors(t *testing.T) {
	for _, c := range loadGolden[goldError](t, "errors.json") {
		t.Run(c.Name, func(t *testing.T) {
			if acceptedByTF[c.Name] {
				out, err := call(t, c.Op, func() (*tensor.Tensor, error) { return c.run(t) })
				if err != nil || out == nil {
					t.Fatalf("%s: %v; TF returns an empty tensor (or a zero gradient)", c.Op, err)
				}
				for _, v := range out.Data() {
					if v != 0 {
						t.Fatalf("%s: %v; TF returns an empty tensor (or a zero gradient)", c.Op, out)
					}
				}
				return
			}
			out, err := call(t, c.Op, func() (*tensor.Tensor, error) { return c.run(t) })
			if err == nil {
				var shape []int
				if out != nil {
					shape = out.Shape()
				}
				t.Errorf("%s: no error; got a result of shape %v", c.Op, shape)
			}
		})
	}
}
