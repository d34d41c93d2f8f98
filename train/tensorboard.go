package train

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strconv"
	"strings"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/convnet-go/convnet/autograd"
	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/imagefilter"
	"github.com/convnet-go/convnet/layers"
	"github.com/convnet-go/convnet/summary"
	"github.com/convnet-go/convnet/tensor"
)

// What a training run shows in TensorBoard besides its scalars:
//
//	<logdir>/train   Graphs: the model's GraphDef (ModelGraph), written when the run opens
//	<logdir>/eval    Images per epoch: confusion_matrix, misclassified,
//	                 feature_maps/conv1 and feature_maps/conv2 (test image FeatureImage)
//	<logdir>         HParams: the run's settings (RunHParams), the test and
//	                 validation accuracy of eval/ as metrics; Text: the same
//	                 settings as a table under the tag "hparams"

// FeatureImage is the index of the test image whose feature maps are drawn.
const FeatureImage = 0

// MaxMistakes is how many misclassified test images an Evaluation keeps
// for the misclassified grid.
const MaxMistakes = 24

// Mistake is a misclassified example: its index in the evaluated set,
// its label and the predicted class.
type Mistake struct {
	Index, Label, Predicted int
}

// tensorBoard holds the writer of the run's root directory (hparams and
// text) and what the pictures need.
type tensorBoard struct {
	root    *summary.Writer
	start   time.Time
	hparams []summary.HParam
}

// Metrics of the HParams tab: scalars of the eval run.
var hparamMetrics = []summary.HParamMetric{
	{Group: "eval", Tag: "accuracy", DisplayName: "test accuracy"},
	{Group: "eval", Tag: "validation_accuracy", DisplayName: "validation accuracy"},
}

// RunHParams returns the settings of a run as hyperparameters: learning
// rate, batch size, dropout rate, init, optimizer, epochs, steps per epoch
// (0: whole epochs), seed and the number of training examples.
func RunHParams(c Config, trainExamples int) []summary.HParam {
	return []summary.HParam{
		{Name: "lr", Value: c.LR},
		{Name: "batch_size", Value: c.BatchSize},
		{Name: "dropout", Value: float64(c.DropoutRate)},
		{Name: "init", Value: c.Init},
		{Name: "optimizer", Value: c.Optimizer},
		{Name: "epochs", Value: c.Epochs},
		{Name: "steps_per_epoch", Value: c.StepsPerEpoch},
		{Name: "seed", Value: strconv.FormatUint(c.Seed, 10)},
		{Name: "train_examples", Value: trainExamples},
	}
}

// hparamsTable renders hparams as a Markdown table for the Text tab.
func hparamsTable(hs []summary.HParam) string {
	var b strings.Builder
	b.WriteString("| hyperparameter | value |\n|---|---|\n")
	for _, h := range hs {
		fmt.Fprintf(&b, "| %s | %v |\n", h.Name, h.Value)
	}
	return b.String()
}

// openTensorBoard writes the graph into the train run and opens the root
// run with the hparams session start and its text table. A resumed run
// writes them again into new event files, as a restarted TF job does.
func (t *trainer) openTensorBoard() error {
	sh := t.data.Train.Shape()
	g, err := ModelGraph(t.model, []int{sh.H, sh.W, sh.C}, t.cfg.Optimizer)
	if err != nil {
		return err
	}
	if err := t.trainW.Graph(g); err != nil {
		return err
	}
	tb := &tensorBoard{start: time.Now(), hparams: RunHParams(t.cfg, t.data.Train.Len())}
	if tb.root, err = summary.NewWriter(t.cfg.LogDir); err != nil {
		return err
	}
	t.tb = tb
	return errors.Join(
		tb.root.HParamsExperiment(tb.hparams, hparamMetrics, tb.start),
		tb.root.HParamsSessionStart(tb.hparams, tb.start),
		tb.root.Text("hparams", t.step, hparamsTable(tb.hparams)),
		tb.root.Flush(),
	)
}

// finish records the session's end (the run reached its last epoch).
func (tb *tensorBoard) finish() error {
	if tb == nil {
		return nil
	}
	return errors.Join(tb.root.HParamsSessionEnd(summary.StatusSuccess, time.Now()), tb.root.Flush())
}

func (tb *tensorBoard) close() {
	if tb != nil {
		tb.root.Close()
	}
}

