package imagefilter

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"github.com/convnet-go/convnet/imageio"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Options choose how Apply runs a kernel. The zero value filters each RGB
// channel with stride 1 and SAME padding.
type Options struct {
	// Gray converts the image to luma (tf.image.rgb_to_grayscale) and
	// convolves that single channel with nn.Conv2D; the result is an
	// *image.Gray. Pixels that are not opaque are composited over white
	// first (the result has no alpha to keep). A source that is already
	// *image.Gray or *image.Gray16 is used as is.
	Gray bool
	// MixChannels runs the lecture's RGB filter: filter [KH,KW,3,3] with
	// the kernel value at every (input, output) channel pair, through
	// nn.Conv2D, so out_c = Σ_ij k_ij·(R+G+B) for every c. Ignored with Gray.
	MixChannels bool
	// Abs takes |v| before clamping, so the negative responses of signed
	// kernels such as the sobels show as bright as the positive ones.
	Abs bool
	// Stride is the step of the window in both directions; 0 means 1.
	Stride int
	// Padding is "SAME" (the default, also "") or "VALID", with TF's
	// rules: SAME gives ⌈H/S⌉ rows and pads the odd cell at the bottom and
	// right; VALID gives ⌈(H − KH + 1)/S⌉.
	Padding string
}

// geometry is the output size of a KH×KW window over an H×W image and
// TF's padding for it.
type geometry struct {
	inH, inW, kh, kw int
	stride           int
	padding          string // "SAME" or "VALID"
	outH, outW       int
	padTop, padLeft  int // zero rows/columns before the image
	padBottom        int // and after it
	padRight         int
}

// plan checks k and o against an h×w image and works out the output size
// with nn.OutputSize and TF's padding split (the odd cell after).
func plan(h, w int, k Kernel, o Options) (geometry, error) {
	if err := k.Validate(); err != nil {
		return geometry{}, err
	}
	g := geometry{stride: o.Stride, inH: h, inW: w, kh: k.Size[0], kw: k.Size[1]}
	if g.stride == 0 {
		g.stride = 1
	}
	if g.stride < 0 {
		return geometry{}, fmt.Errorf("imagefilter: stride %d; want ≥ 1", o.Stride)
	}
	switch strings.ToUpper(o.Padding) {
	case "", "SAME":
		g.padding = "SAME"
	case "VALID":
		g.padding = "VALID"
	default:
		return geometry{}, fmt.Errorf("imagefilter: padding %q; want SAME or VALID", o.Padding)
	}
	var err error
	if g.outH, err = nn.OutputSize(h, g.kh, g.stride, 1, g.padding); err != nil {
		return geometry{}, fmt.Errorf("imagefilter: kernel %q (%dx%d) over a %dx%d image: %w", k.Name, g.kh, g.kw, w, h, err)
	}
	if g.outW, err = nn.OutputSize(w, g.kw, g.stride, 1, g.padding); err != nil {
		return geometry{}, fmt.Errorf("imagefilter: kernel %q (%dx%d) over a %dx%d image: %w", k.Name, g.kh, g.kw, w, h, err)
	}
	if g.outH == 0 || g.outW == 0 {
		return geometry{}, fmt.Errorf("imagefilter: kernel %q (%dx%d) over a %dx%d image gives an empty %dx%d result under %s", k.Name, g.kh, g.kw, w, h, g.outW, g.outH, g.padding)
	}
	if g.padding == "SAME" {
		ph := max((g.outH-1)*g.stride+g.kh-h, 0)
		pw := max((g.outW-1)*g.stride+g.kw-w, 0)
		g.padTop, g.padBottom = ph/2, ph-ph/2
		g.padLeft, g.padRight = pw/2, pw-pw/2
	}
	return g, nil
}

// anchorRow returns the input row under the anchor of output row i: the
// window's centre, the upper of the two middle rows for an even size.
func (g geometry) anchorRow(i int) int {
	return min(max(i*g.stride-g.padTop+(g.kh-1)/2, 0), g.inH-1)
}

// anchorCol is anchorRow for columns.
func (g geometry) anchorCol(j int) int {
	return min(max(j*g.stride-g.padLeft+(g.kw-1)/2, 0), g.inW-1)
}

