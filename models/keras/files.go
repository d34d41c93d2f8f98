package keras

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/internal/atomicfile"
	"github.com/convnet-go/convnet/tensor"
)

// The files of a convnet model directory.
const (
	// ConfigFile holds the architecture as model.to_json() writes it.
	ConfigFile = "config.json"
	// WeightsFile holds every weight (moving statistics included) in
	// safetensors, named as Keras names them ("conv2d/kernel").
	WeightsFile = "model.safetensors"
)

// maxJSON bounds the size of a model JSON file read from disk.
const maxJSON = 64 << 20

// Weights returns every weight's live value by Keras name, trainable and
// not ("bn/gamma", "bn/moving_mean", …).
func (m *Model) Weights() map[string]*tensor.Tensor { return m.net.Weights() }

// SetWeights copies values into the model's weights by Keras name (a
// ":0" suffix, as in TF variable names, is dropped). Every weight must be
// present with its shape, and every value must belong to a weight; on
// error nothing changes.
func (m *Model) SetWeights(values map[string]*tensor.Tensor) error {
	own := m.Weights()
	byName := make(map[string]*tensor.Tensor, len(values))
	var extra []string
	for name, t := range values {
		name = strings.TrimSuffix(name, ":0")
		if _, ok := own[name]; !ok {
			extra = append(extra, name)
		}
		byName[name] = t
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("keras: model %s has no weights named %q", m.name, extra)
	}
	if len(own) == 0 {
		return nil
	}
	if err := m.net.SetWeights(byName); err != nil {
		return fmt.Errorf("keras: model %s: %w", m.name, err)
	}
	return nil
}

// ToJSON returns the architecture in the schema of Keras's
// model.to_json(): class_name "Sequential" or "Functional", and config
// with name, layers (class_name, config, and for Functional name and
// inbound_nodes) and, for Functional, input_layers and output_layers.
// Each layer's config is the one it was read from.
func (m *Model) ToJSON() ([]byte, error) {
	mc := modelConfig{Name: m.name}
	for _, s := range m.specs {
		l := layerJSON{ClassName: s.class, Config: s.config}
		if m.class == "Functional" {
			l.Name = s.name
			nodes := [][][]any{}
			for _, call := range s.calls {
				node := make([][]any, len(call))
				for i, p := range call {
					node[i] = []any{p.name, p.node, 0, map[string]any{}}
				}
				nodes = append(nodes, node)
			}
			b, err := json.Marshal(nodes)
			if err != nil {
				return nil, err
			}
			l.InboundNodes = b
		}
		mc.Layers = append(mc.Layers, l)
	}
	if m.class == "Functional" {
		var err error
		ins := make([]ref, len(m.inputs))
		for i, n := range m.inputs {
			ins[i] = ref{n, 0}
		}
		if mc.InputLayers, err = refs(ins); err != nil {
			return nil, err
		}
		if mc.OutputLayers, err = refs(m.outputs); err != nil {
			return nil, err
		}
	}
	cfg, err := json.Marshal(mc)
	if err != nil {
		return nil, err
	}
	return append(mustMarshal(topology{ClassName: m.class, Config: cfg}), '\n'), nil
}

func refs(rs []ref) (json.RawMessage, error) {
	r := make([][]any, len(rs))
	for i, n := range rs {
		r[i] = []any{n.name, n.node, 0}
	}
	return json.Marshal(r)
}

// mustMarshal marshals values that cannot fail (strings and raw JSON
// already checked).
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Save writes the model directory dir (created if needed): ConfigFile
// and WeightsFile, each written atomically (temporary file, fsync,
// rename).
func (m *Model) Save(dir string) error {
	js, err := m.ToJSON()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("keras: %v", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, WeightsFile), func(w io.Writer) error {
		return checkpoint.Write(w, m.Weights(), map[string]string{"format": "keras", "model": m.name})
	}); err != nil {
		return fmt.Errorf("keras: %v", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, ConfigFile), js); err != nil {
		return fmt.Errorf("keras: %v", err)
	}
	return nil
}

// readLimited reads a whole file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keras: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("keras: reading %s: %v", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("keras: %s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// Load reads a model from path: a convnet model directory (ConfigFile
// and WeightsFile), a TF.js Layers model.json (or a directory holding
// one), or a Keras JSON architecture file with WeightsFile beside it.
func Load(path string) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keras: %v", err)
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(path, ConfigFile)); err == nil {
			return Load(filepath.Join(path, ConfigFile))
		}
		if _, err := os.Stat(filepath.Join(path, "model.json")); err == nil {
			return LoadTFJS(filepath.Join(path, "model.json"))
		}
		return nil, fmt.Errorf("keras: directory %s holds neither %s nor a TF.js model.json", path, ConfigFile)
	}
	b, err := readLimited(path, maxJSON)
	if err != nil {
		return nil, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("keras: %s is not a JSON object: %v", path, err)
	}
	if _, ok := probe["modelTopology"]; ok {
		m, err := DecodeTFJS(b, shardsBeside(path))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return m, nil
	}
	m, err := ParseJSON(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	wpath := filepath.Join(filepath.Dir(path), WeightsFile)
	f, err := os.Open(wpath)
	if err != nil {
		return nil, fmt.Errorf("keras: the weights of %s: %v", path, err)
	}
	defer f.Close()
	ws, _, err := checkpoint.Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", wpath, err)
	}
	if err := m.SetWeights(ws); err != nil {
		return nil, fmt.Errorf("%s: %w", wpath, err)
	}
	return m, nil
}

// IsModelPath reports whether path looks like a model this package
// loads: a directory holding ConfigFile or model.json, or a .json file.
func IsModelPath(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	if st.IsDir() {
		for _, f := range []string{ConfigFile, "model.json"} {
			if _, err := os.Stat(filepath.Join(path, f)); err == nil {
				return true
			}
		}
		return false
	}
	return strings.EqualFold(filepath.Ext(path), ".json")
}

var errNoWeights = errors.New("keras: the weights manifest lists no weights")
