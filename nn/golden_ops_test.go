package nn

import (
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestGoldenMatMul checks MatMul for every transpose combination, and its
// gradients written as the MatMuls autograd uses:
// C = op(A)·op(B), dA = g·op(B)ᵀ (transposed back if A was), dB likewise.
func TestGoldenMatMul(t *testing.T) {
	type goldMatMul struct {
		Name       string      `json:"name"`
		TransposeA bool        `json:"transpose_a"`
		TransposeB bool        `json:"transpose_b"`
		A          *goldTensor `json:"a"`
		B          *goldTensor `json:"b"`
		Output     *goldTensor `json:"output"`
		OutGrad    *goldTensor `json:"out_grad"`
		GradA      *goldTensor `json:"grad_a"`
		GradB      *goldTensor `json:"grad_b"`
	}
	for _, c := range loadGolden[goldMatMul](t, "matmul.json") {
		t.Run(c.Name, func(t *testing.T) {
			a, b, g := c.A.tensor(t), c.B.tensor(t), c.OutGrad.tensor(t)
			y, err := call(t, "forward", func() (*tensor.Tensor, error) { return MatMul(a, b, c.TransposeA, c.TransposeB) })
			expectClose(t, "forward", y, err, c.Output)
			var ga, gb *tensor.Tensor
			switch {
			case !c.TransposeA && !c.TransposeB:
				ga, err = MatMul(g, b, false, true)
				expectClose(t, "grad a", ga, err, c.GradA)
				gb, err = MatMul(a, g, true, false)
			case !c.TransposeA && c.TransposeB:
				ga, err = MatMul(g, b, false, false)
				expectClose(t, "grad a", ga, err, c.GradA)
				gb, err = MatMul(g, a, true, false)
			case c.TransposeA && !c.TransposeB:
				ga, err = MatMul(b, g, false, true)
				expectClose(t, "grad a", ga, err, c.GradA)
				gb, err = MatMul(a, g, false, false)
			default:
				ga, err = MatMul(b, g, true, true)
				expectClose(t, "grad a", ga, err, c.GradA)
				gb, err = MatMul(g, a, true, true)
			}
			expectClose(t, "grad b", gb, err, c.GradB)
		})
	}
}

func TestGoldenBiasAdd(t *testing.T) {
	type goldBias struct {
		Name       string      `json:"name"`
		DataFormat string      `json:"data_format"`
		Value      *goldTensor `json:"value"`
		Bias       *goldTensor `json:"bias"`
		Output     *goldTensor `json:"output"`
		OutGrad    *goldTensor `json:"out_grad"`
		GradBias   *goldTensor `json:"grad_bias"`
		// relu(value + bias) and its gradients, for the fused op.
		ReluOutput    *goldTensor `json:"relu_output"`
		ReluGradValue *goldTensor `json:"relu_grad_value"`
		ReluGradBias  *goldTensor `json:"relu_grad_bias"`
	}
	for _, c := range loadGolden[goldBias](t, "bias_add.json") {
		t.Run(c.Name, func(t *testing.T) {
			v, b, g := c.Value.tensor(t), c.Bias.tensor(t), c.OutGrad.tensor(t)
			y, err := call(t, "forward", func() (*tensor.Tensor, error) { return BiasAdd(v, b, c.DataFormat) })
			expectClose(t, "forward", y, err, c.Output)
			gb, err := call(t, "grad bias", func() (*tensor.Tensor, error) { return BiasAddGrad(g, c.DataFormat) })
			expectClose(t, "grad bias", gb, err, c.GradBias)

			yr, err := call(t, "fused relu forward", func() (*tensor.Tensor, error) { return BiasAddRelu(v, b, c.DataFormat) })
			expectClose(t, "fused relu forward", yr, err, c.ReluOutput)
			var dbias *tensor.Tensor
			dvalue, err := call(t, "fused relu grad", func() (*tensor.Tensor, error) {
				dv, db, err := BiasAddReluGrad(g, c.ReluOutput.tensor(t), c.DataFormat)
				dbias = db
				return dv, err
			})
			expectClose(t, "fused relu grad value", dvalue, err, c.ReluGradValue)
			expectClose(t, "fused relu grad bias", dbias, err, c.ReluGradBias)
		})
	}
}

// TestGoldenActivations checks each activation and its gradient op, the
// gradient op fed the golden forward value (y or x, as its signature asks).
func TestGoldenActivations(t *testing.T) {
	type goldAct struct {
		Name    string      `json:"name"`
		Op      string      `json:"op"`
		Alpha   float32     `json:"alpha"`
		X       *goldTensor `json:"x"`
		Output  *goldTensor `json:"output"`
		OutGrad *goldTensor `json:"out_grad"`
		GradX   *goldTensor `json:"grad_x"`
	}
	for _, c := range loadGolden[goldAct](t, "activation.json") {
		t.Run(c.Name, func(t *testing.T) {
			x, y, g := c.X.tensor(t), c.Output.tensor(t), c.OutGrad.tensor(t)
			var fwd func() (*tensor.Tensor, error)
			var grad func() (*tensor.Tensor, error)
			switch c.Op {
			case "relu":
				fwd = func() (*tensor.Tensor, error) { return Relu(x), nil }
				grad = func() (*tensor.Tensor, error) { return ReluGrad(g, x) }
			case "leaky_relu":
				fwd = func() (*tensor.Tensor, error) { return LeakyRelu(x, c.Alpha), nil }
				grad = func() (*tensor.Tensor, error) { return LeakyReluGrad(g, x, c.Alpha) }
			case "sigmoid":
				fwd = func() (*tensor.Tensor, error) { return Sigmoid(x), nil }
				grad = func() (*tensor.Tensor, error) { return SigmoidGrad(y, g) }
			case "tanh":
				fwd = func() (*tensor.Tensor, error) { return Tanh(x), nil }
				grad = func() (*tensor.Tensor, error) { return TanhGrad(y, g) }
			default:
				t.Fatalf("unknown op %q in golden file", c.Op)
			}
			out, err := call(t, "forward", fwd)
			expectClose(t, "forward", out, err, c.Output)
			gx, err := call(t, "grad", grad)
			expectClose(t, "grad", gx, err, c.GradX)
		})
	}
}

func TestGoldenSoftmax(t *testing.T) {
	type goldSoftmax struct {
		Name       string      `json:"name"`
		Op         string      `json:"op"`
		Logits     *goldTensor `json:"logits"`
		Output     *goldTensor `json:"output"`
		OutGrad    *goldTensor `json:"out_grad"`
		GradLogits *goldTensor `json:"grad_logits"`
	}
	for _, c := range loadGolden[goldSoftmax](t, "softmax.json") {
		t.Run(c.Name, func(t *testing.T) {
			x, y, g := c.Logits.tensor(t), c.Output.tensor(t), c.OutGrad.tensor(t)
			fwd, grad := Softmax, SoftmaxGrad
			if c.Op == "log_softmax" {
				fwd, grad = LogSoftmax, LogSoftmaxGrad
			}
			out, err := call(t, "forward", func() (*tensor.Tensor, error) { return fwd(x) })
			expectClose(t, "forward", out, err, c.Output)
			gx, err := call(t, "grad", func() (*tensor.Tensor, error) { return grad(y, g) })
			expectClose(t, "grad", gx, err, c.GradLogits)
		})
	}
}

func TestGoldenSoftmaxCrossEntropy(t *testing.T) {
	type goldXent struct {
		Name     string      `json:"name"`
		Labels   *goldTensor `json:"labels"`
		Logits   *goldTensor `json:"logits"`
		Loss     *goldTensor `json:"loss"`
		Backprop *goldTensor `json:"backprop"`
	}
	for _, c := range loadGolden[goldXent](t, "softmax_xent.json") {
		t.Run(c.Name, func(t *testing.T) {
			var backprop *tensor.Tensor
			loss, err := call(t, "loss", func() (*tensor.Tensor, error) {
				l, b, err := SoftmaxCrossEntropyWithLogits(c.Labels.tensor(t), c.Logits.tensor(t))
				backprop = b
				return l, err
			})
			expectClose(t, "loss", loss, err, c.Loss)
			expectClose(t, "backprop", backprop, err, c.Backprop)
		})
	}
}

func TestGoldenSparseSoftmaxCrossEntropy(t *testing.T) {
	type goldSparse struct {
		Name     string      `json:"name"`
		Labels   []int       `json:"labels"`
		Logits   *goldTensor `json:"logits"`
		Loss     *goldTensor `json:"loss"`
		Backprop *goldTensor `json:"backprop"`
	}
	for _, c := range loadGolden[goldSparse](t, "sparse_softmax_xent.json") {
		t.Run(c.Name, func(t *testing.T) {
			var backprop *tensor.Tensor
			loss, err := call(t, "loss", func() (*tensor.Tensor, error) {
				l, b, err := SparseSoftmaxCrossEntropyWithLogits(c.Labels, c.Logits.tensor(t))
				backprop = b
				return l, err
			})
			expectClose(t, "loss", loss, err, c.Loss)
			expectClose(t, "backprop", backprop, err, c.Backprop)
		})
	}
}

func TestGoldenSigmoidCrossEntropy(t *testing.T) {
	type goldSigXent struct {
		Name       string      `json:"name"`
		Labels     *goldTensor `json:"labels"`
		Logits     *goldTensor `json:"logits"`
		Loss       *goldTensor `json:"loss"`
		OutGrad    *goldTensor `json:"out_grad"`
		GradLogits *goldTensor `json:"grad_logits"`
	}
	for _, c := range loadGolden[goldSigXent](t, "sigmoid_xent.json") {
		t.Run(c.Name, func(t *testing.T) {
			z, x, g := c.Labels.tensor(t), c.Logits.tensor(t), c.OutGrad.tensor(t)
			loss, err := call(t, "loss", func() (*tensor.Tensor, error) { return SigmoidCrossEntropyWithLogits(z, x) })
			expectClose(t, "loss", loss, err, c.Loss)
			gx, err := call(t, "grad", func() (*tensor.Tensor, error) { return SigmoidCrossEntropyWithLogitsGrad(z, x, g) })
			expectClose(t, "grad", gx, err, c.GradLogits)
		})
	}
}
