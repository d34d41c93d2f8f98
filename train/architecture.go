package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/initializers"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/models/keras"
	"github.com/convnet-go/convnet/tensor"
)

// Model names of the checkpoint metadata (MetaModel) besides
// models.ConvNetName and models.VGGName.
const (
	// ResNetName names models.NewResNet's network.
	ResNetName = "convnet-resnet"
	// KerasName names a model read from a Keras or TF.js file; its
	// architecture is the Keras JSON.
	KerasName = "keras"
)

// Default size of the built-in ResNet (`--model resnet`): three stages of
// 16, 32 and 64 filters with two residual blocks each, which takes 28×28
// to 7×7 and 32×32 to 8×8 before the global average pool.
var (
	DefaultResNetStages = []int{16, 32, 64}
	DefaultResNetBlocks = 2
)

// Bounds on a built-in architecture read from a checkpoint, so that a
// forged one cannot make LoadModel allocate without limit. maxArchParams
// bounds a model built without weights to restore; a checkpoint's model
// may hold as many weights as the checkpoint file does (the lecture's
// model sized to large images exceeds maxArchParams).
const (
	maxStages      = 8
	maxStageWidth  = 2048
	maxBlocks      = 16
	maxConvs       = 8
	maxDenseUnits  = 1 << 16
	maxArchJSON    = 64 << 20
	archInputLimit = 1 << 14
)

// maxArchParams is 512 MB of float32 weights (a variable only so that
// tests can lower it).
var maxArchParams int64 = 1 << 27

// Architecture says how to rebuild a checkpoint's model: a built-in
// model's name and the fields that size it, or the Keras JSON
// (keras.Model.ToJSON) of a model read from a file. It is stored as JSON
// under MetaArchitecture:
//
//	{"name": "convnet-resnet", "input": [28, 28, 1], "classes": 10, "stages": [16, 32, 64], "blocks": 2}
//	{"name": "keras", "input": [32, 32, 3], "classes": 5, "keras": {"class_name": "Functional", …}}
type Architecture struct {
	// Name is models.ConvNetName, models.VGGName, ResNetName or KerasName.
	Name string `json:"name"`
	// Input is the image shape [H, W, C] and Classes the logit count.
	Input   [3]int `json:"input"`
	Classes int    `json:"classes"`
	// Stages, Blocks, Convs and Units size ResNet (Stages, Blocks) and VGG
	// (Stages, Convs, Units); zero values take the models' defaults.
	Stages []int `json:"stages,omitempty"`
	Blocks int   `json:"blocks,omitempty"`
	Convs  int   `json:"convs,omitempty"`
	Units  int   `json:"units,omitempty"`
	// Keras is the model.to_json() of a KerasName model.
	Keras json.RawMessage `json:"keras,omitempty"`
}

// MetaArchitecture is the checkpoint metadata key holding the
// Architecture as JSON; checkpoints without it hold the lecture's ConvNet
// or a VGG named by MetaModel.
const MetaArchitecture = "architecture"

// BuiltinModels lists the names `convnet train --model` takes besides a
// file: lecture, vgg and resnet.
var BuiltinModels = map[string]string{"lecture": models.ConvNetName, "vgg": models.VGGName, "resnet": ResNetName}

// Build returns the model a describes, freshly initialised from seed
// (a Keras model's initial weights are its layers' defaults). dropout is
// the rate of the built-ins' dropout layers and init the ConvNet's
// initialisation; neither shapes the model, so neither is recorded.
func (a Architecture) Build(seed uint64, dropout float32, init string) (layers.Network, error) {
	return a.buildWithin(maxArchParams, seed, dropout, init)
}

// buildWithin is Build for a model of at most about limit weights (limit
// below maxArchParams counts as maxArchParams): the checkpoint loaders
// pass the number of values the checkpoint holds, which its file has
// already paid for.
func (a Architecture) buildWithin(limit int64, seed uint64, dropout float32, init string) (layers.Network, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	limit = max(limit, maxArchParams)
	if p := a.params(); p > float64(limit) {
		return nil, fmt.Errorf("architecture %s for %v images would hold about %.0f weights, more than %d", a.Name, a.Input, p, limit)
	}
	return a.build(seed, dropout, init)
}

