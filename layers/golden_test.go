package layers

// Golden tests against TensorFlow.js 4.22 Layers (tf.layers.*, cpu
// backend, float32): each layer, and three whole models, built in both
// with the same weights. The generator is testdata/gen/layers.js:
//
//	cd testdata/gen && npm ci && node layers.js
//
// Gradients in the files are of sum(y·out_grad) with respect to the
// inputs and the trainable weights.
//
// Tolerance |got − want| ≤ goldAtol + goldRtol·|want|: the same argument
// as nn's golden tests (float32 sums of a few hundred O(1) terms in
// different orders differ by ~1e-6..1e-5), while a wrong tap, axis or
// statistic moves values by 1e-2 or more. Run with -v to see the largest
// difference of every case.

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/tensor"
)

const (
	goldAtol = 1e-4
	goldRtol = 1e-4
)

type goldTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

func (g goldTensor) tensor(t *testing.T) *tensor.Tensor {
	t.Helper()
	x, err := tensor.New(g.Shape, append([]float32(nil), g.Data...))
	if err != nil {
		t.Fatalf("golden tensor: %v", err)
	}
	return x
}

// goldWeight is a weight as the generator writes it: its layer, its name
// without the scope ("kernel", "moving_mean") and its value.
type goldWeight struct {
	Layer string `json:"layer"`
	Name  string `json:"name"`
	goldTensor
}

type goldLayerCase struct {
	Name        string         `json:"name"`
	Class       string         `json:"class"`
	Config      map[string]any `json:"config"`
	Inputs      []goldTensor   `json:"inputs"`
	Weights     []goldWeight   `json:"weights"`
	Output      goldTensor     `json:"output"`
	OutGrad     goldTensor     `json:"out_grad"`
	GradInputs  []goldTensor   `json:"grad_inputs"`
	GradWeights []goldWeight   `json:"grad_weights"`
	Training    *struct {
		Output       goldTensor   `json:"output"`
		GradInputs   []goldTensor `json:"grad_inputs"`
		GradWeights  []goldWeight `json:"grad_weights"`
		WeightsAfter []goldWeight `json:"weights_after"`
	} `json:"training"`
}

