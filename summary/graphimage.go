package summary

import (
	"image"
	"image/color"
	"image/draw"
	"sort"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Layout of GraphImage.
const (
	gBoxW    = 300 // box width
	gBoxH    = 40  // box height: the scope's name and its ops
	gGap     = 26  // vertical gap between boxes, room for a shape label
	gMargin  = 12
	gLane    = 10 // distance between the side lanes of long edges
	gTextPad = 6
	// Bounds that keep the picture of a forged or huge graph small: at
	// most this many scopes and side lanes are drawn.
	gMaxScopes = 64
	gMaxLanes  = 48
	gCharW     = 7 // basicfont.Face7x13: advance, height and ascent
	gCharH     = 13
	gAscent    = 11
)

// GraphImage draws g the way TensorBoard's Graphs tab first shows it:
// one box per top-level scope ("conv1", "loss", …) in the order the
// scopes first appear, holding the scope's name and its ops (variables
// and constants left out), an arrow between consecutive scopes labelled
// with the shape of the tensor that flows, and every other edge between
// scopes as a line in its own lane to the right of the boxes. A scope
// that reads another scope's variable (the optimizer reading conv1/kernel)
// counts as an edge too. Only the first 64 scopes and 48 side edges are
// drawn, so the picture is at most 814×4,222 pixels whatever the graph.
func GraphImage(g *GraphDef) *image.RGBA {
	scopeOf := func(name string) string {
		name = strings.TrimPrefix(name, "^")
		if i := strings.LastIndexByte(name, ':'); i > 0 {
			name = name[:i]
		}
		return strings.SplitN(name, "/", 2)[0]
	}
	var scopes []string
	index := map[string]int{}
	ops := map[string][]string{}
	node := map[string]NodeDef{}
	for _, n := range g.Nodes {
		node[n.Name] = n
		s := scopeOf(n.Name)
		if _, ok := index[s]; !ok {
			if len(scopes) == gMaxScopes {
				continue
			}
			index[s] = len(scopes)
			scopes = append(scopes, s)
		}
		switch n.Op {
		case "Const", "VariableV2", "NoOp":
			continue
		}
		if !contains(ops[s], n.Op) {
			ops[s] = append(ops[s], n.Op)
		}
	}
	// Edges between scopes, with the shape of the first tensor seen on each.
	type edge struct{ from, to int }
	shapeOn := map[edge]string{}
	var edges []edge
	for _, n := range g.Nodes {
		to, ok := index[scopeOf(n.Name)]
		if !ok {
			continue
		}
		for _, in := range n.Inputs {
			from, ok := index[scopeOf(in)]
			if !ok || from == to || strings.HasPrefix(in, "^") {
				continue
			}
			e := edge{from, to}
			if _, seen := shapeOn[e]; !seen {
				edges = append(edges, e)
				src := node[strings.SplitN(in, ":", 2)[0]]
				shapeOn[e] = ""
				if a, ok := src.Attr["_output_shapes"]; ok && len(a.Shapes) > 0 {
					shapeOn[e] = strings.ReplaceAll(AttrValue{Kind: AttrShape, Shape: a.Shapes[0]}.String(), "-1", "?")
				}
			}
		}
	}
	sort.SliceStable(edges, func(i, j int) bool {
		return edges[i].to-edges[i].from < edges[j].to-edges[j].from
	})
	var long []edge
	for _, e := range edges {
		if e.to != e.from+1 && len(long) < gMaxLanes {
			long = append(long, e)
		}
	}

	w := gMargin*2 + gBoxW + (len(long)+1)*gLane
	h := gMargin*2 + max(len(scopes)*gBoxH+(len(scopes)-1)*gGap, 0)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	ink := color.RGBA{R: 90, G: 90, B: 90, A: 255}
	fill := color.RGBA{R: 255, G: 236, B: 179, A: 255} // TensorBoard's name-scope colour
	edgeInk := color.RGBA{R: 120, G: 120, B: 120, A: 255}
	top := func(i int) int { return gMargin + i*(gBoxH+gGap) }
	for i, s := range scopes {
		r := image.Rect(gMargin, top(i), gMargin+gBoxW, top(i)+gBoxH)
		draw.Draw(img, r, image.NewUniform(ink), image.Point{}, draw.Src)
		draw.Draw(img, r.Inset(1), image.NewUniform(fill), image.Point{}, draw.Src)
		graphText(img, r.Min.X+gTextPad, r.Min.Y+4, fitText(s), color.Black)
		graphText(img, r.Min.X+gTextPad, r.Min.Y+4+gCharH+4, fitText(strings.Join(ops[s], " ")), color.Gray{Y: 70})
	}
	for _, e := range edges {
		if e.to != e.from+1 {
			continue
		}
		x, y0, y1 := gMargin+gBoxW/2, top(e.from)+gBoxH, top(e.to)
		vline(img, x, y0, y1, edgeInk)
		arrowDown(img, x, y1, edgeInk)
		graphText(img, x+6, y0+(gGap-gCharH)/2, shapeOn[e], color.Gray{Y: 60})
	}
	for i, e := range long {
		x := gMargin + gBoxW + (i+1)*gLane
		yFrom, yTo := top(e.from)+gBoxH/2-4+i%8, top(e.to)+gBoxH/2+4-i%8
		hline(img, gMargin+gBoxW, x, yFrom, edgeInk)
		vline(img, x, min(yFrom, yTo), max(yFrom, yTo)+1, edgeInk)
		hline(img, gMargin+gBoxW, x, yTo, edgeInk)
		arrowLeft(img, gMargin+gBoxW, yTo, edgeInk)
	}
	return img
}

// fitText cuts s to the width of a box, ending it with "...".
func fitText(s string) string {
	if room := (gBoxW - 2*gTextPad) / gCharW; len(s) > room {
		return s[:room-3] + "..."
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y < y1; y++ {
		img.SetRGBA(x, y, c)
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.SetRGBA(x, y, c)
	}
}

// arrowDown draws a small arrow head ending at (x, y), pointing down.
func arrowDown(img *image.RGBA, x, y int, c color.RGBA) {
	for d := 1; d <= 4; d++ {
		hline(img, x-d, x+d, y-1-(4-d), c)
	}
}

// arrowLeft draws a small arrow head ending at (x, y), pointing left.
func arrowLeft(img *image.RGBA, x, y int, c color.RGBA) {
	for d := 1; d <= 4; d++ {
		vline(img, x+1+(4-d), y-d, y+d+1, c)
	}
}

// graphText writes s with its top-left corner at (x, y).
func graphText(dst draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y+gAscent)}
	d.DrawString(s)
}
