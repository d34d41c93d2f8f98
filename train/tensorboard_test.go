package train

import (
	"context"
	"image/color"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/models"
	"github.com/convnet-go/convnet/summary"
	"github.com/convnet-go/convnet/tensor"
)

// TestRunWritesTensorBoard trains one tiny epoch with logs and reads every
// event file back: the graph in train/, the pictures in eval/, and the
// hparams records and text in the log directory itself.
func TestRunWritesTensorBoard(t *testing.T) {
	dir := t.TempDir()
	c := tiny(dir)
	c.Epochs, c.LogDir = 1, dir
	data := tinyData()
	if _, err := Run(context.Background(), c, data); err != nil {
		t.Fatal(err)
	}
	files, err := summary.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string][]summary.Event{}
	for _, f := range files {
		runs[f.Run] = append(runs[f.Run], f.Events...)
	}
	if len(runs) != 3 {
		t.Fatalf("runs %v, want ., eval and train", len(runs))
	}

	m, _ := models.NewConvNet(models.ConvNetConfig{DropoutRate: c.DropoutRate})
	want, err := ModelGraph(m, []int{28, 28, 1}, "adam")
	if err != nil {
		t.Fatal(err)
	}
	var graphs []*summary.GraphDef
	for _, e := range runs["train"] {
		if e.Graph != nil {
			graphs = append(graphs, e.Graph)
		}
	}
	if len(graphs) != 1 || len(graphs[0].Nodes) != len(want.Nodes) {
		t.Fatalf("train run has %d graphs (want 1 of %d nodes)", len(graphs), len(want.Nodes))
	}
	for i, n := range graphs[0].Nodes {
		if n.Name != want.Nodes[i].Name || n.Op != want.Nodes[i].Op {
			t.Errorf("node %d is %s (%s), want %s (%s)", i, n.Name, n.Op, want.Nodes[i].Name, want.Nodes[i].Op)
		}
	}

	images := map[string]*summary.Image{}
	for _, e := range runs["eval"] {
		for _, v := range e.Values {
			if v.Kind == summary.KindImage {
				images[v.Tag] = v.Image
				if e.Step != 2 {
					t.Errorf("%s at step %d, want 2", v.Tag, e.Step)
				}
			}
		}
	}
	// Sizes from the layouts: the confusion matrix 24 + 10·36 + 1; the 16
	// random-label test images give at most 16 mistakes, 6 per row of
	// 56 + 8 pixels; conv1's 32 maps of 28 → 56 pixels, 8 per row.
	for _, tc := range []struct {
		tag  string
		w, h int32
	}{
		{"confusion_matrix", 385, 385},
		{"feature_maps/conv1", 8*58 + 2, 4*58 + 2},
		{"feature_maps/conv2", 8*58 + 2, 8*58 + 2},
	} {
		img := images[tc.tag]
		if img == nil {
			t.Errorf("no image %s (have %v)", tc.tag, images)
			continue
		}
		if img.Width != tc.w || img.Height != tc.h {
			t.Errorf("%s is %d×%d, want %d×%d", tc.tag, img.Width, img.Height, tc.w, tc.h)
		}
	}
	ev, err := Evaluate(res0(t, dir), data.Test, 16)
	if err != nil {
		t.Fatal(err)
	}
	if mis := images["misclassified"]; (len(ev.Mistakes) > 0) != (mis != nil) {
		t.Errorf("%d mistakes but misclassified image %v", len(ev.Mistakes), mis)
	}

	kinds := map[string]string{}
	for _, e := range runs["."] {
		for _, v := range e.Values {
			if v.Metadata == nil {
				t.Errorf("root value %s has no plugin", v.Tag)
				continue
			}
			kinds[v.Tag] = v.Metadata.PluginName
			switch v.Tag {
			case summary.HParamsSessionStartTag:
				d, err := summary.DecodeHParams(v.Metadata.Content)
				if err != nil || d.HParams["lr"] != DefaultLR || d.HParams["batch_size"] != 4.0 || d.HParams["optimizer"] != "adam" ||
					d.HParams["dropout"] != float64(float32(models.LectureDropout)) || d.HParams["init"] != models.InitGlorot {
					t.Errorf("session start %+v, %v", d, err)
				}
			case "hparams":
				if s := string(v.Tensor.Strings[0]); !strings.Contains(s, "| lr | 0.001 |") || !strings.Contains(s, "| optimizer | adam |") {
					t.Errorf("hparams text %q", s)
				}
			}
		}
	}
	for tag, plugin := range map[string]string{
		summary.HParamsExperimentTag: "hparams", summary.HParamsSessionStartTag: "hparams",
		summary.HParamsSessionEndTag: "hparams", "hparams": "text",
	} {
		if kinds[tag] != plugin {
			t.Errorf("root tag %s has plugin %q, want %q", tag, kinds[tag], plugin)
		}
	}
}

