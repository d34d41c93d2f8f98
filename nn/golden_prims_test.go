package nn

// Golden tests of the general-purpose ops against TensorFlow.js 4.22:
// testdata/golden/ops_*.json, written by testdata/gen/ops.js (see its
// header for where tfjs departs from TF and how the script follows TF).
// Each case runs the forward op and the op's gradient op(s) on out_grads.

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// goldPrim is one case of the ops_*.json files.
type goldPrim struct {
	Name     string        `json:"name"`
	Op       string        `json:"op"`
	Inputs   []*goldTensor `json:"inputs"`
	Params   primParams    `json:"params"`
	Outputs  []*goldTensor `json:"outputs"`
	OutGrads []*goldTensor `json:"out_grads"`
	Grads    []*goldTensor `json:"grads"`
}

type primParams struct {
	P        float32  `json:"p"`
	Axes     []int    `json:"axes"` // null = all, [] = none
	KeepDims bool     `json:"keep_dims"`
	Axis     int      `json:"axis"`
	Perm     []int    `json:"perm"`
	Sizes    []int    `json:"sizes"`
	Begin    []int    `json:"begin"`
	Size     []int    `json:"size"`
	Paddings [][2]int `json:"paddings"`
	Mode     string   `json:"mode"`
	Value    float32  `json:"value"`
	Shape    []int    `json:"shape"`
}

