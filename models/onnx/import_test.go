package onnx

import (
	"errors"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestRoundTrip exports each model, imports the file and compares the
// imported graph's logits with the model's on the same inputs.
func TestRoundTrip(t *testing.T) {
	for i, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			path, m := writeExport(t, c)
			g, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.InputNames(); len(got) != 1 || got[0] != InputName {
				t.Fatalf("inputs %q, want [%q]", got, InputName)
			}
			if got := g.OutputNames(); len(got) != 1 || got[0] != OutputName {
				t.Fatalf("outputs %q, want [%q]", got, OutputName)
			}
			if want := append([]int{-1}, c.input[1:]...); !tensor.SameShape(g.InputShape(0), want) {
				t.Errorf("input shape %v, want %v", g.InputShape(0), want)
			}
			if md := g.Metadata(); md["name"] != c.name || md["producer"] != Producer {
				t.Errorf("metadata %v, want name %q and producer %q", md, c.name, Producer)
			}
			x := randomInput(c.input, uint64(200+i))
			out, err := g.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			d := maxDiff(t, out[0], logits(t, m, x))
			t.Logf("max |imported − convnet| = %g over %v", d, out[0].Shape())
			if d != 0 {
				t.Errorf("imported logits differ from convnet's by %g, want identical", d)
			}
		})
	}
}

// TestRunErrors checks Run's errors on inputs that do not fit the graph.
func TestRunErrors(t *testing.T) {
	path, _ := writeExport(t, exportCases[0])
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   []*tensor.Tensor
		want string
	}{
		{"no inputs", nil, `takes 1 inputs ["input"], got 0`},
		{"nil", []*tensor.Tensor{nil}, `input "input" is nil`},
		{"wrong size", []*tensor.Tensor{tensor.Zeros(1, 28, 27, 1)}, `input "input" has shape [1 28 27 1], the model declares [N 28 28 1]`},
		{"wrong rank", []*tensor.Tensor{tensor.Zeros(28, 28, 1)}, `has shape [28 28 1]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := g.Run(c.in...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// model builds a one-graph ModelProto for the decoder tests.
func model(opset int64, nodes []*nodeProto, inits []*tensorProto, inputs ...string) []byte {
	g := &graphProto{name: "g", nodes: nodes, initializers: inits}
	for _, in := range inputs {
		g.inputs = append(g.inputs, &valueInfoProto{name: in, elem: dtFloat})
	}
	if len(nodes) > 0 {
		g.outputs = []*valueInfoProto{{name: nodes[len(nodes)-1].outputs[0], elem: dtFloat}}
	}
	m := &modelProto{irVersion: 7, graph: g, opsets: []opsetProto{{version: opset}}}
	return m.marshal()
}

// TestDecodeErrors checks that malformed and unsupported models give
// errors naming what was received, and unsupported ones wrap
// errUnsupported with the node, op and attribute.
func TestDecodeErrors(t *testing.T) {
	relu := &nodeProto{opType: "Relu", name: "r", inputs: []string{"x"}, outputs: []string{"y"}}
	cases := []struct {
		name        string
		file        []byte
		want        string
		unsupported bool
	}{
		{"empty", nil, "the model has no graph", false},
		{"garbage", []byte{0xff, 0xff, 0xff}, "not a valid ONNX model", false},
		{"opset 19", model(19, []*nodeProto{relu}, nil, "x"), "ai.onnx opset 19, want 1 to 18", false},
		{"unknown op", model(13, []*nodeProto{{opType: "NonMaxSuppression", name: "nms", inputs: []string{"x"}, outputs: []string{"y"}}}, nil, "x"),
			`node "nms" (NonMaxSuppression): not supported: op NonMaxSuppression`, true},
		{"unknown attribute", model(13, []*nodeProto{{opType: "Relu", name: "r", inputs: []string{"x"}, outputs: []string{"y"},
			attrs: []*attrProto{{name: "slope", typ: atFloat, f: 1}}}}, nil, "x"),
			`node "r" (Relu): attribute "slope": not supported`, true},
		{"bad auto_pad", model(13, []*nodeProto{{opType: "Conv", name: "c", inputs: []string{"x", "w"}, outputs: []string{"y"},
			attrs: []*attrProto{{name: "auto_pad", typ: atString, s: []byte("SAME")}}}}, nil, "x", "w"),
			`node "c" (Conv): attribute "auto_pad": "SAME", want NOTSET, SAME_UPPER, SAME_LOWER or VALID`, false},
		{"dangling input", model(13, []*nodeProto{{opType: "Relu", name: "r", inputs: []string{"z"}, outputs: []string{"y"}}}, nil, "x"),
			`input "z" is not produced`, false},
		{"forged dims", model(13, []*nodeProto{relu}, []*tensorProto{{name: "w", dataType: dtFloat, dims: []int64{1 << 20, 1 << 20}, floats: []float32{1}}}, "x"),
			`tensor "w": dims [1048576 1048576] hold more than`, false},
		{"short data", model(13, []*nodeProto{relu}, []*tensorProto{{name: "w", dataType: dtFloat, dims: []int64{3}, floats: []float32{1}}}, "x"),
			`tensor "w": dims [3] of FLOAT need 12 raw bytes, got 4`, false},
		{"string tensor", model(13, []*nodeProto{relu}, []*tensorProto{{name: "w", dataType: dtString}}, "x"),
			`tensor "w" has element type STRING`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.file)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if errors.Is(err, errUnsupported) != c.unsupported {
				t.Errorf("errors.Is(err, errUnsupported) = %v, want %v", !c.unsupported, c.unsupported)
			}
		})
	}
}

// FuzzDecode feeds arbitrary bytes to Decode and, when a model loads, runs
// it on a small input: neither may panic.
func FuzzDecode(f *testing.F) {
	for _, c := range exportCases[1:] {
		m := c.model(&testing.T{})
		b, err := Export(m, ExportOptions{InputShape: c.input[1:]})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	relu := &nodeProto{opType: "Relu", name: "r", inputs: []string{"x"}, outputs: []string{"y"}}
	f.Add(model(13, []*nodeProto{relu}, nil, "x"))
	f.Add(model(13, []*nodeProto{{opType: "Reshape", inputs: []string{"x", "s"}, outputs: []string{"y"}}},
		[]*tensorProto{{name: "s", dataType: dtInt64, dims: []int64{2}, ints: []int64{-1, 2}}}, "x"))
	maxRunElems, maxRunWork = 1<<16, 1<<22
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		feeds := map[string]value{}
		for _, in := range m.inputs {
			shape := []int{}
			for _, d := range in.dims {
				shape = append(shape, int(min(max(d.value, 1), 4)))
			}
			feeds[in.name] = floatValue(tensor.Zeros(shape...))
		}
		m.run(feeds) // errors are fine; panics are not
	})
}
