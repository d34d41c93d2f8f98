package imagefilter

import (
	"fmt"
	"image"
	"image/color"
	"testing"
)

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

// darkIn counts pixels darker than mid-gray in r.
func darkIn(m image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c := color.GrayModel.Convert(m.At(x, y)).(color.Gray); c.Y < 128 {
				n++
			}
		}
	}
	return n
}

func TestGridLayout(t *testing.T) {
	red := color.NRGBA{220, 20, 20, 255}
	blue := color.NRGBA{20, 20, 220, 255}
	for _, n := range []int{0, 1, 5, 6, 9} {
		t.Run(fmt.Sprintf("%d_results", n), func(t *testing.T) {
			orig := solid(60, 40, red)
			var results []image.Image
			var labels []string
			for i := 0; i < n; i++ {
				// Results may be smaller than the original (stride, VALID).
				results = append(results, solid(30+i, 20, blue))
				labels = append(labels, fmt.Sprintf("k%d", i))
			}
			g := Grid(orig, results, labels)
			total := n + 1
			cols := min(total, GridColumns)
			rows := (total + cols - 1) / cols
			tw, th := 60, 40
			wantW := cols*tw + (cols+1)*GridMargin
			wantH := rows*(th+GridLabelHeight) + (rows+1)*GridMargin
			if b := g.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
				t.Fatalf("grid is %dx%d; want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
			}
			for i := 0; i < total; i++ {
				x0 := GridMargin + (i%cols)*(tw+GridMargin)
				y0 := GridMargin + (i/cols)*(th+GridLabelHeight+GridMargin)
				want := red
				if i > 0 {
					want = blue
				}
				// The tile's centre shows the image (smaller ones are centred).
				if c := color.NRGBAModel.Convert(g.At(x0+tw/2, y0+th/2)); c != want {
					t.Errorf("tile %d centre = %v; want %v", i, c, want)
				}
				label := image.Rect(x0, y0+th, x0+tw, y0+th+GridLabelHeight)
				if darkIn(g, label) == 0 {
					t.Errorf("tile %d: no label text in %v", i, label)
				}
				// The margin left of each tile is background.
				if c := color.NRGBAModel.Convert(g.At(x0-1, y0+th/2)); c != (color.NRGBA{255, 255, 255, 255}) {
					t.Errorf("margin left of tile %d = %v; want white", i, c)
				}
			}
			// A result narrower than the tile is centred: the tile's left
			// edge stays white when the result is 30+i wide.
			if n > 0 {
				x0 := GridMargin + 1*(tw+GridMargin)
				if c := color.NRGBAModel.Convert(g.At(x0, GridMargin+th/2)); c != (color.NRGBA{255, 255, 255, 255}) {
					t.Errorf("left edge of a narrow tile = %v; want white", c)
				}
			}
		})
	}
}

func TestGridLabels(t *testing.T) {
	orig := solid(70, 10, color.NRGBA{255, 255, 255, 255})
	res := []image.Image{orig, orig}
	g := Grid(orig, res, []string{"a very long label that cannot fit"}) // second label missing
	strip := func(i int) image.Rectangle {
		x0 := GridMargin + i*(70+GridMargin)
		return image.Rect(x0, GridMargin+10, x0+70, GridMargin+10+GridLabelHeight)
	}
	if darkIn(g, strip(1)) == 0 {
		t.Error("long label not drawn")
	}
	if n := darkIn(g, strip(2)); n != 0 {
		t.Errorf("missing label drew %d dark pixels", n)
	}
	// The long label is cut to the tile: nothing spills into the margins.
	if n := darkIn(g, image.Rect(GridMargin+70, 0, GridMargin+70+GridMargin, g.Bounds().Dy())); n != 0 {
		t.Errorf("%d dark pixels in the margin between tiles", n)
	}
	if got := fitLabel("a very long label", 70); got != "a very ..." || len(got)*labelCharWidth > 70 {
		t.Errorf("fitLabel = %q", got)
	}
}

func TestFit(t *testing.T) {
	m := solid(400, 100, color.NRGBA{10, 200, 30, 255})
	f := Fit(m, 100)
	if b := f.Bounds(); b.Dx() != 100 || b.Dy() != 25 {
		t.Errorf("Fit(400x100, 100) is %v", b)
	}
	if c := color.NRGBAModel.Convert(f.At(50, 12)); c != (color.NRGBA{10, 200, 30, 255}) {
		t.Errorf("scaled colour %v", c)
	}
	if Fit(m, 400) != image.Image(m) || Fit(m, 0) != image.Image(m) {
		t.Error("Fit should return an image that already fits unchanged")
	}
	tall := Fit(image.NewGray(image.Rect(0, 0, 10, 300)), 30)
	if _, ok := tall.(*image.Gray); !ok || tall.Bounds().Dx() != 1 || tall.Bounds().Dy() != 30 {
		t.Errorf("Fit(gray 10x300, 30) = %T %v", tall, tall.Bounds())
	}
}