// build is Build without the bounds on the sizes, for Run's own ConvNet,
// whose size the data gives.
func (a Architecture) build(seed uint64, dropout float32, init string) (layers.Network, error) {
	switch a.Name {
	case models.ConvNetName:
		return models.NewConvNet(models.ConvNetConfig{Input: a.Input, Classes: a.Classes, Seed: seed, DropoutRate: dropout, Init: init})
	case models.VGGName:
		return models.NewVGG(models.VGGConfig{Input: a.Input, Classes: a.Classes, Stages: a.Stages, Convs: a.Convs, Units: a.Units,
			Seed: seed, DropoutRate: dropout})
	case ResNetName:
		return models.NewResNet(models.ResNetConfig{InputShape: a.Input[:], Classes: a.Classes, Stages: a.Stages, Blocks: a.Blocks, Seed: seed})
	case KerasName:
		k, err := keras.ParseJSON(a.Keras)
		if err != nil {
			return nil, err
		}
		return kerasNet(k, a.Keras), nil
	}
	return nil, fmt.Errorf("architecture names model %q; convnet builds %s", a.Name, strings.Join(archNames(), ", "))
}

func archNames() []string {
	return []string{models.ConvNetName, models.VGGName, ResNetName, KerasName}
}

// check bounds the sizes, so a forged architecture is refused before
// anything is allocated.
func (a Architecture) check() error {
	for _, d := range a.Input {
		if d < 1 || d > archInputLimit {
			return fmt.Errorf("architecture input %v, want [H, W, C] with sizes 1…%d", a.Input, archInputLimit)
		}
	}
	if a.Input[2] > 4 {
		return fmt.Errorf("architecture input %v has %d channels, want 1 to 4", a.Input, a.Input[2])
	}
	if a.Classes < 1 || a.Classes > 1<<16 {
		return fmt.Errorf("architecture classes %d, want 1…65536", a.Classes)
	}
	if len(a.Stages) > maxStages {
		return fmt.Errorf("architecture has %d stages, at most %d", len(a.Stages), maxStages)
	}
	for _, s := range a.Stages {
		if s < 1 || s > maxStageWidth {
			return fmt.Errorf("architecture stage of %d filters, want 1…%d", s, maxStageWidth)
		}
	}
	switch {
	case a.Blocks < 0 || a.Blocks > maxBlocks:
		return fmt.Errorf("architecture blocks %d, want 0…%d", a.Blocks, maxBlocks)
	case a.Convs < 0 || a.Convs > maxConvs:
		return fmt.Errorf("architecture convs %d, want 0…%d", a.Convs, maxConvs)
	case a.Units < 0 || a.Units > maxDenseUnits:
		return fmt.Errorf("architecture units %d, want 0…%d", a.Units, maxDenseUnits)
	case a.Name == KerasName && len(a.Keras) == 0:
		return fmt.Errorf("architecture of a %s model holds no Keras JSON", KerasName)
	case a.Name != KerasName && len(a.Keras) != 0:
		return fmt.Errorf("architecture of model %q holds Keras JSON; only %s models do", a.Name, KerasName)
	}
	return nil
}

// params estimates a built-in model's weight count from below (kernels
// and dense layers, which dominate; no biases or batch norm): a genuine
// checkpoint holds at least this many values. 0 for Keras models, which
// keras bounds itself.
func (a Architecture) params() float64 {
	c := float64(a.Input[2])
	k := float64(a.Classes)
	or := func(v []int, def ...int) []int {
		if len(v) == 0 {
			return def
		}
		return v
	}
	orInt := func(v, def int) float64 {
		if v == 0 {
			return float64(def)
		}
		return float64(v)
	}
	switch a.Name {
	case models.ConvNetName:
		// conv 5×5/32, conv 5×5/64, fc ⌊H/4⌋·⌊W/4⌋·64 → 1024, 1024 → K
		return 25*c*32 + 25*32*64 + float64(a.Input[0]/4*(a.Input[1]/4))*64*1024 + 1024*k
	case models.VGGName:
		var p float64
		in := c
		hh, ww := a.Input[0], a.Input[1]
		for _, f := range or(a.Stages, 32, 64, 128) {
			for range int(orInt(a.Convs, 2)) {
				p += 9 * in * float64(f)
				in = float64(f)
			}
			hh, ww = hh/2, ww/2
		}
		units := orInt(a.Units, 256)
		return p + float64(hh*ww)*in*units + units*k
	case ResNetName:
		stages := or(a.Stages, 16, 32, 64)
		blocks := orInt(a.Blocks, 1)
		p := 9 * c * float64(stages[0])
		in := float64(stages[0])
		for _, f := range stages {
			f := float64(f)
			p += blocks*(9*in*f+9*f*f) + in*f // the projection, at most once per stage
			in = f
		}
		return p + in*k
	}
	return 0
}