// writePictures writes the epoch's images into the eval run: the test
// confusion matrix, the misclassified test images and the conv1 and
// conv2 feature maps of test image FeatureImage.
func (t *trainer) writePictures(test Evaluation) error {
	s := t.data.Test
	if s == nil || s.Len() <= FeatureImage {
		return nil
	}
	w := t.evalW
	errs := []error{w.Image("confusion_matrix", t.step, ConfusionImage(test.Confusion))}
	if len(test.Mistakes) > 0 {
		img, err := MistakesGrid(s, test.Mistakes)
		errs = append(errs, err)
		if err == nil {
			errs = append(errs, w.Image("misclassified", t.step, img))
		}
	}
	// The feature maps of the image as the model sees it in training:
	// normalised when the run normalises.
	sh := s.Shape()
	px := make([]float32, sh.Size())
	if _, err := s.Example(FeatureImage, px); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if t.data.Normalize != nil {
		t.data.Normalize.Apply(px)
	}
	x, err := tensor.New([]int{1, sh.H, sh.W, sh.C}, px)
	if err != nil {
		return err
	}
	// The lecture's conv1 and conv2, where the model is a Sequential that
	// has them (a functional model's layers are not run one by one).
	seq, ok := t.model.(*layers.Sequential)
	if !ok {
		return errors.Join(errs...)
	}
	var names []string
	for _, name := range []string{"conv1", "conv2"} {
		if seq.Layer(name) != nil {
			names = append(names, name)
		}
	}
	maps, err := LayerOutputs(seq, x, names...)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, name := range names {
		img, err := FeatureMaps(maps[name])
		errs = append(errs, err)
		if err == nil {
			errs = append(errs, w.Image("feature_maps/"+name, t.step, img))
		}
	}
	return errors.Join(errs...)
}

// LayerOutputs runs m on x (dropout off) and returns copies of the
// outputs of the layers named names. Only a *layers.Sequential is run
// layer by layer; another model (a functional *layers.Model) is an error
// saying so.
func LayerOutputs(net layers.Network, x *tensor.Tensor, names ...string) (map[string]*tensor.Tensor, error) {
	m, ok := net.(*layers.Sequential)
	if !ok {
		return nil, fmt.Errorf("train: layer outputs are read from Sequential models only; model %s is a %T", net.Name(), net)
	}
	want := map[string]bool{}
	for _, n := range names {
		if m.Layer(n) == nil {
			return nil, fmt.Errorf("train: the model has no layer %q", n)
		}
		want[n] = true
	}
	out := map[string]*tensor.Tensor{}
	v := autograd.Constant(x)
	for _, l := range m.Layers() {
		if len(out) == len(want) {
			break
		}
		v = l.Call(v, layers.Context{})
		if err := v.Err(); err != nil {
			return nil, fmt.Errorf("train: layer %s: %w", l.Name(), err)
		}
		if want[l.Name()] {
			out[l.Name()] = v.Value().Clone()
		}
	}
	autograd.Release(v)
	return out, nil
}

// Layout of the pictures.
const (
	confCell     = 36 // confusion matrix cell side, room for "9999" in the 7-pixel font
	confMargin   = 24 // left and top margins holding the class labels
	charW        = 7  // basicfont.Face7x13's advance
	charAscent   = 11
	charHeight   = 13
	mapColumns   = 8  // feature maps per row
	mapMinSide   = 56 // feature maps are enlarged to at least this many pixels
	mapBorder    = 2
	mistakeScale = 2 // misclassified digits are drawn 2× (56×56)
)

// drawText writes s in black or white with its top-left corner at (x, y).
func drawText(dst draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y+charAscent)}
	d.DrawString(s)
}

// ConfusionImage draws a confusion matrix (rows true label, columns
// prediction) as a heat map: each cell's blue is its share of its row
// (white 0, dark blue 1) and holds the count; the class digits run down
// the left and along the top ("true" rows, "pred" columns). The image is
// 24 + 10·36 pixels square for 10 classes.
func ConfusionImage(c [][]int) *image.RGBA {
	n := len(c)
	side := confMargin + n*confCell + 1
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	grid := color.RGBA{R: 160, G: 160, B: 160, A: 255}
	for y := range n {
		total := 0
		for x := range n {
			total += c[y][x]
		}
		drawText(img, (confMargin-charW)/2, confMargin+y*confCell+(confCell-charHeight)/2, strconv.Itoa(y), color.Black)
		for x := range n {
			if y == 0 {
				drawText(img, confMargin+x*confCell+(confCell-charW)/2, (confMargin-charHeight)/2, strconv.Itoa(x), color.Black)
			}
			f := 0.0
			if total > 0 {
				f = float64(c[y][x]) / float64(total)
			}
			// White to dark blue (8, 48, 107), linearly in the share.
			cell := color.RGBA{R: uint8(255 - f*247), G: uint8(255 - f*207), B: uint8(255 - f*148), A: 255}
			r := image.Rect(confMargin+x*confCell, confMargin+y*confCell, confMargin+(x+1)*confCell, confMargin+(y+1)*confCell)
			draw.Draw(img, r, image.NewUniform(grid), image.Point{}, draw.Src)
			draw.Draw(img, r.Inset(1).Add(image.Pt(1, 1)).Intersect(r), image.NewUniform(cell), image.Point{}, draw.Src)
			if c[y][x] > 0 {
				txt := strconv.Itoa(c[y][x])
				ink := color.Color(color.Black)
				if f > 0.5 {
					ink = color.White
				}
				drawText(img, r.Min.X+(confCell-len(txt)*charW)/2, r.Min.Y+(confCell-charHeight)/2, txt, ink)
			}
		}
	}
	// Axis names in the top-left corner.
	drawText(img, 0, 0, "t\\p", color.Gray{Y: 90})
	return img
}

