package keras

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/tensor"
)

// A TF.js Layers model.json (what model.save and tensorflowjs_converter
// write):
//
//	{"format": "layers-model", "generatedBy": …, "convertedBy": …,
//	 "modelTopology": <model.to_json()> or {"model_config": <…>, "training_config": …},
//	 "weightsManifest": [{"paths": ["group1-shard1of2.bin", …],
//	                      "weights": [{"name": "conv2d/kernel", "shape": [3, 3, 1, 8], "dtype": "float32"}, …]}]}
//
// Each group's weights are stored as little-endian float32 values,
// concatenated in the order listed, and that byte string is cut into
// the group's shard files in order (a cut may fall inside a tensor).

type tfjsFile struct {
	Format              string          `json:"format"`
	GeneratedBy         json.RawMessage `json:"generatedBy"`
	ConvertedBy         json.RawMessage `json:"convertedBy"`
	ModelTopology       json.RawMessage `json:"modelTopology"`
	WeightsManifest     []manifestGroup `json:"weightsManifest"`
	TrainingConfig      json.RawMessage `json:"trainingConfig"`
	UserDefinedMetadata json.RawMessage `json:"userDefinedMetadata"`
	Signature           json.RawMessage `json:"signature"`
}

type manifestGroup struct {
	Paths   []string         `json:"paths"`
	Weights []manifestWeight `json:"weights"`
}

type manifestWeight struct {
	Name         string          `json:"name"`
	Shape        []int64         `json:"shape"`
	Dtype        string          `json:"dtype"`
	Quantization json.RawMessage `json:"quantization"`
	Group        json.RawMessage `json:"group"`
}

// Limits on what a manifest may declare, so that a forged file cannot
// make the reader allocate more than a real model needs.
const (
	maxWeightElems = 1 << 28 // one tensor
	maxTotalBytes  = 4 << 30 // all shards together
)

// ShardReader returns the contents of the shard file named in the
// manifest; it must fail rather than return more than max bytes.
type ShardReader func(name string, max int64) ([]byte, error)

