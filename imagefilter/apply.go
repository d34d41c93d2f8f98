package imagefilter

import (
	"fmt"
	"image"
	"image/color"
	"strings"

	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/nn"
	"github.com/convnet-go/convnet/tensor"
)

// Options choose how Apply runs a kernel. The zero value filters each RGB
// channel with stride 1 and SAME padding.
type Options struct {
	// Gray converts the image to luma (tf.image.rgb_to_grayscale) and
	// convolves that single channel with nn.Conv2D; the result is an
	// *image.Gray. A source that is already *image.Gray or *image.Gray16
	// is used as is.
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

// geometry is the output size of one kernel over one image and where the
// window's anchor pixel (its centre, rounded up-left for even sizes) of
// output (0, 0) lies in the input.
type geometry struct {
	outH, outW       int
	stride           int
	offY, offX       int // input row/column under the anchor of output (0, 0)
	padding          string
	inH, inW, kh, kw int
}

// plan checks k and o against an h×w image and works out the output size
// with nn.OutputSize.
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
	g.offY, g.offX = (g.kh-1)/2, (g.kw-1)/2
	if g.padding == "SAME" {
		g.offY -= max((g.outH-1)*g.stride+g.kh-h, 0) / 2
		g.offX -= max((g.outW-1)*g.stride+g.kw-w, 0) / 2
	}
	return g, nil
}

// Apply convolves img with k as o says and returns an *image.Gray (Gray)
// or an *image.NRGBA whose alpha is the source alpha at each window's
// anchor pixel. The result is OH×OW with OH = nn.OutputSize(H, KH, S, 1,
// padding) and OW likewise; its bounds start at (0, 0).
func Apply(img image.Image, k Kernel, o Options) (image.Image, error) {
	out, err := ApplyAll(img, []Kernel{k}, o)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ApplyAll is Apply for several kernels: the image is converted to a
// tensor once and each kernel costs one nn op and one conversion back.
func ApplyAll(img image.Image, ks []Kernel, o Options) ([]image.Image, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("imagefilter: image is empty (%dx%d)", b.Dx(), b.Dy())
	}
	geo := make([]geometry, len(ks))
	for i, k := range ks {
		g, err := plan(b.Dy(), b.Dx(), k, o)
		if err != nil {
			return nil, err
		}
		geo[i] = g
	}
	src := fromImage(img, o.Gray)
	out := make([]image.Image, len(ks))
	for i, k := range ks {
		y, err := filterTensor(src.x, k, o, geo[i])
		if err != nil {
			return nil, err
		}
		out[i] = toImage(y, src.alpha, geo[i], o.Abs)
	}
	return out, nil
}

// filterTensor runs k over x [1,H,W,C] (C = 1 or 3) with one nn op and
// returns [1,OH,OW,C].
func filterTensor(x *tensor.Tensor, k Kernel, o Options, g geometry) (*tensor.Tensor, error) {
	kh, kw := k.Size[0], k.Size[1]
	c := x.Dim(-1)
	co := nn.ConvOptions{Strides: []int{g.stride}, Padding: g.padding}
	var y *tensor.Tensor
	var err error
	switch {
	case c == 1:
		f := tensor.Must(tensor.New([]int{kh, kw, 1, 1}, append([]float32(nil), k.Values...)))
		y, err = nn.Conv2D(x, f, co)
	case o.MixChannels:
		// The lecture's kernels.py: a[i, j, :, :] = k_ij over a [KH,KW,3,3] array.
		f := tensor.Zeros(kh, kw, c, c)
		fd := f.Data()
		for i, v := range k.Values {
			for j := 0; j < c*c; j++ {
				fd[i*c*c+j] = v
			}
		}
		y, err = nn.Conv2D(x, f, co)
	default:
		// Depthwise filter [KH,KW,C,1]: the same kernel for every channel.
		f := tensor.Zeros(kh, kw, c, 1)
		fd := f.Data()
		for i, v := range k.Values {
			for j := 0; j < c; j++ {
				fd[i*c+j] = v
			}
		}
		y, err = nn.DepthwiseConv2D(x, f, co)
	}
	if err != nil {
		return nil, fmt.Errorf("imagefilter: kernel %q: %w", k.Name, err)
	}
	if want := []int{1, g.outH, g.outW, c}; !tensor.SameShape(y.Shape(), want) {
		return nil, fmt.Errorf("imagefilter: kernel %q: nn returned shape %v; want %v", k.Name, y.Shape(), want)
	}
	return y, nil
}

