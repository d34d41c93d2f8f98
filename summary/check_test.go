package summary

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeRun makes a log directory with a root run (hparams), and a train
// run with a scalar, an image and a graph.
func writeRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewWriter(filepath.Join(dir, "train"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		root.HParamsSessionStart([]HParam{{"lr", 0.5}}, time.Unix(1, 0)),
		root.HParamsSessionEnd(StatusSuccess, time.Unix(2, 0)),
		tr.Scalar("loss", 1, 2.5), tr.Scalar("loss", 7, 0.25),
		tr.Image("pic", 7, image.NewGray(image.Rect(0, 0, 3, 2))),
		tr.Graph(&GraphDef{Nodes: []NodeDef{{Name: "a", Op: "Const"}, {Name: "s/b", Op: "Relu", Inputs: []string{"a"},
			Attr: map[string]AttrValue{"_output_shapes": {Kind: AttrShapes, Shapes: [][]int64{{-1, 4}}}}}}}),
		root.Close(), tr.Close(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadRunAndReport(t *testing.T) {
	dir := writeRun(t)
	files, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Run != "." || files[1].Run != "train" {
		t.Fatalf("files %+v", files)
	}
	var out bytes.Buffer
	if err := Report(&out, files); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"session start: lr=0.5", "session end: success",
		"scalar     loss", "2× steps 1…7  last 0.25",
		"image      pic", "3×2 PNG, colorspace 1",
		"graph      2 nodes", "s/b  Relu  a  [-1,4]",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	paths, err := SaveLastImages(files, filepath.Join(t.TempDir(), "png"))
	if err != nil || len(paths) != 2 || filepath.Base(paths[0]) != "train_pic.png" || filepath.Base(paths[1]) != "train_graph.png" {
		t.Fatalf("saved %v, %v", paths, err)
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil || c.Width == 0 {
			t.Errorf("%s: %v %+v", p, err, c)
		}
	}
}

// TestReportFindsProblems forges a wrong image size, a broken PNG and a
// graph input that names no node.
func TestReportFindsProblems(t *testing.T) {
	png := func(w, h int32, enc []byte) RunFile {
		return RunFile{Path: "f", Run: "r", Events: []Event{{Step: 1, Values: []Value{{Tag: "i", Kind: KindImage,
			Image: &Image{Width: w, Height: h, Colorspace: 1, Encoded: enc}}}}}}
	}
	var good bytes.Buffer
	w, _ := NewWriter(t.TempDir())
	w.Image("i", 1, image.NewGray(image.Rect(0, 0, 4, 4)))
	w.Close()
	ev, _ := ReadFile(w.Path())
	good.Write(ev[1].Values[0].Image.Encoded)
	tests := []struct {
		name string
		f    RunFile
		want string
	}{
		{"wrong size", png(5, 4, good.Bytes()), "PNG is 4×4 but the summary says 5×4"},
		{"not a PNG", png(4, 4, []byte("GIF89a")), "PNG does not decode"},
		{"dangling input", RunFile{Path: "f", Events: []Event{{Graph: &GraphDef{Nodes: []NodeDef{{Name: "x", Op: "Relu", Inputs: []string{"^y:1"}}}}}}}, `reads "^y:1"`},
		{"bad hparams", RunFile{Path: "f", Events: []Event{{Values: []Value{{Tag: "h", Kind: KindTensor,
			Metadata: &Metadata{PluginName: PluginHParams, Content: []byte{0x1a, 0x05}}}}}}}, "hparams"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Report(&out, []RunFile{tc.f})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestReadRunErrors(t *testing.T) {
	empty := t.TempDir()
	corrupt := writeRun(t)
	paths, _ := filepath.Glob(filepath.Join(corrupt, "train", "events.out.tfevents.*"))
	b, _ := os.ReadFile(paths[0])
	b[len(b)-20] ^= 0xff
	os.WriteFile(paths[0], b, 0o644)
	file := filepath.Join(empty, "x")
	os.WriteFile(file, nil, 0o644)
	// A sparse file one byte over the limit: refused before it is read.
	huge := writeRun(t)
	big, _ := filepath.Glob(filepath.Join(huge, "train", "events.out.tfevents.*"))
	if err := os.Truncate(big[0], MaxEventFileSize+1); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, dir, want string }{
		{"missing", filepath.Join(empty, "nope"), "no such file"},
		{"no events", empty, "no event files"},
		{"a file", file, "not a directory"},
		{"corrupt", corrupt, "CRC mismatch"},
		{"too large", huge, "more than the 1073741824 this reader accepts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadRun(tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestGraphImageLayout draws a three-scope graph with one edge that skips
// a scope and checks the layout's sizes and colours.
func TestGraphImageLayout(t *testing.T) {
	shape := map[string]AttrValue{"_output_shapes": {Kind: AttrShapes, Shapes: [][]int64{{-1, 3}}}}
	g := &GraphDef{Nodes: []NodeDef{
		{Name: "a/x", Op: "Placeholder", Attr: shape},
		{Name: "b/w", Op: "VariableV2"},
		{Name: "b/MatMul", Op: "MatMul", Inputs: []string{"a/x", "b/w"}, Attr: shape},
		{Name: "c/Add", Op: "AddV2", Inputs: []string{"b/MatMul", "a/x:0"}, Attr: shape},
		{Name: "c/step", Op: "NoOp", Inputs: []string{"^a/x"}},
	}}
	img := GraphImage(g)
	// Three boxes, two gaps; one long edge (a → c) takes one lane.
	if b := img.Bounds(); b.Dx() != 2*gMargin+gBoxW+2*gLane || b.Dy() != 2*gMargin+3*gBoxH+2*gGap {
		t.Fatalf("size %v", b)
	}
	top := func(i int) int { return gMargin + i*(gBoxH+gGap) }
	edge := color.RGBA{R: 120, G: 120, B: 120, A: 255}
	tests := []struct {
		name string
		x, y int
		want color.RGBA
	}{
		{"box b fill", gMargin + gBoxW - 3, top(1) + gBoxH - 3, color.RGBA{R: 255, G: 236, B: 179, A: 255}},
		{"box c border", gMargin, top(2) + 5, color.RGBA{R: 90, G: 90, B: 90, A: 255}},
		{"a → b arrow", gMargin + gBoxW/2, top(0) + gBoxH + 2, edge},
		{"b → c arrow", gMargin + gBoxW/2, top(1) + gBoxH + 2, edge},
		{"a → c lane", gMargin + gBoxW + gLane, top(1) + gBoxH/2, edge},
		{"no second lane", gMargin + gBoxW + 2*gLane - 1, top(1) + gBoxH/2, color.RGBA{R: 255, G: 255, B: 255, A: 255}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := img.RGBAAt(tc.x, tc.y); got != tc.want {
				t.Errorf("pixel (%d, %d) is %v, want %v", tc.x, tc.y, got, tc.want)
			}
		})
	}
}

// TestGraphImageBounded draws a forged graph of 10,000 scopes, each read
// by the last: the picture keeps to its bounds.
func TestGraphImageBounded(t *testing.T) {
	g := &GraphDef{}
	var all []string
	for i := range 10000 {
		name := fmt.Sprintf("scope%d/n", i)
		g.Nodes = append(g.Nodes, NodeDef{Name: name, Op: "Relu"})
		all = append(all, name)
	}
	g.Nodes = append(g.Nodes, NodeDef{Name: "last/sink", Op: "AddN", Inputs: all})
	b := GraphImage(g).Bounds()
	if b.Dx() > 2*gMargin+gBoxW+(gMaxLanes+1)*gLane || b.Dy() > 2*gMargin+gMaxScopes*(gBoxH+gGap) {
		t.Errorf("picture of a huge graph is %v", b)
	}
	if b := GraphImage(&GraphDef{}).Bounds(); b.Dx() == 0 || b.Dy() == 0 {
		t.Errorf("empty graph gives %v", b)
	}
}
