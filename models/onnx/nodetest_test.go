package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// nodeTestDir is where Debian's libonnx-testdata installs ONNX's backend
// node tests: test_*/model.onnx with test_data_set_*/input_i.pb and
// output_i.pb (TensorProtos).
const nodeTestDir = "/usr/share/libonnx-testdata/data/node"

// nodeTestOps are the ops the import covers, as the issue lists them.
var nodeTestOps = []string{"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
	"BatchNormalization", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
	"Clip", "Softmax", "LogSoftmax", "Flatten", "Reshape", "Transpose", "Concat", "Squeeze", "Unsqueeze", "Pad",
	"Dropout", "Identity", "Constant", "Shape", "Gather"}

// nodeTestOp returns the listed op a node test exercises: the op of a
// one-node graph, or for a multi-node graph (the "_expanded" function
// bodies) the listed op whose lower-case name is the longest prefix of
// the test's name. "" means the test is not about a listed op.
func nodeTestOp(name string, m *modelProto) string {
	if m.graph != nil && len(m.graph.nodes) == 1 {
		op := m.graph.nodes[0].opType
		for _, o := range nodeTestOps {
			if o == op {
				return op
			}
		}
		return ""
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(name, "test_"), "basic_")
	best := ""
	for _, o := range nodeTestOps {
		l := strings.ToLower(o)
		if (rest == l || strings.HasPrefix(rest, l+"_")) && len(o) > len(best) {
			best = o
		}
	}
	return best
}

type nodeTally struct {
	ran, passed, skipped int
	notes                []string
}

// TestONNXNodeTests runs every backend node test of the listed ops and
// prints, per op, how many ran, passed and were skipped (with each skip's
// reason). A test is skipped only when the import refuses something with
// errUnsupported (an op, attribute or element type it does not run);
// every other difference fails.
func TestONNXNodeTests(t *testing.T) {
	entries, err := os.ReadDir(nodeTestDir)
	needTool(t, err == nil, "libonnx-testdata ("+nodeTestDir+")")
	tally := map[string]*nodeTally{}
	var failures []string
	for _, e := range entries {
		dir := filepath.Join(nodeTestDir, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
		if err != nil {
			continue
		}
		mp, err := decodeModel(b)
		if err != nil {
			t.Errorf("%s: decoding model.onnx: %v", e.Name(), err)
			continue
		}
		op := nodeTestOp(e.Name(), mp)
		if op == "" {
			continue
		}
		tl := tally[op]
		if tl == nil {
			tl = &nodeTally{}
			tally[op] = tl
		}
		err = runNodeTest(dir, b)
		switch {
		case err == nil:
			tl.ran++
			tl.passed++
		case errors.Is(err, errUnsupported):
			tl.skipped++
			tl.notes = append(tl.notes, fmt.Sprintf("skip %s: %v", e.Name(), err))
		default:
			tl.ran++
			failures = append(failures, fmt.Sprintf("%s: %v", e.Name(), err))
		}
	}
	ops := make([]string, 0, len(tally))
	for op := range tally {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var sb strings.Builder
	var ran, passed, skipped int
	fmt.Fprintf(&sb, "ONNX backend node tests (%s):\n%-20s %4s %6s %7s\n", nodeTestDir, "op", "ran", "passed", "skipped")
	for _, op := range ops {
		tl := tally[op]
		fmt.Fprintf(&sb, "%-20s %4d %6d %7d\n", op, tl.ran, tl.passed, tl.skipped)
		ran, passed, skipped = ran+tl.ran, passed+tl.passed, skipped+tl.skipped
	}
	fmt.Fprintf(&sb, "%-20s %4d %6d %7d\n", "total", ran, passed, skipped)
	for _, op := range ops {
		for _, n := range tally[op].notes {
			fmt.Fprintf(&sb, "  %s\n", n)
		}
	}
	t.Log(sb.String())
	for _, op := range nodeTestOps {
		if tally[op] == nil {
			t.Errorf("no node test found for %s", op)
		}
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// runNodeTest loads model.onnx and checks every test_data_set_* in dir:
// outputs within ONNX's backend tolerance |got − want| ≤ 1e-7 + 1e-3·|want|
// (integers exactly).
func runNodeTest(dir string, model []byte) error {
	m, err := Decode(model)
	if err != nil {
		return err
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return fmt.Errorf("no test_data_set_* in %s", dir)
	}
	for _, set := range sets {
		feeds := map[string]value{}
		for i, in := range m.inputs {
			v, err := readPB(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
			if err != nil {
				return err
			}
			feeds[in.name] = v
		}
		outs, err := m.run(feeds)
		if err != nil {
			return err
		}
		for i, got := range outs {
			want, err := readPB(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
			if err != nil {
				return err
			}
			if err := compareValues(got, want); err != nil {
				return fmt.Errorf("%s output %d (%s): %v", filepath.Base(set), i, m.outputs[i], err)
			}
		}
	}
	return nil
}

func readPB(path string) (value, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return value{}, err
	}
	tp, err := decodeTensor(b)
	if err != nil {
		return value{}, fmt.Errorf("%s: %v", path, err)
	}
	v, err := tensorValue(tp)
	if err != nil {
		return value{}, fmt.Errorf("%s: %v", path, err)
	}
	return v, nil
}

func compareValues(got, want value) error {
	if fmt.Sprint(got.dims()) != fmt.Sprint(want.dims()) {
		return fmt.Errorf("shape %v, want %v", got.dims(), want.dims())
	}
	if got.isInt() != want.isInt() {
		return fmt.Errorf("got %s, want %s", dtName(got.dt), dtName(want.dt))
	}
	if got.isInt() {
		for i := range got.ints {
			if got.ints[i] != want.ints[i] {
				return fmt.Errorf("value %d is %d, want %d", i, got.ints[i], want.ints[i])
			}
		}
		return nil
	}
	g, w := got.f.Data(), want.f.Data()
	for i := range g {
		a, b := float64(g[i]), float64(w[i])
		if math.IsNaN(a) && math.IsNaN(b) || a == b {
			continue
		}
		if !(math.Abs(a-b) <= 1e-7+1e-3*math.Abs(b)) {
			return fmt.Errorf("value %d is %g, want %g", i, a, b)
		}
	}
	return nil
}