// ParseArchitecture reads the JSON stored under MetaArchitecture and
// checks its sizes; unknown fields are errors.
func ParseArchitecture(s string) (Architecture, error) {
	var a Architecture
	if len(s) > maxArchJSON {
		return a, fmt.Errorf("metadata %s is %d bytes, more than %d", MetaArchitecture, len(s), maxArchJSON)
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		return a, fmt.Errorf("metadata %s = %.80q is not an architecture: %v", MetaArchitecture, s, err)
	}
	if d.More() {
		return a, fmt.Errorf("metadata %s: data after the JSON object", MetaArchitecture)
	}
	if err := a.check(); err != nil {
		return a, fmt.Errorf("metadata %s: %w", MetaArchitecture, err)
	}
	return a, nil
}

// String returns the JSON stored under MetaArchitecture.
func (a Architecture) String() string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(a); err != nil {
		return "" // unreachable: every field marshals; Keras holds valid JSON
	}
	return strings.TrimSpace(b.String())
}

// FitsData checks that a was recorded for images of shape sh and the
// given class count.
func (a Architecture) FitsData(sh data.Shape, classes int) error {
	if a.Input != [3]int{sh.H, sh.W, sh.C} || a.Classes != classes {
		return fmt.Errorf("architecture %s takes %v images and %d classes, the data has %dx%dx%d images and %d classes",
			a.Name, a.Input, a.Classes, sh.H, sh.W, sh.C, classes)
	}
	return nil
}

// ModelChoice is a model chosen by name or path (ChooseModel) or rebuilt
// from a run's checkpoint (ResumeChoice), ready for Config.Model,
// Config.ModelName and Config.Architecture.
type ModelChoice struct {
	// Model is nil for the lecture's ConvNet, which Run builds itself.
	Model        layers.Network
	Name         string
	Architecture *Architecture
	// Keras is the model read from a file (nil for built-ins).
	Keras *keras.Model
	// From says where the model and its first weights come from.
	From string
}

// ParseBuiltin splits a --model value NAME[:F1,F2,…] naming a built-in
// model into its name and the filters of each of its stages (nil: the
// model's defaults); builtin is false when NAME is none of
// BuiltinModels. Only vgg and resnet take filters: "vgg:64,128,256" is
// NewVGG at twice its default width.
func ParseBuiltin(spec string) (name string, stages []int, builtin bool, err error) {
	name, list, hasList := strings.Cut(spec, ":")
	if BuiltinModels[name] == "" {
		return "", nil, false, nil
	}
	if !hasList {
		return name, nil, true, nil
	}
	if name == "lecture" {
		return "", nil, true, fmt.Errorf("model %q: the lecture's convnet takes no stage filters", spec)
	}
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > maxStageWidth || len(stages) == maxStages {
			return "", nil, true, fmt.Errorf("model %q: want %s:F1,F2,… with 1 to %d stages of 1…%d filters each", spec, name, maxStages, maxStageWidth)
		}
		stages = append(stages, n)
	}
	return name, stages, true, nil
}

