package keras

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/tensor"
)

// tfKerasSequential is a Sequential as tf.keras 2.x's model.to_json()
// writes it: an InputLayer first, BatchNormalization's axis as a list.
const tfKerasSequential = `{"class_name": "Sequential", "config": {"name": "sequential", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "dtype": "float32", "sparse": false, "ragged": false, "name": "dense_input"}},
 {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 2, "activation": "relu", "use_bias": true,
  "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
  "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
 {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "trainable": true, "dtype": "float32", "axis": [1],
  "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true,
  "beta_initializer": {"class_name": "Zeros", "config": {}}, "gamma_initializer": {"class_name": "Ones", "config": {}},
  "moving_mean_initializer": {"class_name": "Zeros", "config": {}}, "moving_variance_initializer": {"class_name": "Ones", "config": {}},
  "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null}}]},
 "keras_version": "2.12.0", "backend": "tensorflow"}`

// tfKerasFunctional is a Functional model of tf.keras 2.x: x → relu,
// then concat(relu(x), x − relu(x)).
const tfKerasFunctional = `{"class_name": "Functional", "config": {"name": "model", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "dtype": "float32", "sparse": false, "ragged": false, "name": "x"}, "name": "x", "inbound_nodes": []},
 {"class_name": "Activation", "config": {"name": "r", "trainable": true, "dtype": "float32", "activation": "relu"}, "name": "r", "inbound_nodes": [[["x", 0, 0, {}]]]},
 {"class_name": "Subtract", "config": {"name": "neg", "trainable": true, "dtype": "float32"}, "name": "neg", "inbound_nodes": [[["x", 0, 0, {}], ["r", 0, 0, {}]]]},
 {"class_name": "Concatenate", "config": {"name": "cat", "trainable": true, "dtype": "float32", "axis": -1}, "name": "cat", "inbound_nodes": [[["r", 0, 0, {}], ["neg", 0, 0, {}]]]}],
 "input_layers": [["x", 0, 0]], "output_layers": [["cat", 0, 0]]}, "keras_version": "2.12.0", "backend": "tensorflow"}`

