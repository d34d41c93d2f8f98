package onnx

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/convnet-go/convnet/npy"
	"github.com/convnet-go/convnet/tensor"
)

// opCase is a one-node graph: input "x" of the given shape, weights as
// initializers, output "y".
type opCase struct {
	name  string
	opset int64
	op    string
	x     []int
	inits []*tensorProto // inputs after x, in order ("" names leave a slot empty)
	attrs []*attrProto
}

func floatInit(name string, seed uint64, dims ...int) *tensorProto {
	t := tensor.Zeros(dims...)
	t.RandUniform(tensor.NewRand(seed), -1, 1)
	return &tensorProto{name: name, dataType: dtFloat, dims: toInt64(dims), floats: t.Data()}
}

func intInit(name string, v ...int64) *tensorProto {
	return &tensorProto{name: name, dataType: dtInt64, dims: []int64{int64(len(v))}, ints: v}
}

func iattr(name string, v int64) *attrProto     { return &attrProto{name: name, typ: atInt, i: v} }
func fattr(name string, v float32) *attrProto   { return &attrProto{name: name, typ: atFloat, f: v} }
func sattr(name, v string) *attrProto           { return &attrProto{name: name, typ: atString, s: []byte(v)} }
func iattrs(name string, v ...int64) *attrProto { return &attrProto{name: name, typ: atInts, ints: v} }
func (c opCase) model() []byte {
	n := &nodeProto{opType: c.op, name: c.name, inputs: []string{"x"}, outputs: []string{"y"}, attrs: c.attrs}
	for _, t := range c.inits {
		n.inputs = append(n.inputs, t.name)
	}
	g := &graphProto{name: c.name, nodes: []*nodeProto{n},
		inputs:  []*valueInfoProto{{name: "x", elem: dtFloat, shape: true}},
		outputs: []*valueInfoProto{{name: "y", elem: dtFloat}}}
	for _, d := range c.x {
		g.inputs[0].dims = append(g.inputs[0].dims, dimProto{value: int64(d)})
	}
	for _, t := range c.inits {
		if t.name != "" {
			g.initializers = append(g.initializers, t)
		}
	}
	m := &modelProto{irVersion: 7, producerName: "convnet-test", graph: g, opsets: []opsetProto{{version: c.opset}}}
	return m.marshal()
}