// runPrim computes a case's outputs and the gradients of its inputs with
// the nn ops.
func runPrim(c goldPrim, in, g []*tensor.Tensor) (outs, grads []*tensor.Tensor, err error) {
	p := c.Params
	one := func(y *tensor.Tensor, err error) ([]*tensor.Tensor, error) { return []*tensor.Tensor{y}, err }
	two := func(a, b *tensor.Tensor, err error) ([]*tensor.Tensor, error) { return []*tensor.Tensor{a, b}, err }
	binary := map[string][2]any{
		"add":     {Add, func() ([]*tensor.Tensor, error) { return two(AddGrad(g[0], in[0].Shape(), in[1].Shape())) }},
		"sub":     {Sub, func() ([]*tensor.Tensor, error) { return two(SubGrad(g[0], in[0].Shape(), in[1].Shape())) }},
		"mul":     {Mul, func() ([]*tensor.Tensor, error) { return two(MulGrad(g[0], in[0], in[1])) }},
		"div":     {Div, func() ([]*tensor.Tensor, error) { return two(DivGrad(g[0], in[0], in[1])) }},
		"maximum": {Maximum, func() ([]*tensor.Tensor, error) { return two(MaximumGrad(g[0], in[0], in[1])) }},
		"minimum": {Minimum, func() ([]*tensor.Tensor, error) { return two(MinimumGrad(g[0], in[0], in[1])) }},
	}
	if b, ok := binary[c.Op]; ok {
		y, err := b[0].(func(a, b *tensor.Tensor) (*tensor.Tensor, error))(in[0], in[1])
		if err != nil {
			return nil, nil, err
		}
		gs, err := b[1].(func() ([]*tensor.Tensor, error))()
		return []*tensor.Tensor{y}, gs, err
	}
	// Elementwise ops: forward, and the gradient from (g, x, y).
	type unary struct {
		fwd  func(x *tensor.Tensor) *tensor.Tensor
		grad func(g, x, y *tensor.Tensor) (*tensor.Tensor, error)
	}
	unaries := map[string]unary{
		"neg":          {Neg, func(g, _, _ *tensor.Tensor) (*tensor.Tensor, error) { return Neg(g), nil }},
		"abs":          {Abs, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return AbsGrad(g, x) }},
		"exp":          {Exp, func(g, _, y *tensor.Tensor) (*tensor.Tensor, error) { return ExpGrad(y, g) }},
		"log":          {Log, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return LogGrad(g, x) }},
		"sqrt":         {Sqrt, func(g, _, y *tensor.Tensor) (*tensor.Tensor, error) { return SqrtGrad(y, g) }},
		"rsqrt":        {Rsqrt, func(g, _, y *tensor.Tensor) (*tensor.Tensor, error) { return RsqrtGrad(y, g) }},
		"square":       {Square, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return SquareGrad(g, x) }},
		"pow":          {func(x *tensor.Tensor) *tensor.Tensor { return Pow(x, p.P) }, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return PowGrad(g, x, p.P) }},
		"relu6":        {Relu6, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return Relu6Grad(g, x) }},
		"elu":          {Elu, func(g, _, y *tensor.Tensor) (*tensor.Tensor, error) { return EluGrad(g, y) }},
		"selu":         {Selu, func(g, _, y *tensor.Tensor) (*tensor.Tensor, error) { return SeluGrad(g, y) }},
		"hard_sigmoid": {HardSigmoid, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return HardSigmoidGrad(g, x) }},
		"softplus":     {Softplus, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return SoftplusGrad(g, x) }},
		"softsign":     {Softsign, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return SoftsignGrad(g, x) }},
		"swish":        {Swish, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return SwishGrad(g, x) }},
		"gelu":         {func(x *tensor.Tensor) *tensor.Tensor { return Gelu(x, false) }, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return GeluGrad(g, x, false) }},
		"gelu_tanh":    {func(x *tensor.Tensor) *tensor.Tensor { return Gelu(x, true) }, func(g, x, _ *tensor.Tensor) (*tensor.Tensor, error) { return GeluGrad(g, x, true) }},
	}
	if u, ok := unaries[c.Op]; ok {
		y := u.fwd(in[0])
		dx, err := u.grad(g[0], in[0], y)
		return []*tensor.Tensor{y}, []*tensor.Tensor{dx}, err
	}
	var y *tensor.Tensor
	switch c.Op {
	case "sum", "mean", "max":
		f := map[string]func(*tensor.Tensor, []int, bool) (*tensor.Tensor, error){"sum": ReduceSum, "mean": ReduceMean, "max": ReduceMax}[c.Op]
		if y, err = f(in[0], p.Axes, p.KeepDims); err != nil {
			return nil, nil, err
		}
		switch c.Op {
		case "sum":
			grads, err = one(ReduceSumGrad(g[0], in[0].Shape(), p.Axes, p.KeepDims))
		case "mean":
			grads, err = one(ReduceMeanGrad(g[0], in[0].Shape(), p.Axes, p.KeepDims))
		default:
			grads, err = one(ReduceMaxGrad(g[0], in[0], y, p.Axes, p.KeepDims))
		}
		return []*tensor.Tensor{y}, grads, err
	case "softmax", "log_softmax":
		fwd, bwd := SoftmaxAxis, SoftmaxAxisGrad
		if c.Op == "log_softmax" {
			fwd, bwd = LogSoftmaxAxis, LogSoftmaxAxisGrad
		}
		if y, err = fwd(in[0], p.Axis); err != nil {
			return nil, nil, err
		}
		grads, err = one(bwd(y, g[0], p.Axis))
		return []*tensor.Tensor{y}, grads, err
	case "broadcast_to":
		if y, err = BroadcastTo(in[0], p.Shape); err != nil {
			return nil, nil, err
		}
		grads, err = one(SumToShape(g[0], in[0].Shape()))
		return []*tensor.Tensor{y}, grads, err
	case "transpose":
		if y, err = Transpose(in[0], p.Perm); err != nil {
			return nil, nil, err
		}
		perm := p.Perm
		if perm == nil {
			for i := in[0].Rank() - 1; i >= 0; i-- {
				perm = append(perm, i)
			}
		}
		inv, err := InvertPermutation(perm)
		if err != nil {
			return nil, nil, err
		}
		grads, err = one(Transpose(g[0], inv))
		return []*tensor.Tensor{y}, grads, err
	case "concat":
		if y, err = Concat(in, p.Axis); err != nil {
			return nil, nil, err
		}
		a := (p.Axis + y.Rank()) % y.Rank()
		sizes := make([]int, len(in))
		for i, x := range in {
			sizes[i] = x.Shape()[a]
		}
		grads, err = Split(g[0], sizes, p.Axis)
		return []*tensor.Tensor{y}, grads, err
	case "split":
		if outs, err = Split(in[0], p.Sizes, p.Axis); err != nil {
			return nil, nil, err
		}
		grads, err = one(Concat(g, p.Axis))
		return outs, grads, err
	case "slice":
		if y, err = Slice(in[0], p.Begin, p.Size); err != nil {
			return nil, nil, err
		}
		grads, err = one(SliceGrad(g[0], in[0].Shape(), p.Begin))
		return []*tensor.Tensor{y}, grads, err
	case "pad":
		if y, err = Pad(in[0], p.Paddings, p.Mode, p.Value); err != nil {
			return nil, nil, err
		}
		grads, err = one(PadGrad(g[0], in[0].Shape(), p.Paddings, p.Mode))
		return []*tensor.Tensor{y}, grads, err
	}
	return nil, nil, fmt.Errorf("golden case %q: unknown op %q", c.Name, c.Op)
}

