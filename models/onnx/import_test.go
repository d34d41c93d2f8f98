package onnx

import (
	"errors"
	"os"
	"path/filepath"
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
		{"vendor op", model(13, []*nodeProto{{opType: "FusedConv", domain: "com.microsoft", name: "fc", inputs: []string{"x"}, outputs: []string{"y"}}}, nil, "x"),
			`node "fc" (FusedConv): not supported: op domain "com.microsoft"`, true},
		{"unknown op", model(13, []*nodeProto{{opType: "NonMaxSuppression", name: "nms", inputs: []string{"x"}, outputs: []string{"y"}}}, nil, "x"),
			`node "nms" (NonMaxSuppression): not supported: op NonMaxSuppression`, true},
		{"unknown attribute", model(13, []*nodeProto{{opType: "Relu", name: "r", inputs: []string{"x"}, outputs: []string{"y"},
			attrs: []*attrProto{{name: "slope", typ: atFloat, f: 1}}}}, nil, "x"),
			`node "r" (Relu): attribute "slope": not supported`, true},
		{"bad auto_pad", model(13, []*nodeProto{{opType: "Conv", name: "c", inputs: []string{"x", "w"}, outputs: []string{"y"},
			attrs: []*attrProto{{name: "auto_pad", typ: atString, s: []byte("SAME")}}}}, nil, "x", "w"),
			`node "c" (Conv): attribute "auto_pad": "SAME", want NOTSET, SAME_UPPER, SAME_LOWER or VALID`, false},
		{"attribute become input", model(13, []*nodeProto{{opType: "Squeeze", name: "sq", inputs: []string{"x"}, outputs: []string{"y"},
			attrs: []*attrProto{iattrs("axes", 0)}}}, nil, "x"),
			`node "sq" (Squeeze): attribute "axes": is an input from opset 13 on (the model's opset is 13)`, false},
		{"input before its opset", model(10, []*nodeProto{{opType: "Clip", name: "cl", inputs: []string{"x", "x"}, outputs: []string{"y"}}}, nil, "x"),
			`node "cl" (Clip): 2 inputs at opset 10; [min max] are attributes before opset 11`, false},
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
	// Models from elsewhere: the PyTorch ResNet and, when installed, some
	// of ONNX's node tests.
	seeds := []string{filepath.Join("testdata", "torch", "resnet_bn.onnx")}
	for _, n := range []string{"test_basic_conv_with_padding", "test_maxpool_2d_pads", "test_reshape_negative_dim",
		"test_gather_0", "test_convtranspose_pads", "test_batchnorm_example", "test_gemm_all_attributes", "test_edge_pad"} {
		seeds = append(seeds, filepath.Join(nodeTestDir, n, "model.onnx"))
	}
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	relu := &nodeProto{opType: "Relu", name: "r", inputs: []string{"x"}, outputs: []string{"y"}}
	f.Add(model(13, []*nodeProto{relu}, nil, "x"))
	f.Add(model(13, []*nodeProto{{opType: "Reshape", inputs: []string{"x", "s"}, outputs: []string{"y"}}},
		[]*tensorProto{{name: "s", dataType: dtInt64, dims: []int64{2}, ints: []int64{-1, 2}}}, "x"))
	elems, work := maxRunElems, maxRunWork
	f.Cleanup(func() { maxRunElems, maxRunWork = elems, work })
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

// TestFuseRelu checks which Conv/Gemm nodes take over the following Relu:
// only those whose output the Relu alone reads.
func TestFuseRelu(t *testing.T) {
	w := floatInit("w", 1, 2, 1, 3, 3)
	conv := &nodeProto{opType: "Conv", name: "conv", inputs: []string{"x", "w"}, outputs: []string{"c"},
		attrs: []*attrProto{iattrs("pads", 1, 1, 1, 1)}}
	relu := &nodeProto{opType: "Relu", name: "relu", inputs: []string{"c"}, outputs: []string{"r"}}
	add := &nodeProto{opType: "Add", name: "add", inputs: []string{"r", "c"}, outputs: []string{"y"}}
	x := randomInput([]int{1, 1, 5, 5}, 9)
	x.Data()[0] = -3 // some negative conv outputs either way
	for _, c := range []struct {
		name  string
		nodes []*nodeProto
		fused bool
	}{
		{"relu alone reads conv", []*nodeProto{conv, relu}, true},
		{"add reads conv too", []*nodeProto{conv, relu, add}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(model(13, c.nodes, []*tensorProto{w}, "x"))
			if err != nil {
				t.Fatal(err)
			}
			if m.nodes[0].fuseRelu != c.fused || m.nodes[1].passThrough != c.fused {
				t.Fatalf("conv fuseRelu %v, relu passThrough %v; want both %v", m.nodes[0].fuseRelu, m.nodes[1].passThrough, c.fused)
			}
			out, err := m.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			// The reference: the same graph with the fusion undone.
			m.nodes[0].fuseRelu, m.nodes[1].passThrough = false, false
			ref, err := m.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(t, out[0], ref[0]); d != 0 {
				t.Errorf("fused result differs from unfused by %g", d)
			}
		})
	}
}

// TestRunConcurrent runs one Model from several goroutines: each result
// must equal a lone run's.
func TestRunConcurrent(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch", "resnet_bn.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	inputs := make([]*tensor.Tensor, 4)
	want := make([]*tensor.Tensor, len(inputs))
	for i := range inputs {
		inputs[i] = randomInput([]int{2, 3, 16, 16}, uint64(400+i))
		out, err := m.Run(inputs[i])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out[0]
	}
	got := make([]*tensor.Tensor, len(inputs))
	errs := make([]error, len(inputs))
	done := make(chan int)
	for i := range inputs {
		go func() {
			out, err := m.Run(inputs[i])
			if err == nil {
				got[i] = out[0]
			}
			errs[i] = err
			done <- i
		}()
	}
	for range inputs {
		<-done
	}
	for i := range inputs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if d := maxDiff(t, got[i], want[i]); d != 0 {
			t.Errorf("run %d differs from its lone run by %g", i, d)
		}
	}
}

// TestDecodeIgnoresUnusedDomains loads a model that imports ai.onnx.ml
// beside ai.onnx but uses only ai.onnx ops.
func TestDecodeIgnoresUnusedDomains(t *testing.T) {
	relu := &nodeProto{opType: "Relu", name: "r", inputs: []string{"x"}, outputs: []string{"y"}}
	mp, err := decodeModel(model(13, []*nodeProto{relu}, nil, "x"))
	if err != nil {
		t.Fatal(err)
	}
	mp.opsets = append([]opsetProto{{domain: "ai.onnx.ml", version: 3}}, mp.opsets...)
	m, err := Decode(mp.marshal())
	if err != nil {
		t.Fatal(err)
	}
	if m.Opset() != 13 {
		t.Errorf("opset %d, want 13", m.Opset())
	}
}
