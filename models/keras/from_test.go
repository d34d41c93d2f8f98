package keras

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
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

func TestFromSequentialErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *layers.Sequential
		want string
	}{
		{"no writer", layers.NewSequential(layers.NewReshape("r", 4)), "layer r (*layers.Reshape)"},
		{"activation", layers.NewSequential(layers.NewDense("d", layers.DenseConfig{Units: 2, Activation: func(x *autograd.Var) *autograd.Var { return x }})), "layer d (Dense): activation"},
		{"regularizer", layers.NewSequential(layers.NewDense("d", layers.DenseConfig{Units: 2, KernelRegularizer: layers.L2(0.1)})), "regularizers are not written"},
		{"bad input", layers.NewSequential(layers.NewConv2D("c", layers.ConvConfig{Filters: 1, KernelSize: []int{3}})), "layers: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromSequential(tc.s, []int{2, 2})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
