package keras

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

var update = flag.Bool("update", false, "rewrite testdata/written (the model directories convnet writes); then run node zoo.js in testdata/gen")

// writtenModels are model directories convnet writes, which zoo.js loads
// in TF.js (tf.models.modelFromJSON on config.json, weights by name from
// model.safetensors) to record TF.js's predictions as y_tfjs.npy.
func writtenModels(t *testing.T) map[string]*Model {
	t.Helper()
	s := layers.NewSequentialNamed("written_sequential",
		layers.NewConv2D("conv", layers.ConvConfig{Filters: 4, KernelSize: []int{3}, Padding: "SAME", Activation: autograd.Relu, Seed: 7}),
		layers.NewBatchNormalization("bn", layers.BatchNormConfig{Seed: 7}),
		layers.NewMaxPooling2D("pool", layers.PoolConfig{PoolSize: []int{2}}),
		layers.NewSeparableConv2D("sep", layers.ConvConfig{Filters: 5, KernelSize: []int{3}, DepthMultiplier: 2, Padding: "SAME", Activation: autograd.Tanh, Seed: 7}),
		layers.NewConv2DTranspose("up", layers.ConvConfig{Filters: 3, KernelSize: []int{3}, Strides: []int{2}, Padding: "SAME", Seed: 7}),
		layers.NewGlobalAveragePooling2D("gap"),
		layers.NewDropout("drop", 0.5, 7),
		layers.NewDense("out", layers.DenseConfig{Units: 3, Activation: autograd.Softmax, Seed: 7}),
	)
	if err := s.Build([]int{1, 8, 8, 2}); err != nil {
		t.Fatal(err)
	}
	// Moving statistics away from 0 and 1, so that inference mode shows.
	bn := s.Layer("bn").(*layers.BatchNormalization)
	for i, v := range bn.NonTrainable() {
		for j := range v.Value().Data() {
			v.Value().Data()[j] = 0.5 + 0.25*float32(i+j)
		}
	}
	seq, err := FromSequential(s, []int{8, 8, 2})
	if err != nil {
		t.Fatal(err)
	}
	fun, err := Load(filepath.Join("testdata", "zoo", "separable"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Model{"sequential": seq, "functional": fun}
}

// TestWrittenModelsMatchTFJS checks the writer against TF.js: the model
// directories under testdata/written must still be what the code writes,
// and TF.js, loading them, must predict what convnet predicts.
func TestWrittenModelsMatchTFJS(t *testing.T) {
	for name, m := range writtenModels(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "written", name)
			x := tensor.Zeros(append([]int{2}, m.InputShape()...)...)
			x.RandUniform(tensor.NewRand(11), -1, 1)
			if *update {
				if err := m.Save(dir); err != nil {
					t.Fatal(err)
				}
				if err := npy.WriteFile(filepath.Join(dir, "x.npy"), x); err != nil {
					t.Fatal(err)
				}
				return
			}
			js, err := m.ToJSON()
			if err != nil {
				t.Fatal(err)
			}
			committed, err := os.ReadFile(filepath.Join(dir, ConfigFile))
			if err != nil {
				t.Fatal(err)
			}
			if string(js) != string(committed) {
				t.Fatalf("%s is not what the code writes now; run go test -update, then node zoo.js in testdata/gen", filepath.Join(dir, ConfigFile))
			}
			back, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := back.Predict(readNpy(t, filepath.Join(dir, "x.npy")))
			if err != nil {
				t.Fatal(err)
			}
			d := maxDiff(got, readNpy(t, filepath.Join(dir, "y_tfjs.npy")))
			t.Logf("%s: max |convnet − TF.js| = %.3g", name, d)
			if d > 1e-4 {
				t.Errorf("TF.js predicts the written model differently: max difference %g", d)
			}
		})
	}
}