// res0 loads the model of the latest checkpoint in dir.
func res0(t *testing.T, dir string) layers.Network {
	t.Helper()
	m, _, _, err := LoadModel(dir + "/checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConfusionImageByHand checks cell colours and sizes of a small
// matrix: a full row share is dark blue, an empty cell white, half a row
// halfway between.
func TestConfusionImageByHand(t *testing.T) {
	c := make([][]int, models.Classes)
	for i := range c {
		c[i] = make([]int, models.Classes)
	}
	c[0][0] = 4
	c[1][1], c[1][2] = 1, 1
	img := ConfusionImage(c)
	if b := img.Bounds(); b.Dx() != 385 || b.Dy() != 385 {
		t.Fatalf("size %v", b)
	}
	// A point inside cell (row, col) away from its digits.
	at := func(row, col int) color.RGBA {
		return img.RGBAAt(confMargin+col*confCell+3, confMargin+row*confCell+3)
	}
	tests := []struct {
		name     string
		row, col int
		want     color.RGBA
	}{
		{"whole row", 0, 0, color.RGBA{8, 48, 107, 255}},
		{"empty", 0, 1, color.RGBA{255, 255, 255, 255}},
		{"empty row", 5, 5, color.RGBA{255, 255, 255, 255}},
		{"half row", 1, 2, color.RGBA{131, 151, 181, 255}}, // 255 − ½·(247, 207, 148), truncated
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := at(tc.row, tc.col); got != tc.want {
				t.Errorf("cell (%d, %d) is %v, want %v", tc.row, tc.col, got, tc.want)
			}
		})
	}
	// The count "4" is drawn in white on the dark cell: some pixel of the
	// cell's middle is white.
	white := false
	for y := confMargin + 10; y < confMargin+26; y++ {
		for x := confMargin + 12; x < confMargin+24; x++ {
			if img.RGBAAt(x, y) == (color.RGBA{255, 255, 255, 255}) {
				white = true
			}
		}
	}
	if !white {
		t.Error("no white digit in cell (0, 0)")
	}
}

// TestFeatureMapsByHand normalises two 2×2 maps by hand: each map's
// minimum is black and maximum white, a constant map is black, and each
// cell is enlarged 28× (to 56 pixels).
func TestFeatureMapsByHand(t *testing.T) {
	// [1, 2, 2, 2]: channel 0 is 0, 1, 2, 3; channel 1 is constant 5.
	x := tensor.Must(tensor.New([]int{1, 2, 2, 2}, []float32{0, 5, 1, 5, 2, 5, 3, 5}))
	img, err := FeatureMaps(x)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 2*58+2 || b.Dy() != 58+2 {
		t.Fatalf("size %v", b)
	}
	tests := []struct {
		name string
		x, y int
		want uint8
	}{
		{"map 0 min", 2, 2, 0},
		{"map 0 value 1", 2 + 28, 2, 85},
		{"map 0 value 2", 2, 2 + 28, 170},
		{"map 0 max", 2 + 55, 2 + 55, 255},
		{"border", 0, 0, 255},
		{"map 1 constant", 60 + 10, 2 + 10, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := img.GrayAt(tc.x, tc.y).Y; got != tc.want {
				t.Errorf("pixel (%d, %d) = %d, want %d", tc.x, tc.y, got, tc.want)
			}
		})
	}
	for _, bad := range []*tensor.Tensor{nil, tensor.Zeros(4, 4), tensor.Zeros(2, 3, 3, 1), tensor.Zeros(1, 0, 2, 2)} {
		if _, err := FeatureMaps(bad); err == nil {
			t.Errorf("FeatureMaps accepted %v", bad)
		}
	}
}

// TestMistakesGridAndLayerOutputs checks the misclassified grid's bounds
// checks and LayerOutputs' shapes and errors.
func TestMistakesGridAndLayerOutputs(t *testing.T) {
	s := synthetic(3, 1)
	if _, err := MistakesGrid(s, []Mistake{{Index: 3, Label: 1, Predicted: 2}}); err == nil || !strings.Contains(err.Error(), "outside the set of 3") {
		t.Errorf("out-of-range mistake: %v", err)
	}
	img, err := MistakesGrid(s, []Mistake{{Index: 0, Label: 1, Predicted: 2}, {Index: 2, Label: 3, Predicted: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 2*56+3*8 {
		t.Errorf("grid of two is %d wide, want %d", b.Dx(), 2*56+3*8)
	}
	m, _ := models.NewConvNet(models.ConvNetConfig{})
	x := tensor.Must(tensor.New([]int{1, 28, 28, 1}, s.Images[:784]))
	out, err := LayerOutputs(m, x, "conv1", "pool2")
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(out["conv1"].Shape(), []int{1, 28, 28, 32}) || !tensor.SameShape(out["pool2"].Shape(), []int{1, 7, 7, 64}) {
		t.Errorf("shapes %v %v", out["conv1"].Shape(), out["pool2"].Shape())
	}
	if _, err := LayerOutputs(m, x, "conv3"); err == nil || !strings.Contains(err.Error(), "conv3") {
		t.Errorf("unknown layer: %v", err)
	}
}

// TestMistakesGridColour checks that colour images keep their channels in
// the grid: a pure red 4×4 example fills its 8×8 tile with red, and a
// pure blue one with blue.
func TestMistakesGridColour(t *testing.T) {
	px := make([]uint8, 2*4*4*3)
	for i := 0; i < 16; i++ {
		px[3*i] = 255      // example 0: red
		px[48+3*i+2] = 255 // example 1: blue
	}
	s, err := data.NewMemory(px, []uint8{0, 1}, data.Shape{H: 4, W: 4, C: 3}, []string{"cat", "dog"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := MistakesGrid(s, []Mistake{{Index: 0, Label: 0, Predicted: 1}, {Index: 1, Label: 1, Predicted: 0}})
	if err != nil {
		t.Fatal(err)
	}
	count := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	tile := 4 * 4 * mistakeScale * mistakeScale
	for _, c := range []color.RGBA{{R: 255, A: 255}, {B: 255, A: 255}} {
		if count[c] != tile {
			t.Errorf("%d pixels of %v, want the %d of one tile", count[c], c, tile)
		}
	}
}