// TestGoldenPrims runs every case of the ops_*.json files and logs the
// largest |got − want| of each file, forward and gradients.
func TestGoldenPrims(t *testing.T) {
	for _, file := range []string{"ops_binary.json", "ops_unary.json", "ops_reduce.json", "ops_shape.json", "ops_activation.json"} {
		t.Run(file, func(t *testing.T) {
			worst := map[string]float64{}
			ops := map[string]bool{}
			for _, c := range loadGolden[goldPrim](t, file) {
				ops[c.Op] = true
				t.Run(c.Name, func(t *testing.T) {
					in := make([]*tensor.Tensor, len(c.Inputs))
					for i, x := range c.Inputs {
						in[i] = x.tensor(t)
					}
					g := make([]*tensor.Tensor, len(c.OutGrads))
					for i, x := range c.OutGrads {
						g[i] = x.tensor(t)
					}
					var outs, grads []*tensor.Tensor
					_, err := call(t, c.Op, func() (*tensor.Tensor, error) {
						var err error
						outs, grads, err = runPrim(c, in, g)
						return nil, err
					})
					if err != nil {
						t.Fatal(err)
					}
					if len(outs) != len(c.Outputs) || len(grads) != len(c.Grads) {
						t.Fatalf("%d outputs and %d gradients, want %d and %d", len(outs), len(grads), len(c.Outputs), len(c.Grads))
					}
					for i, want := range c.Outputs {
						expectClose(t, fmt.Sprintf("output %d", i), outs[i], nil, want)
						worst[c.Op+" forward"] = max(worst[c.Op+" forward"], maxDiff(outs[i], want))
					}
					for i, want := range c.Grads {
						expectClose(t, fmt.Sprintf("grad %d", i), grads[i], nil, want)
						worst[c.Op+" grad"] = max(worst[c.Op+" grad"], maxDiff(grads[i], want))
					}
				})
			}
			for _, op := range primOps[file] {
				if !ops[op] {
					t.Errorf("%s has no %s case (regenerated with fewer cases?)", file, op)
				}
			}
			var b strings.Builder
			all := 0.0
			for _, op := range slices.Sorted(maps.Keys(ops)) {
				fmt.Fprintf(&b, " %s %.2g/%.2g", op, worst[op+" forward"], worst[op+" grad"])
				all = max(all, worst[op+" forward"], worst[op+" grad"])
			}
			t.Logf("max |got − want| (forward/grad):%s; file max %.2g", b.String(), all)
		})
	}
}

