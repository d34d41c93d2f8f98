package nn

import (
	"fmt"
	"strings"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
)

// A stride-1 convolution of a single input channel (a grayscale image's
// first layer) runs directly instead of through im2col and the GEMM: its
// patch rows hold only the window's taps (25 for 5×5), too short a K for
// the GEMM, so kernels.ConvC1 broadcasts each input value against 32
// output channels at once (kernels.ConvC1x16 against the last 16 when F
// is an odd multiple of 16). Each image is first copied into a
// zero-padded buffer, so that every tap reads in bounds.

// useConvC1 reports whether convolution g with f output channels runs
// directly (f a multiple of 16).
func useConvC1(g *kernels.ConvGeom, f int) bool {
	return kernels.Impl() != "ref" && g.C == 1 && f%16 == 0 && g.K[0] == 1 && g.Pad[0] == 0 &&
		g.Stride == [3]int{1, 1, 1} && g.OutPositions() > 0
}

// c1Plan is the padded layout of one image (depth slice) of a useConvC1
// convolution with f output channels.
type c1Plan struct {
	rows, cols int   // padded image
	offs       []int // tap offsets in the padded image, scan order
	images     int   // N·D
	f          int   // output channels, a multiple of 16
}

func newC1Plan(g *kernels.ConvGeom, f int) c1Plan {
	p := c1Plan{
		rows:   g.Out[1] + (g.K[1]-1)*g.Dilation[1],
		cols:   g.Out[2] + (g.K[2]-1)*g.Dilation[2],
		images: g.N * g.In[0],
		offs:   make([]int, 0, g.K[1]*g.K[2]),
		f:      f,
	}
	for kh := 0; kh < g.K[1]; kh++ {
		for kw := 0; kw < g.K[2]; kw++ {
			p.offs = append(p.offs, kh*g.Dilation[1]*p.cols+kw*g.Dilation[2])
		}
	}
	return p
}

// String describes the loop, e.g. "9 taps over 30x30 padded images,
// channels 32+16".
func (p c1Plan) String() string {
	blocks := strings.Repeat("+32", p.f/32)
	if p.f%32 != 0 {
		blocks += "+16"
	}
	return fmt.Sprintf("%d taps over %dx%d padded images, channels %s", len(p.offs), p.rows, p.cols, blocks[1:])
}

// pad copies image img of x into buf (rows×cols, zeros around it).
func (p c1Plan) pad(g *kernels.ConvGeom, x []float32, img int, buf []float32) {
	clear(buf)
	h, w := g.In[1], g.In[2]
	src := x[img*h*w : (img+1)*h*w]
	for r := 0; r < p.rows; r++ {
		ih := r - g.Pad[1]
		if ih < 0 || ih >= h {
			continue
		}
		c0, c1 := max(0, g.Pad[2]), min(p.cols, w+g.Pad[2])
		if c0 < c1 {
			copy(buf[r*p.cols+c0:r*p.cols+c1], src[ih*w+c0-g.Pad[2]:])
		}
	}
}

// convC1Forward computes y [N, D, OH, OW, F] from x [N, D, H, W, 1] and
// w [1, KH, KW, 1, F], one image per worker at a time, and then ep on
// the image's outputs (still in L2). p is newC1Plan(g), kept in the
// plan (read only).
func convC1Forward(p *c1Plan, g *kernels.ConvGeom, f int, x, w, y []float32, ep epilogue) {
	oh, ow := g.Out[1], g.Out[2]
	if p.images < parallel.Workers() {
		// Fewer images than workers (a batch of one): the workers share
		// each image's output rows instead. A pixel's sum does not
		// depend on the split.
		buf := getScratch(p.rows * p.cols)
		minRows := max(1, tune.C1MinPer/(ow*f*len(p.offs)))
		l := c1RowsLoops.get()
		l.args = c1Rows{p: p, buf: *buf, w: w, f: f, ow: ow}
		for img := 0; img < p.images; img++ {
			p.pad(g, x, img, *buf)
			l.args.out, l.args.ep = y[img*oh*ow*f:(img+1)*oh*ow*f], ep.from(img*oh*ow*f)
			parallel.For(oh, minRows, l.body)
		}
		c1RowsLoops.put(l)
		putScratch(buf)
		return
	}
	parallel.For(p.images, 1, func(lo, hi int) {
		buf := getScratch(p.rows * p.cols)
		for img := lo; img < hi; img++ {
			p.pad(g, x, img, *buf)
			p.outRows(y[img*oh*ow*f:(img+1)*oh*ow*f], *buf, w, f, ow, 0, oh, ep.from(img*oh*ow*f))
		}
		putScratch(buf)
	})
}