// MistakesGrid draws the misclassified images of s (28×28, white digit on
// black as MNIST stores them) enlarged 2×, six per row, each labelled
// "7 as 2": the true class, then the predicted one.
func MistakesGrid(s data.Dataset, mistakes []Mistake) (image.Image, error) {
	sh := s.Shape()
	px := make([]float32, sh.Size())
	tiles := make([]image.Image, 0, len(mistakes))
	labels := make([]string, 0, len(mistakes))
	classes := s.Classes()
	name := func(k int) string {
		if k >= 0 && k < len(classes) && classes[k] != strconv.Itoa(k) {
			return classes[k]
		}
		return strconv.Itoa(k)
	}
	for _, m := range mistakes {
		if m.Index < 0 || m.Index >= s.Len() {
			return nil, fmt.Errorf("train: misclassified example %d is outside the set of %d", m.Index, s.Len())
		}
		if _, err := s.Example(m.Index, px); err != nil {
			return nil, err
		}
		r := image.Rect(0, 0, sh.W*mistakeScale, sh.H*mistakeScale)
		var tile image.Image
		if sh.C == 1 {
			g := image.NewGray(r)
			for y := range r.Dy() {
				for x := range r.Dx() {
					g.Pix[y*g.Stride+x] = grayByte(px[(y/mistakeScale)*sh.W+x/mistakeScale])
				}
			}
			tile = g
		} else {
			c := image.NewRGBA(r)
			for y := range r.Dy() {
				for x := range r.Dx() {
					i := ((y/mistakeScale)*sh.W + x/mistakeScale) * sh.C
					o := y*c.Stride + 4*x
					c.Pix[o], c.Pix[o+1], c.Pix[o+2], c.Pix[o+3] = grayByte(px[i]), grayByte(px[i+min(1, sh.C-1)]), grayByte(px[i+min(2, sh.C-1)]), 255
				}
			}
			tile = c
		}
		tiles = append(tiles, tile)
		labels = append(labels, fmt.Sprintf("%s as %s", name(m.Label), name(m.Predicted)))
	}
	return imagefilter.Grid(nil, tiles, labels), nil
}

// grayByte maps [0, 1] to 0…255, clamping.
func grayByte(v float32) uint8 {
	return uint8(min(max(v, 0), 1)*255 + 0.5)
}

// FeatureMaps draws the C channels of one example's activations
// [1, H, W, C] (or [H, W, C]) as a grid of grayscale maps, 8 per row,
// each enlarged to at least 56 pixels and normalised on its own (its
// minimum black, its maximum white; a constant map is black), with
// 2-pixel white borders.
func FeatureMaps(t *tensor.Tensor) (*image.Gray, error) {
	if t == nil {
		return nil, errors.New("train: FeatureMaps: nil tensor")
	}
	s := t.Shape()
	if len(s) == 4 && s[0] == 1 {
		s = s[1:]
	}
	if len(s) != 3 || s[0]*s[1]*s[2] == 0 {
		return nil, fmt.Errorf("train: FeatureMaps needs activations [1, H, W, C] or [H, W, C], got %v", t.Shape())
	}
	h, w, c := s[0], s[1], s[2]
	d := t.Data()
	lo, norm := make([]float32, c), make([]float32, c)
	for k := range c {
		lo[k] = d[k]
		hi := d[k]
		for i := range h * w {
			lo[k], hi = min(lo[k], d[i*c+k]), max(hi, d[i*c+k])
		}
		if hi > lo[k] {
			norm[k] = 1 / (hi - lo[k])
		}
	}
	return channelGrid(d, h, w, c, mapColumns, max(1, (mapMinSide+h-1)/h), mapBorder, func(k int, v float32) uint8 {
		return grayByte((v - lo[k]) * norm[k])
	}), nil
}