func loadGold[C any](t *testing.T, name string) []C {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (regenerate: cd testdata/gen && npm ci && node layers.js)", err)
	}
	var f struct {
		Cases []C `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("%s holds no cases", name)
	}
	return f.Cases
}

// closeTo compares got with want and returns the largest |got − want|;
// it fails the test beyond the tolerance.
func closeTo(t *testing.T, what string, got *tensor.Tensor, want goldTensor) float64 {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no value", what)
		return math.Inf(1)
	}
	if !tensor.SameShape(got.Shape(), want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape(), want.Shape)
		return math.Inf(1)
	}
	worst := 0.0
	for i, g := range got.Data() {
		w := float64(want.Data[i])
		d := math.Abs(float64(g) - w)
		worst = max(worst, d)
		if !(d <= goldAtol+goldRtol*math.Abs(w)) {
			t.Errorf("%s[%d] = %v, want %v", what, i, g, w)
			return worst
		}
	}
	return worst
}

// scopeless drops a variable's scope: "bn1/moving_mean" → "moving_mean".
func scopeless(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// setGoldWeights copies the golden weights into ws, matched by layer and
// name; every weight must be covered.
func setGoldWeights(t *testing.T, ws []*autograd.Var, gold []goldWeight, layerOf func(*autograd.Var) string) {
	t.Helper()
	if len(ws) != len(gold) {
		t.Fatalf("%d weights, the golden has %d", len(ws), len(gold))
	}
	for _, v := range ws {
		found := false
		for _, g := range gold {
			if g.Layer == layerOf(v) && g.Name == scopeless(v.Name()) {
				if !tensor.SameShape(g.Shape, v.Value().Shape()) {
					t.Fatalf("weight %s: shape %v, golden %v", v.Name(), v.Value().Shape(), g.Shape)
				}
				copy(v.Value().Data(), g.Data)
				found = true
			}
		}
		if !found {
			t.Fatalf("weight %s is not in the golden", v.Name())
		}
	}
}

func findWeight(t *testing.T, gold []goldWeight, layer, name string) goldTensor {
	t.Helper()
	for _, g := range gold {
		if g.Layer == layer && g.Name == name {
			return g.goldTensor
		}
	}
	t.Fatalf("golden lacks %s/%s", layer, name)
	return goldTensor{}
}

// Helpers reading tfjs layer configs.
func cfgInts(c map[string]any, key string) []int {
	switch v := c[key].(type) {
	case float64:
		return []int{int(v)}
	case []any:
		out := make([]int, len(v))
		for i, x := range v {
			out[i] = int(x.(float64))
		}
		return out
	}
	return nil
}

func cfgInt(c map[string]any, key string) int {
	if v := cfgInts(c, key); len(v) == 1 {
		return v[0]
	}
	return 0
}

func cfgFloat(c map[string]any, key string, def float32) float32 {
	if v, ok := c[key].(float64); ok {
		return float32(v)
	}
	return def
}

func cfgString(c map[string]any, key string) string {
	s, _ := c[key].(string)
	return s
}

// layerFromGold makes the Go layer of a golden case, named "l": a Layer
// or a MultiLayer.
func layerFromGold(t *testing.T, class string, c map[string]any) any {
	t.Helper()
	act, err := ActivationByName(cfgString(c, "activation"))
	if err != nil {
		t.Fatal(err)
	}
	noBias := false
	if b, ok := c["useBias"].(bool); ok {
		noBias = !b
	}
	conv := ConvConfig{
		Filters: cfgInt(c, "filters"), KernelSize: cfgInts(c, "kernelSize"), Strides: cfgInts(c, "strides"),
		Padding: cfgString(c, "padding"), DilationRate: cfgInts(c, "dilationRate"),
		DepthMultiplier: cfgInt(c, "depthMultiplier"), Activation: act, NoBias: noBias,
	}
	pool := PoolConfig{PoolSize: cfgInts(c, "poolSize"), Strides: cfgInts(c, "strides"), Padding: cfgString(c, "padding")}
	switch class {
	case "conv1d":
		return NewConv1D("l", conv)
	case "conv2d":
		return NewConv2D("l", conv)
	case "conv3d":
		return NewConv3D("l", conv)
	case "conv2dTranspose":
		return NewConv2DTranspose("l", conv)
	case "depthwiseConv2d":
		return NewDepthwiseConv2D("l", conv)
	case "separableConv2d":
		return NewSeparableConv2D("l", conv)
	case "maxPooling1d":
		return NewMaxPooling1D("l", pool)
	case "maxPooling2d":
		return NewMaxPooling2D("l", pool)
	case "maxPooling3d":
		return NewMaxPooling3D("l", pool)
	case "averagePooling1d":
		return NewAveragePooling1D("l", pool)
	case "averagePooling2d":
		return NewAveragePooling2D("l", pool)
	case "averagePooling3d":
		return NewAveragePooling3D("l", pool)
	case "globalAveragePooling2d":
		return NewGlobalAveragePooling2D("l")
	case "globalMaxPooling2d":
		return NewGlobalMaxPooling2D("l")
	case "batchNormalization":
		off := func(key string) bool { b, ok := c[key].(bool); return ok && !b }
		return NewBatchNormalization("l", BatchNormConfig{Momentum: cfgFloat(c, "momentum", 0), Epsilon: cfgFloat(c, "epsilon", 0),
			NoCenter: off("center"), NoScale: off("scale")})
	case "dense":
		return NewDense("l", DenseConfig{Units: cfgInt(c, "units"), Activation: act, NoBias: noBias})
	case "flatten":
		return NewFlatten("l")
	case "reshape":
		return NewReshape("l", cfgInts(c, "targetShape")...)
	case "activation":
		return NewActivation("l", cfgString(c, "activation"))
	case "reLU":
		return NewReLU("l")
	case "leakyReLU":
		return NewLeakyReLU("l", cfgFloat(c, "alpha", 0.3))
	case "add":
		return NewAdd("l")
	case "multiply":
		return NewMultiply("l")
	case "average":
		return NewAverage("l")
	case "subtract":
		return NewSubtract("l")
	case "maximum":
		return NewMaximum("l")
	case "concatenate":
		axis := -1
		if _, ok := c["axis"]; ok {
			axis = cfgInt(c, "axis")
		}
		return NewConcatenate("l", axis)
	case "zeroPadding2d":
		var p []int
		for _, pair := range c["padding"].([]any) {
			for _, v := range pair.([]any) {
				p = append(p, int(v.(float64)))
			}
		}
		return NewZeroPadding2D("l", p...)
	case "upSampling2d":
		return NewUpSampling2D("l", cfgInts(c, "size"), cfgString(c, "interpolation"))
	}
	t.Fatalf("no Go layer for tfjs class %q", class)
	return nil
}

// run builds (when needed) and applies a Layer or MultiLayer.
func run(l any, xs []*autograd.Var, ctx Context) *autograd.Var {
	switch l := l.(type) {
	case Layer:
		return callLayer(l, xs[0], ctx)
	case MultiLayer:
		return l.CallN(xs, ctx)
	}
	return autograd.Failed(fmt.Errorf("%T is no layer", l))
}

// gradsOf returns the gradients of sum(y·g) with respect to xs and ws.
func gradsOf(t *testing.T, y *autograd.Var, g *tensor.Tensor, xs, ws []*autograd.Var) []*tensor.Tensor {
	t.Helper()
	loss := autograd.ReduceSum(autograd.Mul(y, autograd.Constant(g)))
	grads, err := autograd.Gradient(loss, append(append([]*autograd.Var(nil), xs...), ws...)...)
	if err != nil {
		t.Fatal(err)
	}
	return grads
}

func TestLayersMatchTFJS(t *testing.T) {
	for _, c := range loadGold[goldLayerCase](t, "layers_tfjs.json") {
		t.Run(c.Name, func(t *testing.T) {
			l := layerFromGold(t, c.Class, c.Config)
			xs := make([]*autograd.Var, len(c.Inputs))
			for i, in := range c.Inputs {
				xs[i] = autograd.Variable(fmt.Sprintf("x%d", i), in.tensor(t))
			}
			// Build, then load the golden weights.
			if y := run(l, xs, Context{}); y.Err() != nil {
				t.Fatal(y.Err())
			}
			all := allWeightsOf([]any{l})
			train := variablesOf([]any{l})
			layerOf := func(*autograd.Var) string { return "l" }
			setGoldWeights(t, all, c.Weights, layerOf)
			worst := 0.0
			y := run(l, xs, Context{})
			if y.Err() != nil {
				t.Fatal(y.Err())
			}
			worst = max(worst, closeTo(t, "output", y.Value(), c.Output))
			if c.GradInputs != nil {
				grads := gradsOf(t, y, c.OutGrad.tensor(t), xs, train)
				for i := range xs {
					worst = max(worst, closeTo(t, fmt.Sprintf("grad input %d", i), grads[i], c.GradInputs[i]))
				}
				for i, w := range train {
					worst = max(worst, closeTo(t, "grad "+w.Name(), grads[len(xs)+i], findWeight(t, c.GradWeights, "l", scopeless(w.Name()))))
				}
			}
			if tr := c.Training; tr != nil {
				setGoldWeights(t, all, c.Weights, layerOf)
				y := run(l, xs, Context{Training: true})
				if y.Err() != nil {
					t.Fatal(y.Err())
				}
				worst = max(worst, closeTo(t, "training output", y.Value(), tr.Output))
				grads := gradsOf(t, y, c.OutGrad.tensor(t), xs, train)
				for i := range xs {
					worst = max(worst, closeTo(t, fmt.Sprintf("training grad input %d", i), grads[i], tr.GradInputs[i]))
				}
				for i, w := range train {
					worst = max(worst, closeTo(t, "training grad "+w.Name(), grads[len(xs)+i], findWeight(t, tr.GradWeights, "l", scopeless(w.Name()))))
				}
				for _, w := range all {
					worst = max(worst, closeTo(t, w.Name()+" after the update", w.Value(), findWeight(t, tr.WeightsAfter, "l", scopeless(w.Name()))))
				}
			}
			t.Logf("max |Go − TF.js| = %.2g", worst)
		})
	}
}
