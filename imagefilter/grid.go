package imagefilter

import (
	"image"
	"image/color"
	"image/draw"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Grid layout, in pixels: tiles of the largest image's size sit in rows of
// at most GridColumns, GridMargin apart and from the edges, each with a
// label strip of GridLabelHeight below it. A grid of n images with tiles
// TW×TH has c = min(n, GridColumns) columns and r = ⌈n/c⌉ rows and is
//
//	c·TW + (c+1)·GridMargin  wide,
//	r·(TH + GridLabelHeight) + (r+1)·GridMargin  high.
const (
	GridColumns     = 6
	GridMargin      = 8
	GridLabelHeight = 20
)

// The label font: basicfont.Face7x13, 7 pixels per character, 11 above
// the baseline.
const (
	labelCharWidth = 7
	labelAscent    = 11
	labelTop       = 3 // gap between a tile and its label's top
)

// Grid draws original followed by results side by side on white, each
// centred in its tile with its label centred underneath — the figure the
// lecture draws with matplotlib's gridspec. The original is labelled
// "original"; labels[i] names results[i] (missing labels are left blank,
// and a label wider than its tile is cut short with "..."). A nil
// original is skipped.
func Grid(original image.Image, results []image.Image, labels []string) image.Image {
	var imgs []image.Image
	var names []string
	if original != nil {
		imgs = append(imgs, original)
		names = append(names, "original")
	}
	for i, r := range results {
		if r == nil {
			continue
		}
		imgs = append(imgs, r)
		l := ""
		if i < len(labels) {
			l = labels[i]
		}
		names = append(names, l)
	}
	if len(imgs) == 0 {
		return image.NewRGBA(image.Rect(0, 0, 2*GridMargin, 2*GridMargin+GridLabelHeight))
	}
	tw, th := 0, 0
	for _, m := range imgs {
		tw = max(tw, m.Bounds().Dx())
		th = max(th, m.Bounds().Dy())
	}
	cols := min(len(imgs), GridColumns)
	rows := (len(imgs) + cols - 1) / cols
	w := cols*tw + (cols+1)*GridMargin
	h := rows*(th+GridLabelHeight) + (rows+1)*GridMargin
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	d := font.Drawer{Dst: dst, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13}
	for i, m := range imgs {
		x0 := GridMargin + (i%cols)*(tw+GridMargin)
		y0 := GridMargin + (i/cols)*(th+GridLabelHeight+GridMargin)
		b := m.Bounds()
		at := image.Pt(x0+(tw-b.Dx())/2, y0+(th-b.Dy())/2)
		draw.Draw(dst, image.Rectangle{Min: at, Max: at.Add(b.Size())}, m, b.Min, draw.Over)
		label := fitLabel(names[i], tw)
		d.Dot = fixed.P(x0+(tw-len(label)*labelCharWidth)/2, y0+th+labelTop+labelAscent)
		d.DrawString(label)
	}
	return dst
}

// fitLabel cuts s to fit width pixels of the 7-pixel font.
func fitLabel(s string, width int) string {
	n := width / labelCharWidth
	if len(s) <= n {
		return s
	}
	if n <= 3 {
		return s[:max(n, 0)]
	}
	return s[:n-3] + "..."
}

// Fit returns img scaled down (bilinear, aspect kept) so that its longer
// side is at most maxSide pixels, or img itself when it already fits or
// maxSide ≤ 0. Use it to keep a grid of large photos a sensible size.
func Fit(img image.Image, maxSide int) image.Image {
	b := img.Bounds()
	if maxSide <= 0 || (b.Dx() <= maxSide && b.Dy() <= maxSide) {
		return img
	}
	w, h := maxSide, maxSide
	if b.Dx() >= b.Dy() {
		h = max(1, (b.Dy()*maxSide+b.Dx()/2)/b.Dx())
	} else {
		w = max(1, (b.Dx()*maxSide+b.Dy()/2)/b.Dy())
	}
	var dst draw.Image
	if _, ok := img.(*image.Gray); ok {
		dst = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		dst = image.NewNRGBA(image.Rect(0, 0, w, h))
	}
	xdraw.BiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	return dst
}
