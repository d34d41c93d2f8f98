package train

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"path/filepath"

	"github.com/convnet-go/convnet/internal/atomicfile"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// CurvesFile is the plot the loop writes into the log directory after
// every epoch.
const CurvesFile = "curves.png"

// Curve colours: training blue, validation orange.
var (
	trainColor = color.RGBA{31, 119, 180, 255}
	valColor   = color.RGBA{255, 127, 14, 255}
)

// Curves draws two panels side by side, loss and accuracy against the
// epoch, each with the training curve (blue) and the validation curve
// (orange), axes scaled to the values' range.
func Curves(history []EpochMetrics) *image.RGBA {
	const pw, ph, gap = 360, 260, 20
	img := image.NewRGBA(image.Rect(0, 0, 2*pw+3*gap, ph+2*gap))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	pick := func(f func(EpochMetrics) float64) []float64 {
		v := make([]float64, len(history))
		for i, m := range history {
			v[i] = f(m)
		}
		return v
	}
	hasVal := false
	for _, m := range history {
		hasVal = hasVal || m.ValLoss != 0 || m.ValAccuracy != 0
	}
	panel := func(x0 int, title string, train, val []float64) {
		r := image.Rect(x0, gap, x0+pw, gap+ph)
		series := [][]float64{train}
		if hasVal {
			series = append(series, val)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range series {
			for _, v := range s {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
		if !(hi > lo) {
			lo, hi = lo-0.5, lo+0.5
		}
		if math.IsInf(lo, 0) {
			lo, hi = 0, 1
		}
		pad := (hi - lo) * 0.05
		lo, hi = lo-pad, hi+pad
		plot := image.Rect(r.Min.X+50, r.Min.Y+18, r.Max.X-8, r.Max.Y-22)
		frame(img, plot, color.Gray{160})
		label(img, r.Min.X+50, r.Min.Y+12, title, color.Black)
		label(img, r.Min.X, plot.Min.Y+10, fmt.Sprintf("%.4g", hi), color.Gray{90})
		label(img, r.Min.X, plot.Max.Y, fmt.Sprintf("%.4g", lo), color.Gray{90})
		label(img, plot.Min.X, r.Max.Y-6, "epoch 1", color.Gray{90})
		label(img, plot.Max.X-60, r.Max.Y-6, fmt.Sprintf("epoch %d", len(history)), color.Gray{90})
		label(img, plot.Max.X-110, plot.Min.Y+14, "train", trainColor)
		if hasVal {
			label(img, plot.Max.X-60, plot.Min.Y+14, "val", valColor)
		}
		for k, s := range series {
			c := trainColor
			if k == 1 {
				c = valColor
			}
			pt := func(i int) (float64, float64) {
				x := float64(plot.Min.X)
				if len(s) > 1 {
					x += float64(i) / float64(len(s)-1) * float64(plot.Dx()-1)
				} else {
					x += float64(plot.Dx()) / 2
				}
				y := float64(plot.Max.Y-1) - (s[i]-lo)/(hi-lo)*float64(plot.Dy()-1)
				return x, y
			}
			for i := range s {
				x, y := pt(i)
				dot(img, int(x), int(y), c)
				if i > 0 {
					px, py := pt(i - 1)
					line(img, px, py, x, y, c)
				}
			}
		}
	}
	panel(gap, "loss", pick(func(m EpochMetrics) float64 { return m.TrainLoss }), pick(func(m EpochMetrics) float64 { return m.ValLoss }))
	panel(2*gap+pw, "accuracy", pick(func(m EpochMetrics) float64 { return m.TrainAccuracy }), pick(func(m EpochMetrics) float64 { return m.ValAccuracy }))
	return img
}

func frame(img *image.RGBA, r image.Rectangle, c color.Color) {
	for x := r.Min.X; x < r.Max.X; x++ {
		img.Set(x, r.Min.Y, c)
		img.Set(x, r.Max.Y-1, c)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.Set(r.Min.X, y, c)
		img.Set(r.Max.X-1, y, c)
	}
}

func dot(img *image.RGBA, x, y int, c color.Color) {
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			if dx*dx+dy*dy <= 4 {
				img.Set(x+dx, y+dy, c)
			}
		}
	}
}

func line(img *image.RGBA, x0, y0, x1, y1 float64, c color.Color) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for i := 0; i <= n; i++ {
		f := float64(i) / float64(n)
		x, y := int(x0+(x1-x0)*f), int(y0+(y1-y0)*f)
		img.Set(x, y, c)
		img.Set(x, y+1, c)
	}
}

func label(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// writeCurves writes curves.png of the run so far into the log directory.
func (t *trainer) writeCurves() error {
	if t.cfg.LogDir == "" || len(t.history) == 0 {
		return nil
	}
	img := Curves(t.history)
	return atomicfile.Write(filepath.Join(t.cfg.LogDir, CurvesFile), func(f io.Writer) error { return png.Encode(f, img) })
}
