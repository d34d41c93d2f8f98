package models

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/optim"
	"github.com/convnet-go/convnet/tensor"
)

// The ResNet against TensorFlow.js 4.22 Layers: the same network built
// by testdata/gen/layers.js (Stages [4, 6], one block each, 6×6×3
// inputs), the same weights, golden values in
// layers/testdata/models_tfjs.json. Tolerance as in layers' golden test:
// |got − want| ≤ 1e-4 + 1e-4·|want|.

type goldT struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

type goldW struct {
	Layer string `json:"layer"`
	Name  string `json:"name"`
	goldT
}

type resnetGold struct {
	Name       string  `json:"name"`
	Inputs     []goldT `json:"inputs"`
	Weights    []goldW `json:"weights"`
	Output     goldT   `json:"output"`
	Labels     goldT   `json:"labels"`
	TrainLoss  float32 `json:"train_loss"`
	TrainGrads []goldW `json:"train_grads"`
	Adam       struct {
		LR           float64 `json:"learning_rate"`
		Beta1        float64 `json:"beta1"`
		Beta2        float64 `json:"beta2"`
		Epsilon      float64 `json:"epsilon"`
		WeightsAfter []goldW `json:"weights_after"`
	} `json:"adam"`
}

func loadResNetGold(t *testing.T) resnetGold {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "layers", "testdata", "models_tfjs.json"))
	if err != nil {
		t.Fatalf("%v (regenerate: cd testdata/gen && npm ci && node layers.js)", err)
	}
	var f struct{ Cases []resnetGold }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		if c.Name == "resnet" {
			return c
		}
	}
	t.Fatal("models_tfjs.json has no resnet case")
	return resnetGold{}
}

func (g goldT) tensor() *tensor.Tensor {
	return tensor.Must(tensor.New(g.Shape, append([]float32(nil), g.Data...)))
}

// weightsByName maps golden weights to the model's variable names.
func weightsByName(ws []goldW) map[string]*tensor.Tensor {
	m := map[string]*tensor.Tensor{}
	for _, w := range ws {
		m[w.Layer+"/"+w.Name] = w.tensor()
	}
	return m
}

// maxDiff returns the largest |got − want| and whether every element is
// within tol + tol·|want|.
func maxDiff(got *tensor.Tensor, want *tensor.Tensor, tol float64) (float64, bool) {
	if got == nil || !tensor.SameShape(got.Shape(), want.Shape()) {
		return math.Inf(1), false
	}
	worst, ok := 0.0, true
	for i, g := range got.Data() {
		w := float64(want.Data()[i])
		d := math.Abs(float64(g) - w)
		worst = max(worst, d)
		if !(d <= tol+tol*math.Abs(w)) {
			ok = false
		}
	}
	return worst, ok
}

