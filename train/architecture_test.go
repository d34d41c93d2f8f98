package train

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/tensor"
)

// smallKerasJSON is a functional Keras model for 28×28×1 images and 10
// classes: conv 3×3/4 (L2 on the kernel) → batch norm → flatten → dense.
const smallKerasJSON = `{"class_name": "Functional", "config": {"name": "small", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 28, 28, 1], "dtype": "float32", "name": "image"}, "name": "image", "inbound_nodes": []},
 {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3], "padding": "same", "activation": "relu",
   "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.001}}}, "name": "conv", "inbound_nodes": [[["image", 0, 0, {}]]]},
 {"class_name": "BatchNormalization", "config": {"name": "bn"}, "name": "bn", "inbound_nodes": [[["conv", 0, 0, {}]]]},
 {"class_name": "Flatten", "config": {"name": "flat"}, "name": "flat", "inbound_nodes": [[["bn", 0, 0, {}]]]},
 {"class_name": "Dense", "config": {"name": "out", "units": 10}, "name": "out", "inbound_nodes": [[["flat", 0, 0, {}]]]}],
 "input_layers": [["image", 0, 0]], "output_layers": [["out", 0, 0]]}}`

func TestArchitectureRoundTrip(t *testing.T) {
	for _, a := range []Architecture{
		{Name: models.ConvNetName, Input: [3]int{28, 28, 1}, Classes: 10},
		{Name: models.VGGName, Input: [3]int{32, 32, 3}, Classes: 10},
		{Name: ResNetName, Input: [3]int{12, 12, 3}, Classes: 4, Stages: []int{4, 8}, Blocks: 2},
		{Name: KerasName, Input: [3]int{28, 28, 1}, Classes: 10, Keras: json.RawMessage(smallKerasJSON)},
	} {
		t.Run(a.Name, func(t *testing.T) {
			b, err := ParseArchitecture(a.String())
			if err != nil {
				t.Fatal(err)
			}
			if b.Name != a.Name || b.Input != a.Input || b.Classes != a.Classes || !reflect.DeepEqual(b.Stages, a.Stages) || b.Blocks != a.Blocks {
				t.Fatalf("read back %+v, wrote %+v", b, a)
			}
			m, err := b.Build(1, 0.5, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckShapes(m, data.Shape{H: a.Input[0], W: a.Input[1], C: a.Input[2]}, a.Classes); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestArchitectureByName: checkpoints without the architecture key (the
// lecture's ConvNet before the key existed, named or not, and the VGG of
// the first --model vgg) rebuild from MetaModel and the data keys; other
// names cannot.
func TestArchitectureByName(t *testing.T) {
	for _, tc := range []struct {
		name string
		meta map[string]string
		want Architecture
	}{
		{"unnamed", map[string]string{}, Architecture{Name: models.ConvNetName, Input: [3]int{28, 28, 1}, Classes: 10}},
		{"convnet", map[string]string{MetaModel: models.ConvNetName, MetaInput: "12,12,3", MetaClasses: `["a","b","c"]`},
			Architecture{Name: models.ConvNetName, Input: [3]int{12, 12, 3}, Classes: 3}},
		{"vgg", map[string]string{MetaModel: models.VGGName, MetaInput: "32,32,3"}, Architecture{Name: models.VGGName, Input: [3]int{32, 32, 3}, Classes: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ArchitectureOf(tc.meta)
			if err != nil || !reflect.DeepEqual(a, tc.want) {
				t.Fatalf("ArchitectureOf = %+v, %v; want %+v", a, err, tc.want)
			}
			m, name, err := modelOf(tc.meta, 0)
			if err != nil || name != tc.want.Name {
				t.Fatalf("modelOf: %s, %v", name, err)
			}
			if err := CheckShapes(m, data.Shape{H: a.Input[0], W: a.Input[1], C: a.Input[2]}, a.Classes); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, name := range []string{ResNetName, KerasName, "custom"} {
		if a, err := ArchitectureOf(map[string]string{MetaModel: name}); err == nil || !strings.Contains(err.Error(), "without an architecture") {
			t.Errorf("model %q without an architecture: %+v, %v; want an error", name, a, err)
		}
	}
}

// TestForgedArchitecture: every bad architecture key is an error naming
// what is wrong, before anything is built.
func TestForgedArchitecture(t *testing.T) {
	meta := func(arch string) map[string]string {
		return map[string]string{MetaModel: ResNetName, MetaInput: "28,28,1", MetaArchitecture: arch}
	}
	for _, tc := range []struct{ name, arch, want string }{
		{"not JSON", `{"name": `, "is not an architecture"},
		{"unknown field", `{"name": "convnet-resnet", "input": [28, 28, 1], "classes": 10, "depth": 3}`, "unknown field"},
		{"unknown model", `{"name": "alexnet", "input": [28, 28, 1], "classes": 10}`, "alexnet"},
		{"huge stages", `{"name": "convnet-resnet", "input": [28, 28, 1], "classes": 10, "stages": [2048, 2048, 2048, 2048, 2048, 2048], "blocks": 16}`, "weights, more than"},
		{"wide stage", `{"name": "convnet-resnet", "input": [28, 28, 1], "classes": 10, "stages": [99999]}`, "stage of 99999 filters"},
		{"negative blocks", `{"name": "convnet-resnet", "input": [28, 28, 1], "classes": 10, "blocks": -1}`, "blocks -1"},
		{"input disagrees", `{"name": "convnet-resnet", "input": [32, 32, 3], "classes": 10}`, "the data has 28x28x1 images"},
		{"classes disagree", `{"name": "convnet-resnet", "input": [28, 28, 1], "classes": 3}`, "3 classes"},
		{"zero input", `{"name": "convnet-resnet", "input": [0, 28, 1], "classes": 10}`, "want [H, W, C]"},
		{"keras without JSON", `{"name": "keras", "input": [28, 28, 1], "classes": 10}`, "holds no Keras JSON"},
		{"bad keras JSON", `{"name": "keras", "input": [28, 28, 1], "classes": 10, "keras": {"class_name": "Sequential"}}`, "keras"},
		{"name disagrees", `{"name": "convnet-vgg-bn", "input": [28, 28, 1], "classes": 10}`, "but the architecture is of model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := modelOf(meta(tc.arch), 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got model %v, error %v; want an error with %q", m, err, tc.want)
			}
		})
	}
}

// TestCheckpointHoldsLargeModel: a model larger than maxArchParams (the
// lecture's convnet sized to large images) is refused when nothing pays
// for it, and rebuilt when the checkpoint holds that many values, so
// such a run's checkpoints load.
func TestCheckpointHoldsLargeModel(t *testing.T) {
	defer func(v int64) { maxArchParams = v }(maxArchParams)
	maxArchParams = 1 << 20
	meta := map[string]string{MetaModel: models.ConvNetName, MetaInput: "48,48,1"}
	// fc alone: 12·12·64 × 1024 = 9,437,184 weights.
	if _, _, err := modelOf(meta, 0); err == nil || !strings.Contains(err.Error(), "more than 1048576") {
		t.Fatalf("without weights: error %v, want the 1048576-weight bound", err)
	}
	if _, _, err := modelOf(meta, 9_000_000); err == nil {
		t.Fatal("9,000,000 held values built a model of 9.4 million weights")
	}
	m, _, err := modelOf(meta, 9_500_000)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.Weights()["fc/kernel"]; w == nil || w.Len() != 9_437_184 {
		t.Fatal("fc/kernel is missing or not 9,437,184 values")
	}
}

// FuzzArchitectureOf: no architecture key or input shape read from a
// checkpoint panics; small valid ones build.
func FuzzArchitectureOf(f *testing.F) {
	f.Add(ResNetName, "28,28,1", `{"name": "convnet-resnet", "input": [28, 28, 1], "classes": 10, "stages": [4, 8], "blocks": 1}`)
	f.Add(models.VGGName, "32,32,3", `{"name": "convnet-vgg-bn", "input": [32, 32, 3], "classes": 10, "stages": [4]}`)
	f.Add(KerasName, "28,28,1", `{"name": "keras", "input": [28, 28, 1], "classes": 10, "keras": `+smallKerasJSON+`}`)
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, name, input, arch string) {
		meta := map[string]string{MetaModel: name, MetaInput: input}
		if arch != "" {
			meta[MetaArchitecture] = arch
		}
		a, err := ArchitectureOf(meta)
		if err != nil || a.params() > 1<<20 {
			return
		}
		if a.Name == KerasName && len(a.Keras) > 1<<12 {
			return
		}
		_, _ = a.Build(0, 0, "")
	})
}

// TestReseedMatchesLayerDefaults: redrawing a Keras JSON model's weights
// with seed 0 gives exactly what its layers drew when built, so reseed
// follows the layers' own initialisers; another seed gives other kernels
// and the same constants.
func TestReseedMatchesLayerDefaults(t *testing.T) {
	a := Architecture{Name: KerasName, Input: [3]int{28, 28, 1}, Classes: 10, Keras: json.RawMessage(smallKerasJSON)}
	built, err := a.Build(0, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{}
	for k, v := range built.Weights() {
		want[k] = append([]float32(nil), v.Data()...)
	}
	reseed(built, 0)
	for k, v := range built.Weights() {
		if !reflect.DeepEqual(v.Data(), want[k]) {
			t.Fatalf("reseed(0) changed %s", k)
		}
	}
	reseed(built, 5)
	w := built.Weights()
	if reflect.DeepEqual(w["conv/kernel"].Data(), want["conv/kernel"]) || reflect.DeepEqual(w["out/kernel"].Data(), want["out/kernel"]) {
		t.Error("reseed(5) left the kernels as seed 0 drew them")
	}
	for _, k := range []string{"conv/bias", "bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance", "out/bias"} {
		if !reflect.DeepEqual(w[k].Data(), want[k]) {
			t.Errorf("reseed(5) changed the constant %s", k)
		}
	}
}

// TestSoftmaxOutputIsTrainedOnProbabilities: a Keras model ending in a
// softmax is scored with −log p_y of its probabilities, worked out here
// from its own outputs, and predictions give p back.
func TestSoftmaxOutputIsTrainedOnProbabilities(t *testing.T) {
	js := strings.Replace(smallKerasJSON, `"units": 10}`, `"units": 10, "activation": "softmax"}`, 1)
	if !endsInSoftmax([]byte(js)) || endsInSoftmax([]byte(smallKerasJSON)) {
		t.Fatal("endsInSoftmax does not tell the two models apart")
	}
	d := tinyData()
	a := Architecture{Name: KerasName, Input: [3]int{28, 28, 1}, Classes: 10, Keras: json.RawMessage(js)}
	m, err := a.Build(0, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(probabilities); !ok {
		t.Fatalf("Build gave a %T for a softmax model", m)
	}
	ev, err := Evaluate(m, d.Test, 16)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: the raw model's probabilities, −log p_y averaged, plus the
	// conv kernel's L2 penalty.
	x := tensor.Zeros(d.Test.Len(), 28, 28, 1)
	labels := make([]int, d.Test.Len())
	for i := range labels {
		if labels[i], err = d.Test.Example(i, x.Data()[i*784:(i+1)*784]); err != nil {
			t.Fatal(err)
		}
	}
	p := Raw(m).Call(autograd.Constant(x), layers.Context{}).Value()
	var want float64
	for i, y := range labels {
		row := p.Data()[i*10 : (i+1)*10]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("row %d of the raw output sums to %g: not probabilities", i, sum)
		}
		want -= math.Log(float64(row[y]))
	}
	want /= float64(len(labels))
	penalty, _ := penalties(m)
	if math.Abs(ev.Loss-penalty-want) > 1e-5 {
		t.Errorf("evaluation loss %g (penalty %g), want −mean log p_y = %g", ev.Loss, penalty, want)
	}
	img := x.Data()[:784]
	pred, err := PredictImages(m, [][]float32{img}, DataInfo{Shape: data.Shape{H: 28, W: 28, C: 1}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	best := argmax(p.Data()[:10])
	if pred[0][0].Class != best || math.Abs(pred[0][0].Probability-float64(p.Data()[best])) > 1e-5 {
		t.Errorf("prediction %+v, the model's own probability of class %d is %g", pred[0][0], best, p.Data()[best])
	}
}

// TestChooseBuiltinWidths: vgg:F1,… and resnet:F1,… build the built-ins
// with those filters per stage, record them in the architecture, and
// refuse widths that are not a list of positive counts.
func TestChooseBuiltinWidths(t *testing.T) {
	sh := data.Shape{H: 28, W: 28, C: 1}
	for _, tc := range []struct {
		spec   string
		name   string
		stages []int
		kernel []int // shape of the first stage's last convolution kernel
	}{
		{"vgg:8,16,24", models.VGGName, []int{8, 16, 24}, []int{3, 3, 8, 8}},
		{"vgg:6", models.VGGName, []int{6}, []int{3, 3, 6, 6}},
		{"resnet:4,8", ResNetName, []int{4, 8}, nil},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			c, err := ChooseModel(tc.spec, sh, 10, 1, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if c.Architecture.Name != tc.name || !reflect.DeepEqual(c.Architecture.Stages, tc.stages) {
				t.Fatalf("architecture %+v, want %s with stages %v", c.Architecture, tc.name, tc.stages)
			}
			b, err := ParseArchitecture(c.Architecture.String())
			if err != nil || !reflect.DeepEqual(b.Stages, tc.stages) {
				t.Fatalf("architecture read back as %+v, %v", b, err)
			}
			if tc.kernel == nil {
				return
			}
			found := false
			for name, v := range c.Model.Weights() {
				if strings.HasPrefix(name, "s1c2/") && strings.HasSuffix(name, "kernel") {
					found = true
					if got := v.Shape(); !reflect.DeepEqual(got, tc.kernel) {
						t.Errorf("%s has shape %v, want %v", name, got, tc.kernel)
					}
				}
			}
			if !found {
				t.Error("no s1c2 kernel among the weights")
			}
		})
	}
	for _, spec := range []string{"vgg:", "vgg:0", "vgg:64,x", "resnet:-1", "lecture:32", "vgg:1,2,3,4,5,6,7,8,9", "vgg:4096"} {
		if _, err := ChooseModel(spec, sh, 10, 1, 0, ""); err == nil || !strings.Contains(err.Error(), spec) {
			t.Errorf("ChooseModel(%q) error %v, want one naming the value", spec, err)
		}
	}
}

// FuzzParseBuiltin feeds --model values to ParseBuiltin: it must return
// an error, a non-built-in, or a built-in name with stage widths inside
// the bounds a checkpoint's architecture is held to.
func FuzzParseBuiltin(f *testing.F) {
	for _, s := range []string{"vgg", "resnet", "lecture", "vgg:64,128,256", "resnet:32,64", "vgg:", "vgg:0", "vgg:,", "lecture:8",
		"vgg:1,2,3,4,5,6,7,8,9", "vgg:2049", "vgg:-1", "model.json", "vgg:64,x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, stages, builtin, err := ParseBuiltin(s)
		if err != nil || !builtin {
			if stages != nil || (err == nil && name != "") {
				t.Fatalf("ParseBuiltin(%q) = %q, %v, %v, %v: a refusal or a file carries no name or widths", s, name, stages, builtin, err)
			}
			return
		}
		if BuiltinModels[name] == "" || len(stages) > maxStages || (name == "lecture" && stages != nil) {
			t.Fatalf("ParseBuiltin(%q) = %q with %v", s, name, stages)
		}
		for _, w := range stages {
			if w < 1 || w > maxStageWidth {
				t.Fatalf("ParseBuiltin(%q) gave a stage of %d filters", s, w)
			}
		}
	})
}
