package train

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/summary"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// graphListing prints one line per node: name, op, inputs and output
// shapes, the form of testdata/lecture_graph.txt.
func graphListing(g *summary.GraphDef) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d nodes: name  op  inputs  _output_shapes\n", len(g.Nodes))
	for _, n := range g.Nodes {
		in := strings.Join(n.Inputs, ",")
		if in == "" {
			in = "-"
		}
		shapes := "-"
		if a, ok := n.Attr["_output_shapes"]; ok {
			shapes = a.String()
		}
		fmt.Fprintf(&b, "%s  %s  %s  %s\n", n.Name, n.Op, in, shapes)
	}
	return b.String()
}

// TestLectureGraphGolden compares the lecture model's graph, node by
// node, with testdata/lecture_graph.txt (go test -run LectureGraph
// -update rewrites it).
func TestLectureGraphGolden(t *testing.T) {
	m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout})
	if err != nil {
		t.Fatal(err)
	}
	g, err := ModelGraph(m, []int{models.ImageSize, models.ImageSize, 1}, "adam")
	if err != nil {
		t.Fatal(err)
	}
	got := graphListing(g)
	path := filepath.Join("testdata", "lecture_graph.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var a, b string
			if i < len(gl) {
				a = gl[i]
			}
			if i < len(wl) {
				b = wl[i]
			}
			if a != b {
				t.Fatalf("line %d of the listing:\n got %s\nwant %s", i+1, a, b)
			}
		}
	}
}

// TestLectureGraphStructure checks what TensorBoard needs of the lecture
// graph, independently of the golden file: the lecture's scopes, inputs
// that name existing nodes, T and _output_shapes on every op, and the
// shapes of the layer outputs as models.NewConvNet documents them.
func TestLectureGraphStructure(t *testing.T) {
	m, err := models.NewConvNet(models.ConvNetConfig{DropoutRate: models.LectureDropout})
	if err != nil {
		t.Fatal(err)
	}
	g, err := ModelGraph(m, []int{28, 28, 1}, "adam")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]summary.NodeDef{}
	scopes := map[string]bool{}
	for _, n := range g.Nodes {
		if _, dup := byName[n.Name]; dup {
			t.Errorf("two nodes are named %s", n.Name)
		}
		byName[n.Name] = n
		scopes[strings.SplitN(n.Name, "/", 2)[0]] = true
		if _, ok := n.Attr["_output_shapes"]; !ok && n.Op != "NoOp" {
			t.Errorf("%s (%s) has no _output_shapes", n.Name, n.Op)
		}
		_, hasT := n.Attr["T"]
		_, hasDtype := n.Attr["dtype"]
		_, hasCast := n.Attr["SrcT"]
		_, hasTin := n.Attr["Tin"]
		if !hasT && !hasDtype && !hasCast && !hasTin && n.Op != "NoOp" {
			t.Errorf("%s (%s) has neither T nor dtype", n.Name, n.Op)
		}
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			src := strings.TrimPrefix(in, "^")
			if i := strings.LastIndexByte(src, ':'); i > 0 {
				src = src[:i]
			}
			if _, ok := byName[src]; !ok {
				t.Errorf("%s reads %q, which is not a node", n.Name, in)
			}
		}
	}
	for _, s := range []string{"data", "conv1", "pool1", "conv2", "pool2", "flatten", "fc", "dropout", "logits", "loss", "predict", "optimizer"} {
		if !scopes[s] {
			t.Errorf("no node in scope %s", s)
		}
	}
	tests := []struct {
		name, op, shape string
		inputs          []string
	}{
		{"conv1/Conv2D", "Conv2D", "[-1,28,28,32]", []string{"data/images", "conv1/kernel"}},
		{"conv1/BiasAdd", "BiasAdd", "[-1,28,28,32]", []string{"conv1/Conv2D", "conv1/bias"}},
		{"conv1/Relu", "Relu", "[-1,28,28,32]", []string{"conv1/BiasAdd"}},
		{"pool1/MaxPool", "MaxPool", "[-1,14,14,32]", []string{"conv1/Relu"}},
		{"conv2/Relu", "Relu", "[-1,14,14,64]", []string{"conv2/BiasAdd"}},
		{"pool2/MaxPool", "MaxPool", "[-1,7,7,64]", []string{"conv2/Relu"}},
		{"flatten/Reshape", "Reshape", "[-1,3136]", []string{"pool2/MaxPool", "flatten/Reshape/shape"}},
		{"fc/MatMul", "MatMul", "[-1,1024]", []string{"flatten/Reshape", "fc/kernel"}},
		{"fc/Relu", "Relu", "[-1,1024]", []string{"fc/BiasAdd"}},
		{"logits/BiasAdd", "BiasAdd", "[-1,10]", []string{"logits/MatMul", "logits/bias"}},
		{"conv2/kernel", "VariableV2", "[5,5,32,64]", nil},
		{"loss/SparseSoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits", "[-1] [-1,10]", []string{"logits/BiasAdd", "data/labels"}},
		{"loss/Mean", "Mean", "[]", []string{"loss/SparseSoftmaxCrossEntropyWithLogits", "loss/Const"}},
		{"predict/accuracy", "Mean", "[]", []string{"predict/Cast", "predict/Const"}},
		{"optimizer/Adam/update_conv1/kernel/ApplyAdam", "ApplyAdam", "[5,5,1,32]", []string{"conv1/kernel", "conv1/kernel/Adam", "conv1/kernel/Adam_1",
			"optimizer/beta1_power", "optimizer/beta2_power", "optimizer/Adam/learning_rate", "optimizer/Adam/beta1", "optimizer/Adam/beta2", "optimizer/Adam/epsilon", "optimizer/gradients"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := byName[tc.name]
			if !ok {
				t.Fatal("missing")
			}
			if n.Op != tc.op || n.Attr["_output_shapes"].String() != tc.shape || strings.Join(n.Inputs, ",") != strings.Join(tc.inputs, ",") {
				t.Errorf("got op %s, shapes %s, inputs %v; want %s, %s, %v", n.Op, n.Attr["_output_shapes"], n.Inputs, tc.op, tc.shape, tc.inputs)
			}
		})
	}
	if a := byName["pool1/MaxPool"].Attr; a["ksize"].String() != "[1,2,2,1]" || a["strides"].String() != "[1,2,2,1]" || a["padding"].S != "VALID" {
		t.Errorf("pool1 attrs %v", a)
	}
	if a := byName["conv2/Conv2D"].Attr; a["strides"].String() != "[1,1,1,1]" || a["padding"].S != "SAME" {
		t.Errorf("conv2 attrs %v", a)
	}
	if u := byName["optimizer/Adam"]; u.Op != "NoOp" || len(u.Inputs) != len(m.Variables()) {
		t.Errorf("optimizer/Adam is %s with inputs %v", u.Op, u.Inputs)
	}
	if in := byName["optimizer/Adam/update_logits/bias/ApplyAdam"].Inputs; in[len(in)-1] != "optimizer/gradients:7" {
		t.Errorf("the last update reads %v, want gradient output 7", in)
	}
}