func newGoldResNet(t *testing.T, g resnetGold) *layers.Model {
	t.Helper()
	m, err := NewResNet(ResNetConfig{InputShape: []int{6, 6, 3}, Classes: 3, Stages: []int{4, 6}})
	if err != nil {
		t.Fatal(err)
	}
	// The golden lists TF.js's model.weights: the same names in the same
	// (Keras) order.
	if len(m.AllWeights()) != len(g.Weights) {
		t.Fatalf("model has %d weights, the golden %d", len(m.AllWeights()), len(g.Weights))
	}
	for i, v := range m.AllWeights() {
		if want := g.Weights[i].Layer + "/" + g.Weights[i].Name; v.Name() != want {
			t.Errorf("weight %d is %s, TF.js has %s there", i, v.Name(), want)
		}
	}
	if err := m.SetWeights(weightsByName(g.Weights)); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestResNetMatchesTFJS(t *testing.T) {
	g := loadResNetGold(t)
	x := autograd.Constant(g.Inputs[0].tensor())

	t.Run("inference", func(t *testing.T) {
		m := newGoldResNet(t, g)
		y := m.Call(x, layers.Context{})
		if y.Err() != nil {
			t.Fatal(y.Err())
		}
		d, ok := maxDiff(y.Value(), g.Output.tensor(), 1e-4)
		if !ok {
			t.Errorf("logits %v, want %v", y.Value().Data(), g.Output.Data)
		}
		t.Logf("forward: max |Go − TF.js| = %.2g", d)
	})

	t.Run("Adam step in training mode", func(t *testing.T) {
		m := newGoldResNet(t, g)
		logits := m.Call(x, layers.Context{Training: true})
		loss := autograd.ReduceMean(autograd.SoftmaxCrossEntropyWithLogits(g.Labels.tensor(), logits))
		if loss.Err() != nil {
			t.Fatal(loss.Err())
		}
		if d := math.Abs(float64(loss.Value().Data()[0] - g.TrainLoss)); d > 1e-5 {
			t.Errorf("loss %v, want %v", loss.Value().Data()[0], g.TrainLoss)
		}
		vars := m.Variables()
		grads, err := autograd.Gradient(loss, vars...)
		if err != nil {
			t.Fatal(err)
		}
		wantGrads := weightsByName(g.TrainGrads)
		worstGrad := 0.0
		for i, v := range vars {
			d, ok := maxDiff(grads[i], wantGrads[v.Name()], 1e-4)
			if !ok {
				t.Errorf("gradient of %s: %v, want %v", v.Name(), grads[i].Data(), wantGrads[v.Name()].Data())
			}
			worstGrad = max(worstGrad, d)
		}
		// TF.js's Adam adds ε to the bias-corrected √v̂ (Keras's form),
		// optim.Adam to the raw √v (TF1's). At step 1 √v = √(1 − β2)·|g|
		// and the two updates are equal exactly when ε_TF1 = ε_TF.js·√(1 − β2);
		// with ε_TF1 = ε_TF.js they would differ by ~1e-4 on the weights
		// whose gradient is ~1e-6.
		eps := g.Adam.Epsilon * math.Sqrt(1-g.Adam.Beta2)
		opt := optim.NewAdam(optim.AdamConfig{LR: g.Adam.LR, Beta1: g.Adam.Beta1, Beta2: g.Adam.Beta2, Epsilon: eps})
		if err := opt.Step(vars, grads); err != nil {
			t.Fatal(err)
		}
		after := weightsByName(g.Adam.WeightsAfter)
		worstW, worstStat := 0.0, 0.0
		for _, v := range m.AllWeights() {
			// Adam moves each weight by about lr = 1e-3 at step 1: 1e-6 is
			// a thousandth of that.
			d, ok := maxDiff(v.Value(), after[v.Name()], 1e-6)
			if !ok {
				t.Errorf("%s after the step: %v, want %v", v.Name(), v.Value().Data(), after[v.Name()].Data())
			}
			if strings.Contains(v.Name(), "moving_") {
				worstStat = max(worstStat, d)
			} else {
				worstW = max(worstW, d)
			}
		}
		t.Logf("loss %v; max |Go − TF.js|: gradients %.2g, weights after Adam %.2g, moving statistics %.2g",
			loss.Value().Data()[0], worstGrad, worstW, worstStat)
	})
}

func TestResNetShapesAndErrors(t *testing.T) {
	m, err := NewResNet(ResNetConfig{InputShape: []int{32, 32, 3}, Classes: 10, Blocks: 2})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.OutputShape([]int{5, 32, 32, 3})
	if err != nil || !tensor.SameShape(out, []int{5, 10}) {
		t.Errorf("output shape %v, %v; want [5 10]", out, err)
	}
	// Three stages of two blocks: 1 stem conv, 12 block convs, 2
	// projections, a dense kernel and bias; BN γ, β for 1 + 12 + 2 norms.
	if n := len(m.Variables()); n != 1+12+2+2+2*15 {
		t.Errorf("%d trainable variables", n)
	}
	if n := len(m.NonTrainable()); n != 2*15 {
		t.Errorf("%d non-trainable weights, want 30 moving statistics", n)
	}
	// Per-stage blocks: Stages [16, 32] with StageBlocks [2, 1] is the
	// stem, two blocks of 16 and one projected block of 32: 1 + 6 convs,
	// 1 + 6 norms, a dense kernel and bias.
	m, err = NewResNet(ResNetConfig{InputShape: []int{28, 28, 1}, Classes: 10, Stages: []int{16, 32}, StageBlocks: []int{2, 1}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range m.Variables() {
		if strings.HasSuffix(v.Name(), "/kernel") {
			names = append(names, strings.TrimSuffix(v.Name(), "/kernel"))
		}
	}
	if got, want := strings.Join(names, " "), "stem s1b1_conv1 s1b1_conv2 s1b2_conv1 s1b2_conv2 s2b1_conv1 s2b1_conv2 s2b1_proj logits"; got != want {
		t.Errorf("kernels %s, want %s", got, want)
	}
	for _, tc := range []struct {
		name string
		cfg  ResNetConfig
		want string
	}{
		{"rank", ResNetConfig{InputShape: []int{8, 8}, Classes: 2}, "[H, W, C]"},
		{"classes", ResNetConfig{InputShape: []int{8, 8, 1}}, "Classes > 0"},
		{"blocks", ResNetConfig{InputShape: []int{8, 8, 1}, Classes: 2, Blocks: -1}, "positive"},
		{"filters", ResNetConfig{InputShape: []int{8, 8, 1}, Classes: 2, Stages: []int{4, 0}}, "s2b1_conv1"},
		{"stage blocks length", ResNetConfig{InputShape: []int{8, 8, 1}, Classes: 2, Stages: []int{4, 6}, StageBlocks: []int{2}}, "one entry per stage"},
		{"stage blocks zero", ResNetConfig{InputShape: []int{8, 8, 1}, Classes: 2, Stages: []int{4, 6}, StageBlocks: []int{2, 0}}, "positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewResNet(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