func vec(t *testing.T, shape []int, v ...float32) *tensor.Tensor {
	t.Helper()
	x, err := tensor.New(shape, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestByHand runs two tf.keras 2.x models on inputs worked by hand.
func TestByHand(t *testing.T) {
	seq, err := ParseJSON([]byte(tfKerasSequential))
	if err != nil {
		t.Fatal(err)
	}
	// TF variable names (":0") are accepted.
	err = seq.SetWeights(map[string]*tensor.Tensor{
		"dense/kernel:0":                        vec(t, []int{2, 2}, 1, 2, 3, 4),
		"dense/bias:0":                          vec(t, []int{2}, 0.5, -10),
		"batch_normalization/gamma:0":           vec(t, []int{2}, 2, 1),
		"batch_normalization/beta:0":            vec(t, []int{2}, 0, 1),
		"batch_normalization/moving_mean:0":     vec(t, []int{2}, 1, 0),
		"batch_normalization/moving_variance:0": vec(t, []int{2}, 3.999, 0.999),
	})
	if err != nil {
		t.Fatal(err)
	}
	fun, err := ParseJSON([]byte(tfKerasFunctional))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    *Model
		x    *tensor.Tensor
		want []float32
	}{
		// dense: [1·1 + 1·3 + 0.5, 1·2 + 1·4 − 10] = [4.5, −4], relu [4.5, 0];
		// bn: (4.5 − 1)·2/√(3.999 + 0.001) + 0 = 3.5, (0 − 0)·1/√1 + 1 = 1.
		{"sequential dense relu batchnorm", seq, vec(t, []int{1, 2}, 1, 1), []float32{3.5, 1}},
		// relu(x) = [0, 2], x − relu(x) = [−1, 0].
		{"functional subtract concatenate", fun, vec(t, []int{1, 2}, -1, 2), []float32{0, 2, -1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := tc.m.Predict(tc.x)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.want {
				if math.Abs(float64(y.Data()[i]-w)) > 1e-6 {
					t.Fatalf("got %v, want %v", y.Data(), tc.want)
				}
			}
		})
	}
	if seq.Class() != "Sequential" || fun.Class() != "Functional" {
		t.Errorf("classes %s, %s", seq.Class(), fun.Class())
	}
}

// siamese is a tf.keras 2 Functional model with a shared layer: Dense d
// applied to inputs a (node 0) and b (node 1), the two summed.
const siamese = `{"class_name": "Functional", "config": {"name": "siamese", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "dtype": "float32", "name": "a"}, "name": "a", "inbound_nodes": []},
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "dtype": "float32", "name": "b"}, "name": "b", "inbound_nodes": []},
 {"class_name": "Dense", "config": {"name": "d", "units": 1, "use_bias": false}, "name": "d", "inbound_nodes": [[["a", 0, 0, {}]], [["b", 0, 0, {}]]]},
 {"class_name": "Add", "config": {"name": "sum"}, "name": "sum", "inbound_nodes": [[["d", 0, 0, {}], ["d", 1, 0, {}]]]}],
 "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["sum", 0, 0]]}}`

// TestSharedLayer runs the siamese model by hand: kernel [[1], [2]],
// a = [1, 1] → 3, b = [2, 0] → 2, sum 5; the layer's two weights are
// counted once, and the JSON survives a round trip.
func TestSharedLayer(t *testing.T) {
	m, err := ParseJSON([]byte(siamese))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetWeights(map[string]*tensor.Tensor{"d/kernel": vec(t, []int{2, 1}, 1, 2)}); err != nil {
		t.Fatal(err)
	}
	run := func(m *Model) float32 {
		y := m.Net().CallN([]*autograd.Var{autograd.Constant(vec(t, []int{1, 2}, 1, 1)), autograd.Constant(vec(t, []int{1, 2}, 2, 0))}, layers.Context{})[0]
		if y.Err() != nil {
			t.Fatal(y.Err())
		}
		return y.Value().Data()[0]
	}
	if got := run(m); got != 5 {
		t.Errorf("sum = %g, want 5", got)
	}
	rows := m.Summary().Rows
	if r := rows[2]; r.Name != "d" || r.Params != 2 || strings.Join(r.ConnectedTo, " ") != "a b" {
		t.Errorf("summary row %+v, want d with 2 params connected to a b", r)
	}
	if r := rows[3]; strings.Join(r.ConnectedTo, " ") != "d d[1]" {
		t.Errorf("summary row %+v, want sum connected to d d[1]", r)
	}
	js, err := m.ToJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.SetWeights(m.Weights()); err != nil {
		t.Fatal(err)
	}
	if got := run(back); got != 5 {
		t.Errorf("after ToJSON: sum = %g, want 5", got)
	}
	if _, err := m.Predict(vec(t, []int{1, 2}, 1, 1)); err == nil || !strings.Contains(err.Error(), "takes 2 inputs") {
		t.Errorf("Predict on a two-input model: %v", err)
	}
}

// sequential wraps layer entries in a Sequential config.
func sequential(layers ...string) string {
	return `{"class_name": "Sequential", "config": {"name": "s", "layers": [` + strings.Join(layers, ",") + `]}}`
}

// functional wraps layer entries in a Functional config with input x and
// output out.
func functional(layers ...string) string {
	return `{"class_name": "Functional", "config": {"name": "f", "layers": [
	{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "x"}, "name": "x", "inbound_nodes": []},` +
		strings.Join(layers, ",") + `], "input_layers": [["x", 0, 0]], "output_layers": [["out", 0, 0]]}}`
}

const input2 = `{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "in"}}`

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"not json", `{`, "model JSON"},
		{"unknown top key", `{"class_name": "Sequential", "config": {"name": "s", "layers": []}, "extra": 1}`, `unknown field "extra"`},
		{"keras 3 layer form", sequential(`{"module": "keras.layers", "class_name": "Dense", "config": {}}`), `unknown field "module"`},
		{"model class", `{"class_name": "Graph", "config": {"name": "s", "layers": [` + input2 + `]}}`, `model class_name "Graph"`},
		{"no layers", sequential(), "lists no layers"},
		{"only input", sequential(input2), "no layers besides its input"},
		{"unknown class", sequential(input2, `{"class_name": "Lambda", "config": {"name": "l"}}`), `layer l: unsupported layer class "Lambda"`},
		{"unknown key", sequential(input2, `{"class_name": "Flatten", "config": {"name": "f", "color": "red"}}`), `layer f (Flatten): unsupported config key(s) ["color"]`},
		{"constraint", sequential(input2, `{"class_name": "Dense", "config": {"name": "d", "units": 2, "kernel_constraint": {"class_name": "MaxNorm"}}}`), `layer d (Dense): config key "kernel_constraint"`},
		{"wrong type", sequential(input2, `{"class_name": "Conv2D", "config": {"name": "c", "filters": "8", "kernel_size": 3}}`), `layer c (Conv2D): config key "filters": got "8"`},
		{"channels first", sequential(input2, `{"class_name": "Conv2D", "config": {"name": "c", "filters": 8, "kernel_size": 3, "data_format": "channels_first"}}`), `config key "data_format": got "channels_first"`},
		{"causal padding", sequential(input2, `{"class_name": "Conv2D", "config": {"name": "c", "filters": 8, "kernel_size": 3, "padding": "causal"}}`), `config key "padding": got "causal"`},
		{"groups", sequential(input2, `{"class_name": "Conv2D", "config": {"name": "c", "filters": 8, "kernel_size": 3, "groups": 2}}`), `config key "groups": got 2`},
		{"frozen", sequential(input2, `{"class_name": "Flatten", "config": {"name": "f", "trainable": false}}`), `config key "trainable"`},
		{"relu cap", sequential(input2, `{"class_name": "ReLU", "config": {"name": "r", "max_value": 4}}`), `config key "max_value": got 4`},
		{"elu alpha", sequential(input2, `{"class_name": "ELU", "config": {"name": "e", "alpha": 0.5}}`), `config key "alpha": got 0.5`},
		{"softmax axis", sequential(input2, `{"class_name": "Softmax", "config": {"name": "s", "axis": 1}}`), `config key "axis": got [1]`},
		{"float64", sequential(input2, `{"class_name": "Flatten", "config": {"name": "f", "dtype": "float64"}}`), `config key "dtype": got "float64"`},
		{"activation", sequential(input2, `{"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "magic"}}`), `config key "activation"`},
		{"no input shape", sequential(`{"class_name": "Flatten", "config": {"name": "f"}}`), `config key "batch_input_shape": missing`},
		{"unknown dimension", sequential(`{"class_name": "Flatten", "config": {"name": "f", "batch_input_shape": [null, null, 3]}}`), "dimension 1 must be a fixed positive size"},
		{"input not first", sequential(`{"class_name": "Flatten", "config": {"name": "f", "batch_input_shape": [null, 3]}}`, input2), "InputLayer must come first"},
		{"merge in sequential", sequential(input2, `{"class_name": "Add", "config": {"name": "a"}}`), "takes several inputs"},
		{"duplicate name", sequential(input2, `{"class_name": "Flatten", "config": {"name": "f"}}`, `{"class_name": "Flatten", "config": {"name": "f"}}`), `two layers are named "f"`},
		{"slash in name", sequential(input2, `{"class_name": "Flatten", "config": {"name": "a/b"}}`), "cannot be part of one"},
		{"names disagree", functional(`{"class_name": "Flatten", "config": {"name": "g"}, "name": "out", "inbound_nodes": [[["x", 0, 0, {}]]]}`), `named "out" outside its config and "g" inside`},
		{"bad shape", sequential(input2, `{"class_name": "Dense", "config": {"name": "d", "units": 2}}`, `{"class_name": "Conv2D", "config": {"name": "c", "filters": 1, "kernel_size": 9}}`), "layers: "},
		{"batchnorm axis", sequential(input2, `{"class_name": "BatchNormalization", "config": {"name": "bn", "axis": 1}}`), `config key "axis": got 1 for inputs of shape [1 4 4 2]`},
		{"dangling call", functional(`{"class_name": "Flatten", "config": {"name": "out"}, "name": "out", "inbound_nodes": [[["x", 0, 0, {}]], [["x", 0, 0, {}]]]}`), "out[1] does not lead to any model output"},
		{"node index", functional(`{"class_name": "Flatten", "config": {"name": "out"}, "name": "out", "inbound_nodes": [[["x", 1, 0, {}]]]}`), "call 1 of layer x, which inbound_nodes does not list"},
		{"tensor index", functional(`{"class_name": "Flatten", "config": {"name": "out"}, "name": "out", "inbound_nodes": [[["x", 0, 1, {}]]]}`), "tensor index 1"},
		{"call kwargs", functional(`{"class_name": "Flatten", "config": {"name": "out"}, "name": "out", "inbound_nodes": [[["x", 0, 0, {"training": true}]]]}`), "call arguments"},
		{"missing inbound", functional(`{"class_name": "Flatten", "config": {"name": "out"}, "name": "out", "inbound_nodes": [[["y", 0, 0, {}]]]}`), `refers to layer "y"`},
		{"cycle", functional(`{"class_name": "Add", "config": {"name": "out"}, "name": "out", "inbound_nodes": [[["x", 0, 0, {}], ["out", 0, 0, {}]]]}`), "feeds itself"},
		{"one-input layer given two", functional(`{"class_name": "Flatten", "config": {"name": "out"}, "name": "out", "inbound_nodes": [[["x", 0, 0, {}], ["x", 0, 0, {}]]]}`), "takes one input, inbound_nodes gives 2"},
		{"dangling layer", functional(`{"class_name": "Flatten", "config": {"name": "out"}, "name": "out", "inbound_nodes": [[["x", 0, 0, {}]]]}`,
			`{"class_name": "Flatten", "config": {"name": "extra"}, "name": "extra", "inbound_nodes": [[["x", 0, 0, {}]]]}`), "extra does not lead to any model output"},
		{"too many weights", sequential(input2, `{"class_name": "Dense", "config": {"name": "d", "units": 2000000000}}`), "past 268435456 weights"},
		{"huge activation", sequential(input2, `{"class_name": "UpSampling2D", "config": {"name": "u", "size": [60000, 60000]}}`), "values per example"},
		{"huge window", sequential(input2, `{"class_name": "MaxPooling2D", "config": {"name": "p", "pool_size": 100000}}`), `config key "pool_size": got [100000], want values from 1 to 65536`},
		{"too costly", sequential(`{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 512, 512, 64], "name": "in"}}`,
			`{"class_name": "Conv2D", "config": {"name": "c", "filters": 256, "kernel_size": 15, "padding": "same"}}`), "multiply-adds per example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// tinyTFJS is a TF.js model.json of one Dense layer (2 → 1) whose
// weights the manifest entries given describe.
func tinyTFJS(weights string) []byte {
	return []byte(`{"format": "layers-model", "modelTopology": {"class_name": "Sequential", "config": {"name": "s", "layers": [
	{"class_name": "Dense", "config": {"name": "d", "units": 1, "batch_input_shape": [null, 2]}}]}},
	"weightsManifest": [{"paths": ["w.bin"], "weights": [` + weights + `]}]}`)
}

const tinyWeights = `{"name": "d/kernel", "shape": [2, 1], "dtype": "float32"}, {"name": "d/bias", "shape": [1], "dtype": "float32"}`

func floats(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func TestDecodeTFJS(t *testing.T) {
	// y = 2·x0 + 3·x1 + 1 = 2 + 6 + 1 for x = [1, 2].
	m, err := DecodeTFJS(tinyTFJS(tinyWeights), MemShards(map[string][]byte{"w.bin": floats(2, 3, 1)}))
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.Predict(vec(t, []int{1, 2}, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if y.Data()[0] != 9 {
		t.Errorf("y = %v, want 9", y.Data())
	}
	// Two manifest groups, each with its shards, read in manifest order.
	twoGroups := []byte(strings.Replace(string(tinyTFJS(`{"name": "d/kernel", "shape": [2, 1], "dtype": "float32"}`)), `]}]}`,
		`]}, {"paths": ["b1.bin", "b2.bin"], "weights": [{"name": "d/bias", "shape": [1], "dtype": "float32"}]}]}`, 1))
	m2, err := DecodeTFJS(twoGroups, MemShards(map[string][]byte{"w.bin": floats(2, 3), "b1.bin": floats(1)[:1], "b2.bin": floats(1)[1:]}))
	if err != nil {
		t.Fatal(err)
	}
	if y2, err := m2.Predict(vec(t, []int{1, 2}, 1, 2)); err != nil || y2.Data()[0] != 9 {
		t.Errorf("two groups: y = %v, %v; want 9", y2, err)
	}
	if _, err := m.Predict(vec(t, []int{2}, 1, 2)); err == nil || !strings.Contains(err.Error(), "takes inputs [N 2], got shape [2]") {
		t.Errorf("rank-1 input: %v", err)
	}
}

func TestDecodeTFJSErrors(t *testing.T) {
	good := MemShards(map[string][]byte{"w.bin": floats(2, 3, 1)})
	for _, tc := range []struct {
		name   string
		json   []byte
		shards ShardReader
		want   string
	}{
		{"graph model", []byte(`{"format": "graph-model", "modelTopology": {}, "weightsManifest": []}`), good, "TF.js graph model"},
		{"no topology", []byte(`{"format": "layers-model", "weightsManifest": []}`), good, "no modelTopology"},
		{"unknown key", []byte(`{"modelTopology": {}, "weights": []}`), good, `unknown field "weights"`},
		{"no manifest", []byte(`{"modelTopology": ` + sequential(input2, `{"class_name": "Flatten", "config": {"name": "f"}}`) + `}`), good, "lists no weights"},
		{"int32", tinyTFJS(`{"name": "d/kernel", "shape": [2, 1], "dtype": "int32"}`), good, `dtype "int32"`},
		{"quantized", tinyTFJS(`{"name": "d/kernel", "shape": [2, 1], "dtype": "float32", "quantization": {"dtype": "uint8"}}`), good, "is quantized"},
		{"path escapes", []byte(strings.Replace(string(tinyTFJS(tinyWeights)), "w.bin", "../w.bin", 1)), good, `path "../w.bin"`},
		{"missing shard", tinyTFJS(tinyWeights), MemShards(nil), "w.bin"},
		{"short shard", tinyTFJS(tinyWeights), MemShards(map[string][]byte{"w.bin": floats(2, 3)}), "hold 8 bytes, the weights listed need 12"},
		{"long shard", tinyTFJS(tinyWeights), MemShards(map[string][]byte{"w.bin": floats(2, 3, 1, 4)}), "more than the 12"},
		{"extra weight", tinyTFJS(tinyWeights + `, {"name": "e/kernel", "shape": [1], "dtype": "float32"}`), MemShards(map[string][]byte{"w.bin": floats(2, 3, 1, 4)}), `no weights named ["e/kernel"]`},
		{"missing weight", tinyTFJS(`{"name": "d/kernel", "shape": [2, 1], "dtype": "float32"}`), MemShards(map[string][]byte{"w.bin": floats(2, 3)}), "d/bias is missing"},
		{"wrong shape", tinyTFJS(`{"name": "d/kernel", "shape": [1, 2], "dtype": "float32"}, {"name": "d/bias", "shape": [1], "dtype": "float32"}`), good, "d/kernel has shape [1 2], the model expects [2 1]"},
		{"duplicate weight", tinyTFJS(tinyWeights + `, {"name": "d/bias", "shape": [1], "dtype": "float32"}`), MemShards(map[string][]byte{"w.bin": floats(2, 3, 1, 4)}), "listed twice"},
		{"huge shape", tinyTFJS(`{"name": "d/kernel", "shape": [65536, 65536], "dtype": "float32"}`), good, "above 268435456 elements"},
		{"negative shape", tinyTFJS(`{"name": "d/kernel", "shape": [-1, 2], "dtype": "float32"}`), good, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeTFJS(tc.json, tc.shards)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestSupportedClasses pins the list the README documents.
func TestSupportedClasses(t *testing.T) {
	got := strings.Join(SupportedClasses(), " ")
	want := "Activation Add Average AveragePooling1D AveragePooling2D AveragePooling3D BatchNormalization Concatenate Conv1D Conv2D Conv2DTranspose Conv3D Dense DepthwiseConv2D Dropout ELU Flatten GlobalAveragePooling2D GlobalMaxPooling2D InputLayer LeakyReLU MaxPooling1D MaxPooling2D MaxPooling3D Maximum Multiply ReLU Reshape SeparableConv2D Softmax SpatialDropout2D Subtract UpSampling2D ZeroPadding2D"
	if got != want {
		t.Errorf("SupportedClasses() = %s", got)
	}
}
