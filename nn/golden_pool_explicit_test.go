package nn

import (
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// goldPoolExplicit is a case of pool_explicit.json (testdata/gen/pool_explicit.js).
type goldPoolExplicit struct {
	goldPool
	Op               string   `json:"op"`
	ExplicitPaddings [][2]int `json:"explicit_paddings"`
}

// TestGoldenPoolExplicit compares MaxPool, AvgPool and their gradients
// under explicit paddings with TensorFlow.js (max pads with −∞, avg leaves
// the padded cells out of the divisor), with the paddings given in the
// full-rank form and per spatial dimension.
func TestGoldenPoolExplicit(t *testing.T) {
	for _, c := range loadGolden[goldPoolExplicit](t, "pool_explicit.json") {
		for _, form := range []string{"full rank", "spatial"} {
			t.Run(c.Name+"/"+form, func(t *testing.T) {
				pads := c.ExplicitPaddings
				if form == "spatial" {
					pads = pads[1:3]
				}
				o := PoolOptions{KSize: c.KSize, Strides: c.Strides, Padding: c.Padding, ExplicitPaddings: pads}
				x, g := c.Input.tensor(t), c.OutGrad.tensor(t)
				var y, gx *tensor.Tensor
				var err, gerr error
				switch c.Op {
				case "max_pool":
					y, err = call(t, "forward", func() (*tensor.Tensor, error) { return MaxPool(x, o) })
					gx, gerr = call(t, "grad", func() (*tensor.Tensor, error) { return MaxPoolGrad(x, g, o) })
				case "avg_pool":
					y, err = call(t, "forward", func() (*tensor.Tensor, error) { return AvgPool(x, o) })
					gx, gerr = call(t, "grad", func() (*tensor.Tensor, error) { return AvgPoolGrad(x.Shape(), g, o) })
				default:
					t.Fatalf("unknown op %q", c.Op)
				}
				expectClose(t, "forward", y, err, c.Output)
				expectClose(t, "grad", gx, gerr, c.GradInput)
			})
		}
	}
}
