package keras

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// smallLimits lowers the allocation bounds for the fuzz targets, so that
// every accepted model is cheap to build and run.
func smallLimits(f *testing.F) {
	p, a, c := maxParams, maxActivation, maxCost
	maxParams, maxActivation, maxCost = 1<<16, 1<<16, 1<<22
	f.Cleanup(func() { maxParams, maxActivation, maxCost = p, a, c })
}

// zooFile returns a zoo file's bytes.
func zooFile(f *testing.F, model, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "zoo", model, name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// exercise runs an accepted model: its JSON must parse again, and it
// must summarize and predict on zeros without panicking.
func exercise(t *testing.T, m *Model) {
	js, err := m.ToJSON()
	if err != nil {
		t.Fatalf("ToJSON of an accepted model: %v", err)
	}
	if _, err := ParseJSON(js); err != nil {
		t.Fatalf("ToJSON output does not parse: %v\n%s", err, js)
	}
	m.Summary()
	if len(m.inputs) == 1 {
		m.Predict(tensor.Zeros(append([]int{1}, m.InputShape()...)...))
	}
}

// FuzzParseJSON feeds model.to_json() documents to ParseJSON.
func FuzzParseJSON(f *testing.F) {
	smallLimits(f)
	for _, name := range zooModels {
		var file struct{ ModelTopology json.RawMessage }
		if err := json.Unmarshal(zooFile(f, name, "model.json"), &file); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(file.ModelTopology))
	}
	f.Add([]byte(tfKerasSequential))
	f.Add([]byte(tfKerasFunctional))
	f.Add([]byte(siamese))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseJSON(b)
		if err != nil {
			return
		}
		exercise(t, m)
	})
}

// FuzzDecodeTFJS feeds a model.json and one shard (served under every
// name the manifest asks for) to DecodeTFJS.
func FuzzDecodeTFJS(f *testing.F) {
	smallLimits(f)
	for _, name := range []string{"resnet", "dense1d"} {
		f.Add(zooFile(f, name, "model.json"), zooFile(f, name, "group1-shard1of1.bin"))
	}
	f.Add(tinyTFJS(tinyWeights), floats(2, 3, 1))
	f.Fuzz(func(t *testing.T, modelJSON, shard []byte) {
		read := func(name string, max int64) ([]byte, error) {
			return MemShards(map[string][]byte{name: shard})(name, max)
		}
		m, err := DecodeTFJS(modelJSON, read)
		if err != nil {
			return
		}
		exercise(t, m)
	})
}