// LoadTFJS reads a TF.js Layers model.json and the shard files beside
// it.
func LoadTFJS(path string) (*Model, error) {
	b, err := readLimited(path, maxJSON)
	if err != nil {
		return nil, err
	}
	m, err := DecodeTFJS(b, shardsBeside(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// shardsBeside reads shards from the directory of the model.json at path.
func shardsBeside(path string) ShardReader {
	dir := filepath.Dir(path)
	return func(name string, max int64) ([]byte, error) {
		b, err := readLimited(filepath.Join(dir, name), max)
		if err != nil {
			return nil, fmt.Errorf("weight shard %s: %w", name, err)
		}
		return b, nil
	}
}

// DecodeTFJS builds the model of a TF.js Layers model.json (its bytes)
// and fills its weights from the shards that read returns. The weights
// must be float32 (quantized weights are refused) and match the model's
// weights one to one, by name and shape; the shards must hold exactly the
// bytes the manifest describes.
func DecodeTFJS(modelJSON []byte, read ShardReader) (*Model, error) {
	var f tfjsFile
	if err := decodeStrict(modelJSON, &f, "TF.js model.json"); err != nil {
		return nil, err
	}
	switch f.Format {
	case "", "layers-model":
	case "graph-model":
		return nil, fmt.Errorf("keras: model.json format %q is a TF.js graph model; only Layers models (format \"layers-model\") are read", f.Format)
	default:
		return nil, fmt.Errorf("keras: model.json format %q; want \"layers-model\"", f.Format)
	}
	if f.ModelTopology == nil {
		return nil, fmt.Errorf("keras: model.json has no modelTopology")
	}
	top := f.ModelTopology
	var wrapped struct {
		ModelConfig    json.RawMessage `json:"model_config"`
		TrainingConfig json.RawMessage `json:"training_config"`
		KerasVersion   json.RawMessage `json:"keras_version"`
		Backend        json.RawMessage `json:"backend"`
	}
	if decodeStrict(top, &wrapped, "modelTopology") == nil && wrapped.ModelConfig != nil {
		top = wrapped.ModelConfig
	}
	m, err := ParseJSON(top)
	if err != nil {
		return nil, err
	}
	ws, err := readManifest(f.WeightsManifest, read)
	if err != nil {
		return nil, err
	}
	if err := m.SetWeights(ws); err != nil {
		return nil, err
	}
	return m, nil
}

// readManifest reads every group's shards and cuts them into tensors.
func readManifest(groups []manifestGroup, read ShardReader) (map[string]*tensor.Tensor, error) {
	if len(groups) == 0 {
		return nil, errNoWeights
	}
	out := map[string]*tensor.Tensor{}
	var total int64
	for gi, g := range groups {
		var need int64
		sizes := make([]int, len(g.Weights))
		shapes := make([][]int, len(g.Weights))
		for i, w := range g.Weights {
			switch {
			case w.Name == "":
				return nil, fmt.Errorf("keras: weightsManifest group %d: weight %d has no name", gi, i)
			case w.Dtype != "float32":
				return nil, fmt.Errorf("keras: weight %s: dtype %q; only float32 is read", w.Name, w.Dtype)
			case w.Quantization != nil && !isNull(w.Quantization):
				return nil, fmt.Errorf("keras: weight %s is quantized (%s); only float32 weights are read", w.Name, short(w.Quantization))
			case w.Group != nil && !isNull(w.Group):
				return nil, fmt.Errorf("keras: weight %s: \"group\" %s is not supported", w.Name, short(w.Group))
			case len(w.Shape) > 8:
				return nil, fmt.Errorf("keras: weight %s: shape %v has rank above 8", w.Name, w.Shape)
			}
			n := int64(1)
			shape := make([]int, len(w.Shape))
			for j, d := range w.Shape {
				if d < 0 || (d > 0 && n > maxWeightElems/d) {
					return nil, fmt.Errorf("keras: weight %s: shape %v is negative or above %d elements", w.Name, w.Shape, maxWeightElems)
				}
				n *= d
				shape[j] = int(d)
			}
			sizes[i], shapes[i] = int(n), shape
			need += 4 * n
			if total+need > maxTotalBytes {
				return nil, fmt.Errorf("keras: the weights manifest declares more than %d bytes", int64(maxTotalBytes))
			}
			name := strings.TrimSuffix(w.Name, ":0")
			if _, dup := out[name]; dup {
				return nil, fmt.Errorf("keras: weight %s is listed twice", name)
			}
			out[name] = nil
		}
		total += need
		var data []byte // grown as shards arrive: a forged manifest allocates nothing
		for _, p := range g.Paths {
			if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "/\\\x00") {
				return nil, fmt.Errorf("keras: weightsManifest path %q: want a file name beside model.json", p)
			}
			b, err := read(p, need-int64(len(data)))
			if err != nil {
				return nil, fmt.Errorf("keras: %v", err)
			}
			data = append(data, b...)
		}
		if int64(len(data)) != need {
			return nil, fmt.Errorf("keras: weightsManifest group %d: the shards %q hold %d bytes, the weights listed need %d", gi, g.Paths, len(data), need)
		}
		for i, w := range g.Weights {
			vals := make([]float32, sizes[i])
			for j := range vals {
				vals[j] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*j:]))
			}
			data = data[4*sizes[i]:]
			t, err := tensor.New(shapes[i], vals)
			if err != nil {
				return nil, fmt.Errorf("keras: weight %s: %v", w.Name, err)
			}
			out[strings.TrimSuffix(w.Name, ":0")] = t
		}
	}
	return out, nil
}

// MemShards is a ShardReader over files held in memory (tests, fuzzing).
func MemShards(files map[string][]byte) ShardReader {
	return func(name string, max int64) ([]byte, error) {
		b, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("weight shard %s: %w", name, os.ErrNotExist)
		}
		if int64(len(b)) > max {
			return nil, fmt.Errorf("weight shard %s: %d bytes, more than the %d the manifest leaves for it", name, len(b), max)
		}
		return b, nil
	}
}