// opCases exercise what the ONNX node tests leave out: convolutions with
// strides and dilations both above 1 (run with a zero-dilated filter),
// grouped, depthwise, 1-D and 3-D convolutions, grouped transposed
// convolution with output padding, dilated ceil-mode max pooling, 3-D
// SAME_LOWER max pooling, edge padding,
// count_include_pad average pooling with ceil mode, reflect padding,
// softmax over a middle axis, Gemm with every attribute and a batched
// MatMul.
var opCases = []opCase{
	{"conv strided dilated", 13, "Conv", []int{1, 3, 11, 10}, []*tensorProto{floatInit("w", 1, 4, 3, 3, 3), floatInit("b", 2, 4)},
		[]*attrProto{iattrs("strides", 2, 2), iattrs("dilations", 2, 2), iattrs("pads", 1, 2, 2, 1)}},
	{"conv group 2", 13, "Conv", []int{2, 4, 7, 7}, []*tensorProto{floatInit("w", 3, 6, 2, 3, 3)},
		[]*attrProto{iattr("group", 2), iattrs("pads", 1, 1, 1, 1)}},
	{"conv depthwise x2 same_lower", 13, "Conv", []int{1, 3, 8, 8}, []*tensorProto{floatInit("w", 4, 6, 1, 3, 3), floatInit("b", 5, 6)},
		[]*attrProto{iattr("group", 3), iattrs("strides", 2, 1), sattr("auto_pad", "SAME_LOWER")}},
	{"conv 1d strided dilated", 13, "Conv", []int{2, 3, 12}, []*tensorProto{floatInit("w", 6, 5, 3, 4)},
		[]*attrProto{iattrs("strides", 3), iattrs("dilations", 2), iattrs("pads", 1, 1)}},
	{"conv 3d", 13, "Conv", []int{1, 2, 5, 6, 4}, []*tensorProto{floatInit("w", 7, 3, 2, 2, 3, 2), floatInit("b", 8, 3)},
		[]*attrProto{iattrs("pads", 0, 1, 1, 1, 0, 0)}},
	{"convtranspose group 2", 13, "ConvTranspose", []int{1, 4, 5, 5}, []*tensorProto{floatInit("w", 9, 4, 3, 3, 3), floatInit("b", 10, 6)},
		[]*attrProto{iattr("group", 2), iattrs("strides", 2, 2), iattrs("output_padding", 1, 0), iattrs("pads", 1, 0, 1, 1)}},
	{"convtranspose 1d dilated", 13, "ConvTranspose", []int{2, 3, 6}, []*tensorProto{floatInit("w", 11, 3, 2, 3)},
		[]*attrProto{iattrs("dilations", 2)}},
	{"maxpool dilated ceil", 13, "MaxPool", []int{1, 2, 9, 9}, nil,
		[]*attrProto{iattrs("kernel_shape", 3, 3), iattrs("strides", 2, 2), iattrs("dilations", 2, 2), iattr("ceil_mode", 1)}},
	// onnxruntime divides a ceil-mode window that reaches past the pads by
	// the whole kernel under count_include_pad; the ONNX reference and
	// PyTorch (and convnet) count only the cells inside the padded input,
	// so the two are compared apart (TestPoolByHand has that case).
	{"averagepool include pad", 13, "AveragePool", []int{1, 2, 8, 7}, nil,
		[]*attrProto{iattrs("kernel_shape", 3, 3), iattrs("strides", 2, 2), iattrs("pads", 1, 1, 1, 1), iattr("count_include_pad", 1)}},
	{"averagepool exclude pad ceil", 13, "AveragePool", []int{1, 2, 8, 7}, nil,
		[]*attrProto{iattrs("kernel_shape", 3, 3), iattrs("strides", 2, 2), iattrs("pads", 1, 1, 1, 1), iattr("ceil_mode", 1)}},
	{"averagepool same_upper", 13, "AveragePool", []int{2, 3, 7, 6}, nil,
		[]*attrProto{iattrs("kernel_shape", 2, 3), iattrs("strides", 2, 2), sattr("auto_pad", "SAME_UPPER")}},
	{"pad reflect", 13, "Pad", []int{1, 2, 4, 5}, []*tensorProto{intInit("pads", 0, 0, 1, 2, 0, 0, 2, 1)},
		[]*attrProto{sattr("mode", "reflect")}},
	{"pad edge", 13, "Pad", []int{1, 2, 3, 4}, []*tensorProto{intInit("pads", 0, 1, 5, 2, 0, 0, 7, 9)},
		[]*attrProto{sattr("mode", "edge")}},
	{"maxpool 3d same_lower", 13, "MaxPool", []int{1, 2, 5, 4, 6}, nil,
		[]*attrProto{iattrs("kernel_shape", 2, 3, 2), iattrs("strides", 2, 1, 2), sattr("auto_pad", "SAME_LOWER")}},
	{"softmax axis 1", 13, "Softmax", []int{2, 3, 4}, nil, []*attrProto{iattr("axis", 1)}},
	{"logsoftmax opset 11 coerced", 11, "LogSoftmax", []int{2, 3, 4}, nil, []*attrProto{iattr("axis", 1)}},
	{"gemm all attributes", 13, "Gemm", []int{5, 4}, []*tensorProto{floatInit("b", 12, 3, 5), floatInit("c", 13, 3)},
		[]*attrProto{iattr("transA", 1), iattr("transB", 1), fattr("alpha", 0.5), fattr("beta", -2)}},
	{"matmul batch", 13, "MatMul", []int{2, 3, 4, 5}, []*tensorProto{floatInit("b", 14, 5, 6)}, nil},
	{"batchnorm", 13, "BatchNormalization", []int{2, 3, 4, 4}, []*tensorProto{floatInit("s", 15, 3), floatInit("bias", 16, 3), floatInit("mean", 17, 3),
		{name: "var", dataType: dtFloat, dims: []int64{3}, floats: []float32{0.5, 1, 2}}}, []*attrProto{fattr("epsilon", 1e-3)}},
}

// TestOpsAgainstORT runs each opCase in convnet and in onnxruntime-web
// and compares the outputs (≤ 1e-5; the values are O(1)).
func TestOpsAgainstORT(t *testing.T) {
	ortDir, _ := filepath.Abs(filepath.Join("testdata", "ort"))
	_, statErr := os.Stat(filepath.Join(ortDir, "node_modules", "onnxruntime-web"))
	_, nodeErr := exec.LookPath("node")
	needTool(t, statErr == nil && nodeErr == nil, "node or onnxruntime-web (run npm ci in models/onnx/testdata/ort)")
	dir := t.TempDir()
	args := []string{filepath.Join(ortDir, "run.js")}
	inputs := make([]*tensor.Tensor, len(opCases))
	for i, c := range opCases {
		base := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(base+".onnx", c.model(), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs[i] = randomInput(c.x, uint64(300+i))
		if err := npy.WriteFile(base+".in.npy", inputs[i]); err != nil {
			t.Fatal(err)
		}
		args = append(args, base+".onnx", base+".in.npy", base+".out.npy")
	}
	if b, err := exec.Command("node", args...).CombinedOutput(); err != nil {
		t.Fatalf("onnxruntime-web: %v\n%s", err, b)
	}
	for i, c := range opCases {
		t.Run(c.name, func(t *testing.T) {
			base := filepath.Join(dir, fmt.Sprint(i))
			m, err := Decode(c.model())
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Run(inputs[i])
			if err != nil {
				t.Fatal(err)
			}
			want, err := npy.ReadFile(base + ".out.npy")
			if err != nil {
				t.Fatal(err)
			}
			d := maxDiff(t, got[0], want)
			t.Logf("max |convnet − onnxruntime-web| = %.3g over %v", d, want.Shape())
			if d > 1e-5 {
				t.Errorf("differs from onnxruntime-web by %g", d)
			}
		})
	}
}