// source is an image as a tensor [1,H,W,C] with values in [0, 1] and its
// alpha plane (H·W bytes, nil when every pixel is opaque or C is 1).
type source struct {
	x     *tensor.Tensor
	alpha []uint8
}

// unit8 maps an 8-bit sample to [0, 1] as tf.image.convert_image_dtype
// does: v·float32(1/255).
var unit8 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) * float32(1.0/255)
	}
	return
}()

// Luma weights of tf.image.rgb_to_grayscale.
const (
	wR = 0.2989
	wG = 0.5870
	wB = 0.1140
)

// luma is tf.image.rgb_to_grayscale for one pixel, rounding each product
// to float32 as TF's float32 tensordot does.
func luma(r, g, b float32) float32 {
	return float32(r*wR) + float32(g*wG) + float32(b*wB)
}

// fromImage converts img to a tensor in one pass over its pixels, with
// fast paths for the types the standard decoders return.
func fromImage(img image.Image, gray bool) source {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	c := 3
	if gray {
		c = 1
	}
	x := tensor.Zeros(1, h, w, c)
	d := x.Data()
	var alpha []uint8
	if !gray {
		alpha = make([]uint8, h*w)
	}
	// put stores one pixel's colour (non-premultiplied, in [0, 1]).
	put := func(i int, r, g, bl float32) {
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
						d[y*w+xx] = v
						continue
					}
					put(y*w+xx, v, v, v)
					alpha[y*w+xx] = 0xff
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
						d[y*w+xx] = r
						continue
					}
					put(y*w+xx, r, g, bl)
					if alpha != nil {
						alpha[y*w+xx] = uint8(cc.A >> 8)
					}
				}
			}
		}
	}
	parallel.For(h, 16, rows)
	if alpha != nil && allOpaque(alpha) {
		alpha = nil
	}
	return source{x: x, alpha: alpha}
}

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
	if abs && v < 0 {
		v = -v
	}
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 0xff
	}
	return uint8(v * 255.5)
}

// toImage converts y [1,OH,OW,C] to an *image.Gray (C = 1) or an
// *image.NRGBA (C = 3) with alpha sampled at each window's anchor pixel.
func toImage(y *tensor.Tensor, alpha []uint8, g geometry, abs bool) image.Image {
	d := y.Data()
	oh, ow := g.outH, g.outW
	if y.Dim(-1) == 1 {
		out := image.NewGray(image.Rect(0, 0, ow, oh))
		parallel.For(oh, 16, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row := out.Pix[r*out.Stride : r*out.Stride+ow]
				src := d[r*ow : (r+1)*ow]
				for i, v := range src {
					row[i] = quantize(v, abs)
				}
			}
		})
		return out
	}
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	parallel.For(oh, 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := out.Pix[r*out.Stride : r*out.Stride+4*ow]
			src := d[3*r*ow : 3*(r+1)*ow]
			var arow []uint8
			if alpha != nil {
				iy := min(max(g.offY+r*g.stride, 0), g.inH-1)
				arow = alpha[iy*g.inW : (iy+1)*g.inW]
			}
			for i := 0; i < ow; i++ {
				p := row[4*i : 4*i+4 : 4*i+4]
				p[0] = quantize(src[3*i], abs)
				p[1] = quantize(src[3*i+1], abs)
				p[2] = quantize(src[3*i+2], abs)
				p[3] = 0xff
				if arow != nil {
					p[3] = arow[min(max(g.offX+i*g.stride, 0), g.inW-1)]
				}
			}
		}
	})
	return out
}