// ChooseModel returns the model `convnet train --model spec` trains on
// images of shape sh with the given class count:
//
//	lecture           the lecture's ConvNet (Model nil: Run builds it from Config)
//	vgg               models.NewVGG with its default sizes
//	resnet            models.NewResNet, DefaultResNetStages and DefaultResNetBlocks
//	vgg:F1,F2,…       either with F1, F2, … filters in its stages
//	resnet:F1,F2,…
//	FILE.json         a Keras model.to_json() file: fresh weights drawn from seed
//	                  as its layers' defaults; a TF.js model.json (modelTopology
//	                  and weightsManifest) starts from its weights
//	DIR               a model directory (keras.ConfigFile and keras.WeightsFile,
//	                  or a TF.js model.json): starts from its weights
//
// A Keras model whose output layer is a softmax is trained as Keras
// trains it with sparse_categorical_crossentropy of probabilities: its
// Model's Call returns log(clip(p, 1e-7, 1 − 1e-7)) as logits (Raw gives
// the model itself), and LoadModel rebuilds it so.
//
// seed and dropout size the built-ins' initial weights and dropout. The
// model must take [N, H, W, C] images and give [N, classes] logits; the
// error names both shapes when not.
func ChooseModel(spec string, sh data.Shape, classes int, seed uint64, dropout float32, init string) (ModelChoice, error) {
	a := Architecture{Input: [3]int{sh.H, sh.W, sh.C}, Classes: classes}
	var c ModelChoice
	name, stages, builtin, err := ParseBuiltin(spec)
	if err != nil {
		return c, err
	}
	if !builtin {
		name = spec
	}
	switch name {
	case "lecture":
		a.Name = models.ConvNetName
		return ModelChoice{Name: a.Name, From: "the lecture's convnet, " + seedNote(seed)}, nil
	case "vgg":
		a.Name, a.Stages = models.VGGName, stages
	case "resnet":
		a.Name, a.Stages, a.Blocks = ResNetName, DefaultResNetStages, DefaultResNetBlocks
		if stages != nil {
			a.Stages = stages
		}
	default:
		k, from, fresh, err := LoadModelFile(spec)
		if err != nil {
			return c, err
		}
		js, err := k.ToJSON()
		if err != nil {
			return c, err
		}
		a.Name, a.Keras = KerasName, js
		if fresh {
			reseed(k.Net(), seed)
			from += ", " + seedNote(seed)
		}
		net := kerasNet(k, js)
		if _, ok := net.(probabilities); ok {
			from += "; its softmax output is trained with the cross-entropy of the probabilities, as Keras's sparse_categorical_crossentropy"
		}
		c = ModelChoice{Model: net, Name: KerasName, Keras: k, From: from}
	}
	if c.Model == nil {
		m, err := a.Build(seed, dropout, init)
		if err != nil {
			return c, err
		}
		from := fmt.Sprintf("built-in %s, %s", spec, seedNote(seed))
		if a.Name == models.VGGName {
			from += fmt.Sprintf(", dropout %g", dropout)
		}
		c = ModelChoice{Model: m, Name: a.Name, From: from}
	}
	if err := CheckShapes(c.Model, sh, classes); err != nil {
		return c, err
	}
	c.Architecture = &a
	return c, nil
}

// seedNote says where the initial weights come from.
func seedNote(seed uint64) string { return fmt.Sprintf("initial weights from seed %d", seed) }

// LoadModelFile reads the Keras model file or directory ChooseModel and
// `convnet shape --model` take (a Keras JSON file, a TF.js model.json or
// a model directory); fresh is true when the file holds no weights, and
// from says what was read.
func LoadModelFile(path string) (k *keras.Model, from string, fresh bool, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", false, fmt.Errorf("%q is neither lecture, vgg, resnet nor a model file or directory: %v", path, err)
	}
	if st.IsDir() {
		if k, err = keras.Load(path); err != nil {
			return nil, "", false, err
		}
		return k, "the model directory " + path + " and its weights", false, nil
	}
	if !strings.EqualFold(filepath.Ext(path), ".json") {
		return nil, "", false, fmt.Errorf("%s: want lecture, vgg, resnet, a Keras JSON file (.json), a TF.js model.json or a model directory", path)
	}
	if st.Size() > maxArchJSON {
		return nil, "", false, fmt.Errorf("%s is %d bytes, more than %d", path, st.Size(), maxArchJSON)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", false, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, "", false, fmt.Errorf("%s is not a JSON object: %v", path, err)
	}
	if _, ok := probe["modelTopology"]; ok {
		if k, err = keras.LoadTFJS(path); err != nil {
			return nil, "", false, err
		}
		return k, "the TF.js model " + path + " and its weights", false, nil
	}
	if k, err = keras.ParseJSON(b); err != nil {
		return nil, "", false, fmt.Errorf("%s: %w", path, err)
	}
	return k, "the Keras JSON " + path + ", freshly initialised", true, nil
}

// reseed redraws m's weights as its layers draw them when built with
// seed: Glorot-uniform kernels, zero biases and β, unit γ and moving
// variance, zero moving mean, each from a generator seeded with
// layers.DeriveSeed(seed, weight name). A Keras JSON file's own
// initializer settings are not read (keras takes every weight from a
// weights file); with seed 0 the weights stay what keras.ParseJSON drew.
func reseed(m layers.Network, seed uint64) {
	for _, v := range m.AllWeights() {
		var init initializers.Initializer
		switch name := v.Name(); name[strings.LastIndex(name, "/")+1:] {
		case "kernel", "depthwise_kernel", "pointwise_kernel":
			init = initializers.GlorotUniform{}
		case "bias", "beta", "moving_mean":
			init = initializers.Zeros{}
		case "gamma", "moving_variance":
			init = initializers.Ones{}
		default:
			continue
		}
		init.Init(v.Value(), tensor.NewRand(layers.DeriveSeed(seed, v.Name())))
	}
}