// c1Rows are the arguments of convC1Forward's loop over one image's
// output rows (c1RowsLoops).
type c1Rows struct {
	p           *c1Plan
	out, buf, w []float32
	f, ow       int
	ep          epilogue
}

var c1RowsLoops = loopPool[c1Rows]{run: func(l *c1Rows, lo, hi int) {
	l.p.outRows(l.out, l.buf, l.w, l.f, l.ow, lo, hi, l.ep)
}}

// outRows computes output rows [lo, hi) of one image (out holds its
// OH·OW·F outputs) from its padded copy buf, 32 channels per
// kernels.ConvC1 call and the last 16 of an odd multiple of 16 by
// kernels.ConvC1x16, then ep (of out) on those rows.
func (p c1Plan) outRows(out, buf, w []float32, f, ow, lo, hi int, ep epilogue) {
	rows, in := out[lo*ow*f:hi*ow*f], buf[lo*p.cols:]
	j := 0
	for ; j+32 <= f; j += 32 {
		kernels.ConvC1(rows[j:], f, in, p.cols, w[j:], f, p.offs, hi-lo, ow)
	}
	if j < f {
		kernels.ConvC1x16(rows[j:], f, in, p.cols, w[j:], f, p.offs, hi-lo, ow)
	}
	ep.from(lo * ow * f).apply(rows)
}

// convC1Filter computes dw [1, KH, KW, 1, F] from x and dy: fixed groups
// of images (independent of the workers) each summed into a partial
// gradient by one worker, the partials then added in group order, so
// the result repeats bit for bit. p is newC1Plan(g), kept in the plan.
func convC1Filter(p *c1Plan, g *kernels.ConvGeom, f int, x, dy, dw []float32) {
	oh, ow := g.Out[1], g.Out[2]
	taps := len(p.offs)
	groups := min(p.images, maxGroups)
	size := taps * f
	parts := getScratch(groups * size)
	clear(*parts)
	parallel.For(groups, 1, func(lo, hi int) {
		buf := getScratch(p.rows * p.cols)
		for gi := lo; gi < hi; gi++ {
			part := (*parts)[gi*size : (gi+1)*size]
			for img := gi * p.images / groups; img < (gi+1)*p.images/groups; img++ {
				p.pad(g, x, img, *buf)
				grad := dy[img*oh*ow*f : (img+1)*oh*ow*f]
				j := 0
				for ; j+32 <= f; j += 32 {
					for t := 0; t < taps; t += kernels.C1GradTaps {
						offs := p.offs[t:min(t+kernels.C1GradTaps, taps)]
						kernels.ConvC1Grad(part[t*f+j:], f, *buf, p.cols, grad[j:], f, offs, oh, ow)
					}
				}
				if j < f {
					for t := 0; t < taps; t += kernels.C1Grad16Taps {
						offs := p.offs[t:min(t+kernels.C1Grad16Taps, taps)]
						kernels.ConvC1Grad16(part[t*f+j:], f, *buf, p.cols, grad[j:], f, offs, oh, ow)
					}
				}
			}
		}
		putScratch(buf)
	})
	sumGroups(dw, *parts, groups)
	putScratch(parts)
}