// TestModelGraphAnyModel traces other layer stacks and optimizers.
func TestModelGraphAnyModel(t *testing.T) {
	avg := layers.NewAveragePooling2D("avg", layers.PoolConfig{PoolSize: []int{2}, Padding: "SAME"})
	conv := layers.NewConv2D("c", layers.Conv2DConfig{Filters: 3, KernelSize: []int{3}, Strides: []int{2}, Activation: autograd.Tanh})
	dense := layers.NewDense("out", layers.DenseConfig{Units: 4, Activation: autograd.Sigmoid})
	m := layers.NewSequential(conv, avg, layers.NewFlatten("flat"), layers.NewDropout("off", 0, 1), dense)
	tests := []struct {
		opt   string
		nodes []string // nodes that must exist, with their op
	}{
		{"sgd", []string{"c/Conv2D Conv2D", "c/BiasAdd BiasAdd", "c/Tanh Tanh", "avg/AvgPool AvgPool", "out/Sigmoid Sigmoid",
			"optimizer/GradientDescent/update_c/kernel/ApplyGradientDescent ApplyGradientDescent", "optimizer/GradientDescent NoOp"}},
		{"momentum", []string{"c/kernel/Momentum VariableV2", "optimizer/Momentum/update_out/bias/ApplyMomentum ApplyMomentum"}},
		{"rmsprop", []string{"c/kernel/RMSProp_1 VariableV2", "optimizer/RMSProp NoOp"}},
		{"", []string{"loss/Mean Mean", "predict/accuracy Mean"}},
	}
	for _, tc := range tests {
		t.Run("opt="+tc.opt, func(t *testing.T) {
			g, err := ModelGraph(m, []int{9, 9, 2}, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, n := range g.Nodes {
				have[n.Name+" "+n.Op] = true
				if n.Name == "c/Conv2D" && (n.Attr["strides"].String() != "[1,2,2,1]" || n.Attr["_output_shapes"].String() != "[-1,4,4,3]") {
					t.Errorf("c/Conv2D attrs %v", n.Attr)
				}
				if strings.HasPrefix(n.Name, "off/") {
					t.Errorf("dropout with rate 0 drew node %s", n.Name)
				}
				if n.Name == "out/MatMul" && n.Inputs[0] != "flat/Reshape" {
					t.Errorf("out/MatMul reads %v, want flat/Reshape first", n.Inputs)
				}
				if tc.opt == "" && strings.HasPrefix(n.Name, "optimizer") {
					t.Errorf("node %s without an optimizer", n.Name)
				}
			}
			for _, want := range tc.nodes {
				if !have[want] {
					t.Errorf("no node %q", want)
				}
			}
		})
	}
}

// TestModelGraphErrors checks that bad models and settings are errors
// naming the problem.
func TestModelGraphErrors(t *testing.T) {
	conv := func() *layers.Sequential {
		return layers.NewSequential(layers.NewConv2D("c", layers.Conv2DConfig{Filters: 2, KernelSize: []int{3}}))
	}
	tests := []struct {
		name  string
		m     *layers.Sequential
		shape []int
		opt   string
		want  string
	}{
		{"no layers", layers.NewSequential(), []int{4, 4, 1}, "", "no layers"},
		{"zero dim", conv(), []int{0, 4, 1}, "", "below 1"},
		{"too small", conv(), []int{1, 1, 1}, "", "layer c"}, // (1 − 3 + 1) < 0: TF refuses it too
		{"bad optimizer", layers.NewSequential(layers.NewFlatten("f")), []int{3, 1}, "lbfgs", "lbfgs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ModelGraph(tc.m, tc.shape, tc.opt)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