// ResumeChoice rebuilds the model of the latest checkpoint in dir, for
// `convnet train --resume` without --model; ok is false when dir holds no
// checkpoint. seed, dropout and init apply to built-ins as in
// ChooseModel; Run then restores the checkpoint's weights.
func ResumeChoice(dir string, seed uint64, dropout float32, init string) (c ModelChoice, ok bool, err error) {
	latest, err := checkpoint.Latest(dir)
	if err != nil {
		return c, false, nil
	}
	tensors, meta, err := checkpoint.Load(latest)
	if err != nil {
		return c, true, err
	}
	a, err := ArchitectureOf(meta)
	if err != nil {
		return c, true, fmt.Errorf("checkpoint %s: %w", latest, err)
	}
	c = ModelChoice{Name: a.Name, From: "the architecture recorded in " + latest}
	if a.Name == models.ConvNetName {
		return c, true, nil // Run builds the lecture's model
	}
	if c.Model, err = a.buildWithin(heldValues(tensors), seed, dropout, init); err != nil {
		return c, true, fmt.Errorf("checkpoint %s: %w", latest, err)
	}
	c.Architecture = &a
	return c, true, nil
}

// probEpsilon is Keras's backend epsilon, which clips probabilities in
// its cross-entropy.
const probEpsilon = 1e-7

// probabilities adapts a model whose output is a softmax (a Keras
// classifier written for sparse_categorical_crossentropy of
// probabilities) to the loop, which takes logits: Call returns
// log(clip(p, ε, 1 − ε)), ε = 1e-7. The softmax cross-entropy of those
// logits is Keras's −log(clip(p_y)) up to the clipping (softmax(log p) =
// p when p sums to 1), and Predict's softmax gives p back. Weights and
// everything else are the model's own.
type probabilities struct{ layers.Network }

// Call returns log(clip(p, ε, 1 − ε)) of the wrapped model's output p.
func (m probabilities) Call(x *autograd.Var, ctx layers.Context) *autograd.Var {
	p := m.Network.Call(x, ctx)
	if p.Err() != nil {
		return p
	}
	lo, hi := tensor.Zeros(p.Value().Shape()...), tensor.Zeros(p.Value().Shape()...)
	lo.Fill(probEpsilon)
	hi.Fill(1 - probEpsilon)
	return autograd.Log(autograd.Minimum(autograd.Maximum(p, autograd.Constant(lo)), autograd.Constant(hi)))
}

// Raw returns the model whose output m's Call adapts to logits (a Keras
// model ending in a softmax, see ChooseModel), or m itself: what the
// model file computes, for raw tensor predictions and summaries.
func Raw(m layers.Network) layers.Network {
	if p, ok := m.(probabilities); ok {
		return p.Network
	}
	return m
}

// kerasNet returns k's network, adapted by probabilities when the Keras
// JSON js ends in a softmax.
func kerasNet(k *keras.Model, js []byte) layers.Network {
	if endsInSoftmax(js) {
		return probabilities{k.Net()}
	}
	return k.Net()
}

// endsInSoftmax reports whether the output layer of a Keras model JSON
// (the last layer of a Sequential, the first output of a Functional) is a
// Softmax layer or has activation "softmax".
func endsInSoftmax(js []byte) bool {
	var top struct {
		Config struct {
			Layers []struct {
				ClassName string `json:"class_name"`
				Name      string `json:"name"`
				Config    struct {
					Name       string `json:"name"`
					Activation any    `json:"activation"`
				} `json:"config"`
			} `json:"layers"`
			OutputLayers json.RawMessage `json:"output_layers"`
		} `json:"config"`
	}
	if json.Unmarshal(js, &top) != nil || len(top.Config.Layers) == 0 {
		return false
	}
	out := top.Config.Layers[len(top.Config.Layers)-1]
	var outs [][]any
	var one []any
	name := ""
	if json.Unmarshal(top.Config.OutputLayers, &outs) == nil && len(outs) > 0 && len(outs[0]) > 0 {
		name, _ = outs[0][0].(string)
	} else if json.Unmarshal(top.Config.OutputLayers, &one) == nil && len(one) > 0 {
		name, _ = one[0].(string)
	}
	if name != "" {
		for _, l := range top.Config.Layers {
			if l.Name == name || l.Name == "" && l.Config.Name == name {
				out = l
			}
		}
	}
	return out.ClassName == "Softmax" || out.Config.Activation == "softmax"
}