// primOps lists the ops each golden file must cover.
var primOps = map[string][]string{
	"ops_binary.json":     {"add", "sub", "mul", "div", "maximum", "minimum"},
	"ops_unary.json":      {"neg", "abs", "exp", "log", "sqrt", "rsqrt", "square", "pow"},
	"ops_reduce.json":     {"sum", "mean", "max"},
	"ops_shape.json":      {"broadcast_to", "transpose", "concat", "split", "slice", "pad"},
	"ops_activation.json": {"relu6", "elu", "selu", "hard_sigmoid", "softplus", "softsign", "swish", "gelu", "gelu_tanh", "softmax", "log_softmax"},
}

// TestGoldenPrimsCoverage guards the cases the golden files must keep:
// broadcasting with missing and size-1 dims and scalars on either side,
// ties, reductions over all/no/negative axes with and without keepDims,
// every pad mode, softmax off the last axis.
func TestGoldenPrimsCoverage(t *testing.T) {
	has := func(file string, what string, pred func(c goldPrim) bool) {
		for _, c := range loadGolden[goldPrim](t, file) {
			if pred(c) {
				return
			}
		}
		t.Errorf("%s has no case with %s", file, what)
	}
	rank := func(c goldPrim, i int) int { return len(c.Inputs[i].Shape) }
	has("ops_binary.json", "a scalar first", func(c goldPrim) bool { return rank(c, 0) == 0 })
	has("ops_binary.json", "a scalar second", func(c goldPrim) bool { return rank(c, 1) == 0 })
	has("ops_binary.json", "missing leading dims", func(c goldPrim) bool { return rank(c, 0) > rank(c, 1) && rank(c, 1) > 0 })
	has("ops_binary.json", "size-1 dims in both inputs", func(c goldPrim) bool {
		one := func(s []int) bool {
			for _, d := range s {
				if d == 1 {
					return true
				}
			}
			return false
		}
		return one(c.Inputs[0].Shape) && one(c.Inputs[1].Shape)
	})
	has("ops_binary.json", "a maximum tie", func(c goldPrim) bool { return strings.Contains(c.Name, "ties") })
	has("ops_reduce.json", "all axes (null)", func(c goldPrim) bool { return c.Params.Axes == nil })
	has("ops_reduce.json", "no axes ([])", func(c goldPrim) bool { return c.Params.Axes != nil && len(c.Params.Axes) == 0 })
	has("ops_reduce.json", "a negative axis", func(c goldPrim) bool { return len(c.Params.Axes) > 0 && c.Params.Axes[0] < 0 })
	has("ops_reduce.json", "keepDims", func(c goldPrim) bool { return c.Params.KeepDims })
	for _, mode := range []string{"CONSTANT", "REFLECT", "SYMMETRIC"} {
		has("ops_shape.json", "pad "+mode, func(c goldPrim) bool { return c.Op == "pad" && c.Params.Mode == mode })
	}
	has("ops_shape.json", "a split with −1", func(c goldPrim) bool { return c.Op == "split" && strings.Contains(fmt.Sprint(c.Params.Sizes), "-1") })
	has("ops_shape.json", "a slice with size −1", func(c goldPrim) bool { return c.Op == "slice" && strings.Contains(fmt.Sprint(c.Params.Size), "-1") })
	has("ops_activation.json", "softmax off the last axis", func(c goldPrim) bool {
		return c.Op == "softmax" && c.Params.Axis != -1 && c.Params.Axis != len(c.Inputs[0].Shape)-1
	})
}

// maxDiff is the largest |got − want| (0 on a shape mismatch, which
// expectClose reports).
func maxDiff(got *tensor.Tensor, want *goldTensor) float64 {
	if got == nil || got.Len() != len(want.Data) {
		return 0
	}
	m := 0.0
	for i, w := range want.Data {
		m = max(m, math.Abs(float64(got.Data()[i])-float64(w)))
	}
	return m
}