// Apply convolves img with k as o says and returns an *image.Gray (Gray)
// or an *image.NRGBA whose alpha is the source alpha at each window's
// anchor pixel (its centre; the upper-left of the two middle cells for an
// even size), so SAME with stride 1 keeps the alpha as it was. The result is OH×OW with OH = nn.OutputSize(H, KH, S, 1,
// padding) and OW likewise; its bounds start at (0, 0).
func Apply(img image.Image, k Kernel, o Options) (image.Image, error) {
	out, err := ApplyAll(img, []Kernel{k}, o)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ApplyAll is Apply for several kernels, returning the results in order.
// Kernels of the same size share each nn call as extra output channels
// (depthwise channel multiplier M, or M·C conv filters), run over bands of
// output rows: each band's input rows are converted to float32 when it is
// computed, so the float data never takes more than a few megabytes, and
// each band is written straight into the 8-bit results.
func ApplyAll(img image.Image, ks []Kernel, o Options) ([]image.Image, error) {
	out := make([]image.Image, len(ks))
	var alpha []uint8
	if !o.Gray {
		alpha = alphaPlane(img)
	}
	err := run(img, ks, o, alpha, func(group []int, g geometry, bands []image.Image) error {
		for n, j := range group {
			if out[j] == nil {
				out[j] = newResults(1, channels(bands[n]), g)[0]
			}
			copyRows(out[j], bands[n])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bandSink receives one band of output rows of the kernels ks[group[n]]:
// bands[n] is an *image.Gray or *image.NRGBA whose bounds are the band's
// rows, (0, r0)–(OW, r1), of the OW×OH result; g is the group's geometry.
// Bands arrive top to bottom, one group after the other; bands are reused
// after the sink returns.
type bandSink func(group []int, g geometry, bands []image.Image) error

// run plans every kernel, then convolves the kernels of each size as one
// group, band by band, handing the 8-bit bands to sink. alpha is img's
// alphaPlane (nil in gray mode). Besides img and alpha it holds one band's
// values.
func run(img image.Image, ks []Kernel, o Options, alpha []uint8, sink bandSink) error {
	b := img.Bounds()
	if b.Empty() {
		return fmt.Errorf("imagefilter: image is empty (%dx%d)", b.Dx(), b.Dy())
	}
	geo := make([]geometry, len(ks))
	for i, k := range ks {
		g, err := plan(b.Dy(), b.Dx(), k, o)
		if err != nil {
			return err
		}
		geo[i] = g
	}
	c := 3
	if o.Gray {
		c = 1
	}
	var buf []float32
	rows := func(a, b int) (*tensor.Tensor, error) {
		n := (b - a) * geo[0].inW * c
		if cap(buf) < n {
			buf = make([]float32, n)
		}
		convertRows(img, o.Gray, a, b, buf[:n], nil)
		return tensor.New([]int{1, b - a, geo[0].inW, c}, buf[:n])
	}
	done := make([]bool, len(ks))
	for i := range ks {
		if done[i] {
			continue
		}
		var group []int // kernels of ks[i]'s size, in order
		for j := i; j < len(ks); j++ {
			if !done[j] && ks[j].Size == ks[i].Size {
				group = append(group, j)
				done[j] = true
			}
		}
		gk := make([]Kernel, len(group))
		for n, j := range group {
			gk[n] = ks[j]
		}
		var bands []image.Image
		var serr error
		err := convolve(rows, c, gk, o, geo[i], func(r0 int, y []float32) {
			if serr != nil {
				return
			}
			n := len(y) / (geo[i].outW * c * len(gk))
			bands = bandImages(bands, len(gk), c, geo[i].outW, r0, r0+n)
			writeRows(bands, r0, y, alpha, geo[i], o.Abs, o.MixChannels && !o.Gray)
			serr = sink(group, geo[i], bands)
		})
		if err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// channels is 1 for an *image.Gray, else 3.
func channels(img image.Image) int {
	if _, ok := img.(*image.Gray); ok {
		return 1
	}
	return 3
}

// bandImages returns m images covering rows [r0, r1) of an ow-wide
// result, reusing the storage of prev.
func bandImages(prev []image.Image, m, c, ow, r0, r1 int) []image.Image {
	r := image.Rect(0, r0, ow, r1)
	if len(prev) != m {
		prev = make([]image.Image, m)
	}
	for i := range prev {
		switch p := prev[i].(type) {
		case *image.Gray:
			if n := r.Dx() * r.Dy(); cap(p.Pix) >= n {
				prev[i] = &image.Gray{Pix: p.Pix[:n], Stride: ow, Rect: r}
				continue
			}
		case *image.NRGBA:
			if n := 4 * r.Dx() * r.Dy(); cap(p.Pix) >= n {
				prev[i] = &image.NRGBA{Pix: p.Pix[:n], Stride: 4 * ow, Rect: r}
				continue
			}
		}
		if c == 1 {
			prev[i] = image.NewGray(r)
		} else {
			prev[i] = image.NewNRGBA(r)
		}
	}
	return prev
}

// copyRows copies the rows of band into dst (same type and width).
func copyRows(dst, band image.Image) {
	switch d := dst.(type) {
	case *image.Gray:
		s := band.(*image.Gray)
		copy(d.Pix[d.PixOffset(0, s.Rect.Min.Y):], s.Pix)
	case *image.NRGBA:
		s := band.(*image.NRGBA)
		copy(d.Pix[d.PixOffset(0, s.Rect.Min.Y):], s.Pix)
	}
}

// bandValues is the number of float32 outputs convolve asks nn for at a
// time (4 MiB).
var bandValues = 1 << 20

// convolve runs the M kernels ks, all of g's size, over an image of C = 1
// or 3 channels band by band. For output rows [r0, r0+n) it gets the
// input rows [a, b) those windows read from rows, [1, b−a, W, C], pads them explicitly
// with TF's SAME padding where the band touches the image border, runs one
// nn op and calls emit(r0, y) with y the band's [n, OW, C·M] values.
// Channel layout of y, for kernel m and colour c:
//
//	gray  m          nn.Conv2D, filter [KH,KW,1,M]
//	rgb   c·M + m    nn.DepthwiseConv2D, filter [KH,KW,3,M]
//	mix   m·3 + c    nn.Conv2D, filter [KH,KW,3,3M] = k_ij at every (c_in, c_out)
func convolve(rows func(a, b int) (*tensor.Tensor, error), c int, ks []Kernel, o Options, g geometry, emit func(r0 int, y []float32)) error {
	m := len(ks)
	var f *tensor.Tensor
	switch {
	case c == 1:
		f = tensor.Zeros(g.kh, g.kw, 1, m)
		for n, k := range ks {
			for t, v := range k.Values {
				f.Data()[t*m+n] = v
			}
		}
	case o.MixChannels:
		// The lecture's kernels.py: a[i, j, :, :] = k_ij over [KH,KW,3,3].
		f = tensor.Zeros(g.kh, g.kw, c, c*m)
		for n, k := range ks {
			for t, v := range k.Values {
				for ci := 0; ci < c; ci++ {
					for co := 0; co < c; co++ {
						f.Data()[(t*c+ci)*c*m+n*c+co] = v
					}
				}
			}
		}
	default:
		// The same kernel for every channel.
		f = tensor.Zeros(g.kh, g.kw, c, m)
		for n, k := range ks {
			for t, v := range k.Values {
				for ci := 0; ci < c; ci++ {
					f.Data()[(t*c+ci)*m+n] = v
				}
			}
		}
	}
	rowsPer := max(1, bandValues/(g.outW*c*m))
	for r0 := 0; r0 < g.outH; r0 += rowsPer {
		r1 := min(g.outH, r0+rowsPer)
		// Input rows [in0, in1) feed output rows [r0, r1); those outside
		// the image are zero padding.
		in0 := r0*g.stride - g.padTop
		in1 := (r1-1)*g.stride - g.padTop + g.kh
		a, b := max(in0, 0), min(in1, g.inH)
		band, err := rows(a, b)
		if err != nil {
			return fmt.Errorf("imagefilter: band of rows %d to %d: %w", a, b, err)
		}
		co := nn.ConvOptions{
			Strides:          []int{g.stride},
			Padding:          "EXPLICIT",
			ExplicitPaddings: [][2]int{{a - in0, in1 - b}, {g.padLeft, g.padRight}},
		}
		var y *tensor.Tensor
		if c == 1 || o.MixChannels {
			y, err = nn.Conv2D(band, f, co)
		} else {
			y, err = nn.DepthwiseConv2D(band, f, co)
		}
		if err != nil {
			return fmt.Errorf("imagefilter: kernel %q: %w", ks[0].Name, err)
		}
		if want := []int{1, r1 - r0, g.outW, c * m}; !tensor.SameShape(y.Shape(), want) {
			return fmt.Errorf("imagefilter: kernel %q: nn returned shape %v; want %v", ks[0].Name, y.Shape(), want)
		}
		emit(r0, y.Data())
	}
	return nil
}

// unit8 maps an 8-bit sample to [0, 1] as tf.image.convert_image_dtype
// does: v·float32(1/255).
var unit8 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) * float32(1.0/255)
	}
	return
}()

// luma is tf.image.rgb_to_grayscale for one pixel, rounding each product
// to float32 as TF's float32 tensordot does (the explicit conversions keep
// the compiler from fusing them into FMAs).
func luma(r, g, b float32) float32 {
	return float32(r*imageio.LumaR) + float32(g*imageio.LumaG) + float32(b*imageio.LumaB)
}

// convertRows converts rows [lo, hi) of img into d, a [hi−lo, W, C]
// block of a tensor with values in [0, 1] (C = 1 when gray, else 3), and,
// when alpha is not nil, stores those rows' alpha in alpha (an H·W plane).
// It has fast paths for the types the standard decoders return.
func convertRows(img image.Image, gray bool, lo, hi int, d []float32, alpha []uint8) {
	b := img.Bounds()
	w := b.Dx()
	if gray {
		alpha = nil
	}
	// put stores pixel i's colour (non-premultiplied, in [0, 1]); i counts
	// from the image's top-left corner, d from row lo.
	put := func(i int, r, g, bl float32) {
		i -= lo * w
		if gray {
			d[i] = luma(r, g, bl)
			return
		}
		d[3*i], d[3*i+1], d[3*i+2] = r, g, bl
	}
	var rows func(lo, hi int)
	switch m := img.(type) {
	case *image.NRGBA:
		rows = func(lo, hi int) {
			for y := lo; y < hi; y++ {
				p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
				for xx := 0; xx < w; xx++ {
					q := p[4*xx : 4*xx+4 : 4*xx+4]
					if gray && q[3] != 0xff {
						a := unit8[q[3]]
						put(y*w+xx, overWhite(unit8[q[0]], a), overWhite(unit8[q[1]], a), overWhite(unit8[q[2]], a))
						continue
					}
					put(y*w+xx, unit8[q[0]], unit8[q[1]], unit8[q[2]])
					if alpha != nil {
						alpha[y*w+xx] = q[3]
					}
				}
			}
		}
	case *image.RGBA:
		rows = func(lo, hi int) {
			for y := lo; y < hi; y++ {
				p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
				for xx := 0; xx < w; xx++ {
					q := p[4*xx : 4*xx+4 : 4*xx+4]
					switch a := q[3]; a {
					case 0xff:
						put(y*w+xx, unit8[q[0]], unit8[q[1]], unit8[q[2]])
					case 0:
						put(y*w+xx, 0, 0, 0)
					default: // premultiplied: colour = c/a
						fa := float32(a)
						put(y*w+xx, float32(q[0])/fa, float32(q[1])/fa, float32(q[2])/fa)
					}
					if gray && q[3] != 0xff {
						// Over white, premultiplied: c + (1 − a).
						wa := 1 - unit8[q[3]]
						put(y*w+xx, unit8[q[0]]+wa, unit8[q[1]]+wa, unit8[q[2]]+wa)
					}
					if alpha != nil {
						alpha[y*w+xx] = q[3]
					}
				}
			}
		}
	case *image.YCbCr:
		rows = func(lo, hi int) {
			for y := lo; y < hi; y++ {
				for xx := 0; xx < w; xx++ {
					yi := m.YOffset(b.Min.X+xx, b.Min.Y+y)
					ci := m.COffset(b.Min.X+xx, b.Min.Y+y)
					r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
					put(y*w+xx, unit8[r], unit8[g], unit8[bl])
					if alpha != nil {
						alpha[y*w+xx] = 0xff
					}
				}
			}
		}
	case *image.Gray:
		rows = func(lo, hi int) {
			for y := lo; y < hi; y++ {
				p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
				for xx := 0; xx < w; xx++ {
					v := unit8[p[xx]]
					if gray {
						d[(y-lo)*w+xx] = v
						continue
					}
					put(y*w+xx, v, v, v)
					if alpha != nil {
						alpha[y*w+xx] = 0xff
					}
				}
			}
		}
	default:
		_, isGray16 := img.(*image.Gray16)
		rows = func(lo, hi int) {
			for y := lo; y < hi; y++ {
				for xx := 0; xx < w; xx++ {
					cc := color.NRGBA64Model.Convert(img.At(b.Min.X+xx, b.Min.Y+y)).(color.NRGBA64)
					r, g, bl := float32(cc.R)/0xffff, float32(cc.G)/0xffff, float32(cc.B)/0xffff
					if gray && isGray16 {
						d[(y-lo)*w+xx] = r
						continue
					}
					if gray && cc.A != 0xffff {
						a := float32(cc.A) / 0xffff
						r, g, bl = overWhite(r, a), overWhite(g, a), overWhite(bl, a)
					}
					put(y*w+xx, r, g, bl)
					if alpha != nil {
						alpha[y*w+xx] = uint8(cc.A >> 8)
					}
				}
			}
		}
	}
	parallel.For(hi-lo, 16, func(a, b int) { rows(lo+a, lo+b) })
}

// alphaPlane returns img's alpha as an H·W plane, or nil when every pixel
// is opaque.
func alphaPlane(img image.Image) []uint8 {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	switch img.(type) {
	case *image.Gray, *image.Gray16, *image.YCbCr:
		return nil
	}
	alpha := make([]uint8, h*w)
	const chunk = 64 // rows converted at a time, for the alpha only
	scratch := make([]float32, chunk*3*w)
	for y := 0; y < h; y += chunk {
		convertRows(img, false, y, min(h, y+chunk), scratch, alpha)
	}
	if allOpaque(alpha) {
		return nil
	}
	return alpha
}

// overWhite composites a colour sample v of opacity a over white: the gray
// path has no alpha to keep, and the colour a transparent pixel happens
// to store is not what a viewer shows.
func overWhite(v, a float32) float32 { return v*a + (1 - a) }

func allOpaque(a []uint8) bool {
	for _, v := range a {
		if v != 0xff {
			return false
		}
	}
	return true
}

// quantize maps a filtered value to 8 bits: |v| if abs, clamped to [0, 1],
// then ⌊v·255.5⌋ like tf.image.convert_image_dtype(…, tf.uint8,
// saturate=True). NaN maps to 0.
func quantize(v float32, abs bool) uint8 {
	if abs {
		v = math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
	}
	if v > 1 {
		v = 1
	}
	// NaN and negative values give i ≤ 0 (a NaN converts to MinInt32 on
	// amd64 and to 0 on arm64).
	if i := int32(v * 255.5); i > 0 {
		return uint8(i)
	}
	return 0
}

// newResults allocates the n output images of one kernel group: *image.Gray
// for one channel, *image.NRGBA for three.
func newResults(n, c int, g geometry) []image.Image {
	out := make([]image.Image, n)
	r := image.Rect(0, 0, g.outW, g.outH)
	for i := range out {
		if c == 1 {
			out[i] = image.NewGray(r)
		} else {
			out[i] = image.NewNRGBA(r)
		}
	}
	return out
}

// writeRows quantizes a band y [n, OW, C·M] (convolve's layout) starting
// at output row r0 into the M images, taking alpha from the source at each
// window's anchor.
func writeRows(imgs []image.Image, r0 int, y []float32, alpha []uint8, g geometry, abs, mixed bool) {
	m, ow := len(imgs), g.outW
	c := 3
	if _, ok := imgs[0].(*image.Gray); ok {
		c = 1
	}
	// Stride between the kernel's channels in y, and between kernels.
	chStep, kStep := m, 1
	if mixed {
		chStep, kStep = 1, 3
	}
	nrows := len(y) / (ow * c * m)
	parallel.For(nrows, 4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr := y[r*ow*c*m:][:ow*c*m]
			var arow []uint8
			if alpha != nil {
				iy := g.anchorRow(r0 + r)
				arow = alpha[iy*g.inW:][:g.inW]
			}
			for n, img := range imgs {
				switch out := img.(type) {
				case *image.Gray:
					row := out.Pix[out.PixOffset(0, r0+r):][:ow]
					for j := range row {
						row[j] = quantize(yr[j*m+n], abs)
					}
				case *image.NRGBA:
					row := out.Pix[out.PixOffset(0, r0+r):][:4*ow]
					px := yr[n*kStep:]
					c1, c2 := chStep, 2*chStep
					for j := 0; j < ow; j++ {
						k := 3 * m * j
						row[4*j] = quantize(px[k], abs)
						row[4*j+1] = quantize(px[k+c1], abs)
						row[4*j+2] = quantize(px[k+c2], abs)
						row[4*j+3] = 0xff
					}
					if arow != nil {
						for j := 0; j < ow; j++ {
							row[4*j+3] = arow[g.anchorCol(j)]
						}
					}
				}
			}
		}
	})
}
