package keras

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/tensor"
)

// TestFromSequential describes convnet Sequentials as Keras models and
// checks that the Keras model, and the model directory saved from it,
// compute the Sequential's outputs exactly.
func TestFromSequential(t *testing.T) {
	lecture, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	small := layers.NewSequentialNamed("small",
		layers.NewDepthwiseConv2D("dw", layers.ConvConfig{KernelSize: []int{3}, DepthMultiplier: 2, Padding: "SAME", Seed: 1}),
		layers.NewBatchNormalization("bn", layers.BatchNormConfig{Momentum: 0.9, Seed: 1}),
		layers.NewReLU("relu"),
		layers.NewSeparableConv2D("sep", layers.ConvConfig{Filters: 3, KernelSize: []int{3, 2}, DilationRate: []int{2}, Seed: 1}),
		layers.NewConv2DTranspose("up", layers.ConvConfig{Filters: 2, KernelSize: []int{2}, Strides: []int{2}, Activation: autograd.Tanh, Seed: 1}),
		layers.NewAveragePooling2D("avg", layers.PoolConfig{PoolSize: []int{2}, Padding: "SAME"}),
		layers.NewGlobalMaxPooling2D("gmp"),
		layers.NewDense("out", layers.DenseConfig{Units: 3, Activation: autograd.Softmax, Seed: 1}),
	)
	for _, tc := range []struct {
		name  string
		s     *layers.Sequential
		input []int
	}{
		{"lecture convnet", lecture, []int{28, 28, 1}},
		{"separable, batch norm, transpose", small, []int{9, 9, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := tensor.Zeros(append([]int{2}, tc.input...)...)
			x.RandUniform(tensor.NewRand(5), -1, 1)
			m, err := FromSequential(tc.s, tc.input)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.s.Call(autograd.Constant(x), layers.Context{})
			if want.Err() != nil {
				t.Fatal(want.Err())
			}
			got, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(got, want.Value()); d != 0 {
				t.Errorf("FromSequential differs by %g", d)
			}
			dir := filepath.Join(t.TempDir(), "m")
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			back, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got, err = back.Predict(x); err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(got, want.Value()); d != 0 {
				t.Errorf("saved and loaded: differs by %g", d)
			}
		})
	}
}

// customReg is a Regularizer Keras has no name for.
type customReg struct{}

func (customReg) Loss(w *autograd.Var) *autograd.Var { return autograd.ReduceSum(w) }

// TestRegularizers reads and writes L1L2 regularizers: the Keras model's
// penalties equal the Sequential's, and tf.keras 2's L2 form reads.
func TestRegularizers(t *testing.T) {
	s := layers.NewSequentialNamed("reg",
		layers.NewConv2D("c", layers.ConvConfig{Filters: 2, KernelSize: []int{2}, KernelRegularizer: layers.L1L2{L1: 0.25, L2: 0.5}, BiasRegularizer: layers.L1(2), Seed: 1}),
		layers.NewFlatten("f"),
		layers.NewDense("d", layers.DenseConfig{Units: 2, KernelRegularizer: layers.L2(0.125), BiasInitializer: initializers.Constant{Value: 1}, BiasRegularizer: layers.L2(3), Seed: 1}),
	)
	m, err := FromSequential(s, []int{3, 3, 1})
	if err != nil {
		t.Fatal(err)
	}
	js, err := m.ToJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.SetWeights(s.Weights()); err != nil {
		t.Fatal(err)
	}
	sum := func(vs []*autograd.Var) float64 {
		total := 0.0
		for _, v := range vs {
			total += float64(v.Value().Data()[0])
		}
		return total
	}
	want := sum(s.Losses())
	if got := sum(back.Net().Losses()); math.Abs(got-want) > 1e-5*math.Abs(want) || len(back.Net().Losses()) != 4 {
		t.Errorf("penalties %g (%d terms), want %g (4 terms)", got, len(back.Net().Losses()), want)
	}
	// tf.keras 2 writes l2(0.01) as {"class_name": "L2", "config": {"l2": 0.01}};
	// the penalty of kernel [[1], [2]] is 0.01·(1 + 4).
	l2, err := ParseJSON([]byte(sequential(`{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "name": "in"}}`,
		`{"class_name": "Dense", "config": {"name": "d", "units": 1, "use_bias": false, "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.SetWeights(map[string]*tensor.Tensor{"d/kernel": vec(t, []int{2, 1}, 1, 2)}); err != nil {
		t.Fatal(err)
	}
	if got := sum(l2.Net().Losses()); math.Abs(got-0.05) > 1e-7 {
		t.Errorf("L2 penalty %g, want 0.05", got)
	}
	for _, bad := range []struct{ reg, want string }{
		{`{"class_name": "OrthogonalRegularizer", "config": {"factor": 0.01}}`, `regularizer class "OrthogonalRegularizer"`},
		{`{"class_name": "L2", "config": {"l2": -1}}`, "l2 factor -1"},
		{`"l3"`, `unknown regularizer "l3"`},
		{`{"class_name": "L2", "config": {"l2": 0.01, "extra": 1}}`, `config key "kernel_regularizer": got`},
	} {
		_, err := ParseJSON([]byte(sequential(`{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "name": "in"}}`,
			`{"class_name": "Dense", "config": {"name": "d", "units": 1, "kernel_regularizer": `+bad.reg+`}}`)))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("regularizer %s: error %v, want %q", bad.reg, err, bad.want)
		}
	}
}

func TestFromSequentialErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *layers.Sequential
		want string
	}{
		{"no writer", layers.NewSequential(layers.NewFlatten("f"), layers.NewReshape("r", 4)), "layer r (*layers.Reshape)"},
		{"activation", layers.NewSequential(layers.NewDense("d", layers.DenseConfig{Units: 2, Activation: func(x *autograd.Var) *autograd.Var { return x }})), "layer d (Dense): activation"},
		{"regularizer", layers.NewSequential(layers.NewDense("d", layers.DenseConfig{Units: 2, KernelRegularizer: customReg{}})), "kernel_regularizer keras.customReg is not written"},
		{"depthwise regularizer", layers.NewSequential(layers.NewDepthwiseConv2D("d", layers.ConvConfig{KernelSize: []int{1}, KernelRegularizer: layers.L2(1)})), "kernel_regularizer layers.L1L2 is not written"},
		{"bad input", layers.NewSequential(layers.NewConv2D("c", layers.ConvConfig{Filters: 1, KernelSize: []int{3}})), "layers: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []int{2, 2}
			if tc.name == "depthwise regularizer" {
				in = []int{2, 2, 1}
			}
			_, err := FromSequential(tc.s, in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
