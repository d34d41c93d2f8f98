package imagefilter

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// golden is imagefilter/testdata/filters_tfjs.json, written by
// testdata/gen/filters.js.
type golden struct {
	Generator string    `json:"generator"`
	H         int       `json:"height"`
	W         int       `json:"width"`
	Pixels    []uint8   `json:"pixels"`
	Gray      []float32 `json:"gray"`
	Cases     []struct {
		Kernel  string    `json:"kernel"`
		Size    [2]int    `json:"size"`
		Weights []float32 `json:"weights"`
		Mode    string    `json:"mode"`
		Stride  int       `json:"stride"`
		Padding string    `json:"padding"`
		Shape   []int     `json:"shape"`
		Values  []float32 `json:"values"`
	} `json:"cases"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/filters_tfjs.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Pixels) != g.H*g.W*3 || len(g.Cases) == 0 {
		t.Fatalf("golden file: %d pixels for %dx%d, %d cases", len(g.Pixels), g.W, g.H, len(g.Cases))
	}
	return &g
}

// goldenImage is the golden RGB image as an opaque *image.NRGBA.
func (g *golden) image() *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, g.W, g.H))
	for i := 0; i < g.W*g.H; i++ {
		copy(m.Pix[4*i:], g.Pixels[3*i:3*i+3])
		m.Pix[4*i+3] = 0xff
	}
	return m
}

// kernelByName resolves a golden case's kernel: a built-in name or custom text.
func kernelByName(t *testing.T, name string) Kernel {
	t.Helper()
	k, err := Builtin(name)
	if err != nil {
		k, err = ParseKernel(name)
	}
	if err != nil {
		t.Fatalf("kernel %q: %v", name, err)
	}
	return k
}

// filterTensor runs one kernel through convolve and gathers the bands
// into the raw output [1,OH,OW,C].
func filterTensor(x *tensor.Tensor, k Kernel, o Options, g geometry) (*tensor.Tensor, error) {
	c := x.Dim(-1)
	y := tensor.Zeros(1, g.outH, g.outW, c)
	rows := 0
	rowLen := x.Dim(2) * c
	view := func(a, b int) (*tensor.Tensor, error) {
		return tensor.New([]int{1, b - a, x.Dim(2), c}, x.Data()[a*rowLen:b*rowLen])
	}
	err := convolve(view, c, []Kernel{k}, o, g, func(r0 int, band []float32) {
		copy(y.Data()[r0*g.outW*c:], band)
		rows += len(band) / (g.outW * c)
	})
	if err == nil && rows != g.outH {
		err = fmt.Errorf("bands covered %d rows of %d", rows, g.outH)
	}
	return y, err
}

// close32 reports |a − b| ≤ atol + rtol·|b|.
func close32(a, b float32, atol, rtol float64) bool {
	return math.Abs(float64(a)-float64(b)) <= atol+rtol*math.Abs(float64(b))
}

func TestGrayscaleAgainstTFJS(t *testing.T) {
	g := loadGolden(t)
	src := fromImage(g.image(), true)
	if got := src.x.Shape(); !tensor.SameShape(got, []int{1, g.H, g.W, 1}) {
		t.Fatalf("gray tensor shape %v", got)
	}
	for i, v := range src.x.Data() {
		if !close32(v, g.Gray[i], 1e-6, 1e-6) {
			t.Errorf("gray[%d] = %v; tf.image.rgb_to_grayscale gives %v", i, v, g.Gray[i])
		}
	}
}

// TestKernelsAgainstTFJS runs every built-in kernel (and custom odd, even
// and non-square ones) in the three modes, with strides 1–3 and both
// paddings, and compares the float32 result with TensorFlow.js, then the
// 8-bit image Apply returns with the golden values quantized, with the
// default bands, one output row per band, and bands of a few rows.
func TestKernelsAgainstTFJS(t *testing.T) {
	for _, band := range []int{bandValues, 1, 40} {
		t.Run(fmt.Sprintf("band%d", band), func(t *testing.T) {
			defer func(v int) { bandValues = v }(bandValues)
			bandValues = band
			kernelsAgainstTFJS(t)
		})
	}
}

func kernelsAgainstTFJS(t *testing.T) {
	g := loadGolden(t)
	img := g.image()
	rgb, gray := fromImage(img, false), fromImage(img, true)
	for _, c := range g.Cases {
		name := fmt.Sprintf("%s/%s/s%d_%s", c.Kernel, c.Mode, c.Stride, c.Padding)
		t.Run(name, func(t *testing.T) {
			k := kernelByName(t, c.Kernel)
			if k.Size != c.Size {
				t.Fatalf("size %v; golden %v", k.Size, c.Size)
			}
			for i, w := range k.Values {
				if !close32(w, c.Weights[i], 1e-8, 1e-6) {
					t.Fatalf("weight %d = %v; golden %v", i, w, c.Weights[i])
				}
			}
			o := Options{Gray: c.Mode == "gray", MixChannels: c.Mode == "mix", Stride: c.Stride, Padding: c.Padding}
			geo, err := plan(g.H, g.W, k, o)
			if err != nil {
				t.Fatal(err)
			}
			src := rgb
			if o.Gray {
				src = gray
			}
			y, err := filterTensor(src.x, k, o, geo)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), c.Shape) {
				t.Fatalf("shape %v; TF gives %v", y.Shape(), c.Shape)
			}
			bad := 0
			for i, v := range y.Data() {
				if !close32(v, c.Values[i], 2e-6, 1e-5) && bad < 5 {
					bad++
					t.Errorf("value %d = %v; TF gives %v", i, v, c.Values[i])
				}
			}
			for _, abs := range []bool{false, true} {
				o.Abs = abs
				out, err := Apply(img, k, o)
				if err != nil {
					t.Fatal(err)
				}
				checkQuantized(t, out, c.Shape, c.Values, abs)
			}
		})
	}
}

// checkQuantized compares an Apply result with golden float values [1,OH,OW,C]
// quantized like quantize, allowing one step where float32 rounding can
// put a value on either side of a step.
func checkQuantized(t *testing.T, out image.Image, shape []int, vals []float32, abs bool) {
	t.Helper()
	oh, ow, ch := shape[1], shape[2], shape[3]
	if b := out.Bounds(); b != image.Rect(0, 0, ow, oh) {
		t.Fatalf("bounds %v; want %dx%d", b, ow, oh)
	}
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			var got []uint8
			switch m := out.(type) {
			case *image.Gray:
				got = []uint8{m.GrayAt(x, y).Y}
			case *image.NRGBA:
				c := m.NRGBAAt(x, y)
				got = []uint8{c.R, c.G, c.B}
				if c.A != 0xff {
					t.Fatalf("alpha at (%d,%d) = %d; the source is opaque", x, y, c.A)
				}
			default:
				t.Fatalf("Apply returned %T", out)
			}
			if len(got) != ch {
				t.Fatalf("%T for %d channels", out, ch)
			}
			for c := range got {
				v := vals[(y*ow+x)*ch+c]
				if abs {
					v = float32(math.Abs(float64(v)))
				}
				want := math.Floor(math.Min(math.Max(float64(v), 0), 1) * 255.5)
				if math.Abs(float64(got[c])-want) > 1 {
					t.Fatalf("pixel (%d,%d) channel %d = %d; golden %v → %v", x, y, c, got[c], v, want)
				}
			}
		}
	}
}

// handImage is 3x3 gray with values 0 / 0.2 / 0.6 (51 and 153 of 255):
//
//	0   .2  0
//	.2  .6  .2
//	0   .2  0
func handImage() *image.Gray {
	m := image.NewGray(image.Rect(0, 0, 3, 3))
	copy(m.Pix, []uint8{0, 51, 0, 51, 153, 51, 0, 51, 0})
	return m
}

// TestHandWorked checks raw outputs worked out on paper.
func TestHandWorked(t *testing.T) {
	src := fromImage(handImage(), true)
	for _, tc := range []struct {
		kernel  string
		stride  int
		padding string
		at      [2]int // output row, column
		want    float32
		outSize [2]int
	}{
		// .25·.6 + .125·4·.2
		{"blur", 1, "SAME", [2]int{1, 1}, 0.25, [2]int{3, 3}},
		// Corner: .25·0 + .125·(.2 + .2) + .0625·.6; the rest is padding.
		{"blur", 1, "SAME", [2]int{0, 0}, 0.0875, [2]int{3, 3}},
		// Stride 2 SAME over 3: ⌈3/2⌉ = 2 outputs, pad 1 before and after,
		// so output (1,1) is centred on input (2,2): .0625·.6 + .125·.4.
		{"blur", 2, "SAME", [2]int{1, 1}, 0.0875, [2]int{2, 2}},
		{"blur", 1, "VALID", [2]int{0, 0}, 0.25, [2]int{1, 1}},
		{"edge", 1, "SAME", [2]int{1, 1}, 1.6, [2]int{3, 3}},
		// Top middle: 4·.2 − .6 (the zero padding and corners add nothing).
		{"edge", 1, "SAME", [2]int{0, 1}, 0.2, [2]int{3, 3}},
		// Top middle: the kernel's bottom row −(.2 + 2·.6 + .2) on input row 1.
		{"top_sobel", 1, "SAME", [2]int{0, 1}, -1.6, [2]int{3, 3}},
		{"top_sobel", 1, "SAME", [2]int{1, 1}, 0, [2]int{3, 3}},
		{"sharpen", 1, "SAME", [2]int{1, 1}, 5*0.6 - 4*0.2, [2]int{3, 3}},
		// Even kernel: SAME pads the one extra cell after, so output (0,0)
		// covers inputs (0..1, 0..1): 1·0 + 2·.2 + 3·.2 − 4·.6.
		{"1,2;3,-4", 1, "SAME", [2]int{0, 0}, -1.4, [2]int{3, 3}},
		{"1,2;3,-4", 1, "SAME", [2]int{2, 2}, 0, [2]int{3, 3}},
		{"1,2;3,-4", 1, "VALID", [2]int{1, 1}, 1*0.6 + 2*0.2 + 3*0.2, [2]int{2, 2}},
	} {
		t.Run(fmt.Sprintf("%s/s%d_%s/%v", tc.kernel, tc.stride, tc.padding, tc.at), func(t *testing.T) {
			k := kernelByName(t, tc.kernel)
			o := Options{Gray: true, Stride: tc.stride, Padding: tc.padding}
			geo, err := plan(3, 3, k, o)
			if err != nil {
				t.Fatal(err)
			}
			if geo.outH != tc.outSize[0] || geo.outW != tc.outSize[1] {
				t.Fatalf("output %dx%d; want %v", geo.outH, geo.outW, tc.outSize)
			}
			y, err := filterTensor(src.x, k, o, geo)
			if err != nil {
				t.Fatal(err)
			}
			got := y.Data()[tc.at[0]*geo.outW+tc.at[1]]
			if !close32(got, tc.want, 1e-6, 1e-6) {
				t.Errorf("output %v = %v; want %v", tc.at, got, tc.want)
			}
		})
	}
	// The same centre value through Apply: blur's 0.25 becomes ⌊0.25·255.5⌋.
	out, err := Apply(handImage(), kernelByName(t, "blur"), Options{Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if g := out.(*image.Gray).GrayAt(1, 1).Y; g != 63 {
		t.Errorf("blurred centre = %d; want 63", g)
	}
}

// TestIdentityRoundTrip: every 8-bit value survives v·(1/255) → ⌊·255.5⌋.
func TestIdentityRoundTrip(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < 256; i++ {
		m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = uint8(i), uint8(255-i), uint8(i*7), 0xff
	}
	id, _ := Builtin("identity")
	out, err := Apply(m, id, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(*image.NRGBA).Pix; string(got) != string(m.Pix) {
		t.Errorf("identity changed the image")
	}
}

// TestAlphaKept: RGB mode keeps the source alpha at each window's anchor.
func TestAlphaKept(t *testing.T) {
	for _, band := range []int{bandValues, 1} {
		defer func(v int) { bandValues = v }(bandValues)
		bandValues = band
		alphaKept(t)
	}
}

func alphaKept(t *testing.T) {
	m := image.NewNRGBA(image.Rect(10, 20, 15, 25)) // bounds not at the origin
	for y := 0; y < 5; y++ {
		for x := 0; x < 5; x++ {
			m.SetNRGBA(10+x, 20+y, color.NRGBA{uint8(40 * x), uint8(40 * y), 99, uint8(10*x + 50*y + 5)})
		}
	}
	id, _ := Builtin("identity")
	blur, _ := Builtin("blur")
	for _, tc := range []struct {
		k       Kernel
		o       Options
		anchors [][2]int // output (row, col) → input (row, col)
	}{
		{id, Options{}, [][2]int{{0, 0}, {4, 4}, {2, 3}}},
		// VALID 3x3 stride 2 over 5: outputs 2x2 centred on inputs 1 and 3.
		{blur, Options{Stride: 2, Padding: "VALID"}, [][2]int{{1, 1}, {3, 3}, {1, 3}}},
		// SAME stride 2 over 5: 3 outputs, pad 1 before: centres 0, 2, 4.
		{blur, Options{Stride: 2}, [][2]int{{0, 0}, {2, 2}, {4, 4}, {0, 4}}},
	} {
		out, err := Apply(m, tc.k, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		n := out.(*image.NRGBA)
		s := max(tc.o.Stride, 1)
		for _, in := range tc.anchors {
			oy, ox := in[0]/s, in[1]/s
			if got, want := n.NRGBAAt(ox, oy).A, m.NRGBAAt(10+in[1], 20+in[0]).A; got != want {
				t.Errorf("%s %+v: alpha at output (%d,%d) = %d; want input (%d,%d)'s %d", tc.k.Name, tc.o, oy, ox, got, in[0], in[1], want)
			}
		}
		if tc.k.Name == "identity" {
			for y := 0; y < 5; y++ {
				for x := 0; x < 5; x++ {
					if got, want := n.NRGBAAt(x, y), m.NRGBAAt(10+x, 20+y); got != want {
						t.Errorf("identity at (%d,%d) = %v; want %v", x, y, got, want)
					}
				}
			}
		}
	}
}

// TestSourceTypes: the fast paths for RGBA, YCbCr and Gray agree with the
// generic path through color.NRGBA64Model (which reads YCbCr at 16 bits,
// where the fast path, like TF's decoder, rounds to 8).
func TestSourceTypes(t *testing.T) {
	g := loadGolden(t)
	base := g.image()
	r := image.Rect(0, 0, g.W, g.H)
	rgba := image.NewRGBA(r)
	draw.Draw(rgba, r, base, image.Point{}, draw.Src)
	// Premultiplied, translucent: colours are read back as c/a.
	half := image.NewRGBA(r)
	draw.DrawMask(half, r, base, image.Point{}, image.NewUniform(color.Alpha{128}), image.Point{}, draw.Src)
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			c := base.NRGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)] = yy
			ycc.Cb[ycc.COffset(x, y)] = cb
			ycc.Cr[ycc.COffset(x, y)] = cr
		}
	}
	gray := image.NewGray(r)
	draw.Draw(gray, r, base, image.Point{}, draw.Src)
	for _, tc := range []struct {
		name string
		img  image.Image
		tol  float64
	}{{"rgba", rgba, 0}, {"rgba-half", half, 2.0 / 255}, {"ycbcr", ycc, 1.0 / 255}, {"gray", gray, 0}} {
		for _, gm := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gray=%v", tc.name, gm), func(t *testing.T) {
				fast := fromImage(tc.img, gm).x.Data()
				slow := fromImage(genericImage{tc.img}, gm).x.Data()
				if tc.img == gray && gm {
					// A gray source is used as is in gray mode, not re-weighted.
					for i, p := range gray.Pix {
						slow[i] = float32(p) / 255
					}
				}
				for i := range fast {
					if !close32(fast[i], slow[i], tc.tol+1e-6, 0) {
						t.Fatalf("value %d: fast path %v, generic %v", i, fast[i], slow[i])
					}
				}
			})
		}
	}
}

// genericImage hides the concrete type so fromImage takes its generic path.
type genericImage struct{ image.Image }

func TestOptionErrors(t *testing.T) {
	img := handImage()
	blur, _ := Builtin("blur")
	big, _ := Builtin("box:5")
	for _, tc := range []struct {
		name string
		img  image.Image
		k    Kernel
		o    Options
		want string
	}{
		{"negative stride", img, blur, Options{Stride: -2}, "stride -2"},
		{"bad padding", img, blur, Options{Padding: "FULL"}, `padding "FULL"`},
		{"kernel larger than image", img, big, Options{Padding: "VALID"}, "VALID"},
		// TF's VALID size (4 − 5 + 2)/2 = 0: nn gives an empty output, a
		// picture cannot be empty.
		{"empty VALID result", image.NewGray(image.Rect(0, 0, 4, 4)), big, Options{Padding: "VALID", Stride: 2}, "gives an empty 0x0 result under VALID"},
		{"broken kernel", img, Kernel{Name: "k", Size: [2]int{2, 2}, Values: []float32{1}}, Options{}, "has 1 values; want 4"},
		{"empty image", image.NewGray(image.Rect(0, 0, 0, 5)), blur, Options{}, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Apply(tc.img, tc.k, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Apply error = %v; want one mentioning %q", err, tc.want)
			}
		})
	}
	// Lower-case padding is accepted, as tf.nn accepts only upper case but
	// a flag user types either.
	if _, err := Apply(img, blur, Options{Padding: "valid"}); err != nil {
		t.Errorf("padding \"valid\": %v", err)
	}
}

func TestQuantize(t *testing.T) {
	for _, tc := range []struct {
		v    float32
		abs  bool
		want uint8
	}{
		{-0.5, false, 0}, {-0.5, true, 127}, {0, false, 0}, {1, false, 255}, {7, false, 255},
		{-7, true, 255}, {0.5, false, 127}, {float32(math.NaN()), false, 0}, {float32(math.Inf(-1)), true, 255},
	} {
		if got := quantize(tc.v, tc.abs); got != tc.want {
			t.Errorf("quantize(%v, %v) = %d; want %d", tc.v, tc.abs, got, tc.want)
		}
	}
}

// TestApplyAllGroups: kernels of one size share nn calls; the results
// match Apply kernel by kernel, in order, in every mode, with and without
// bands and with sizes mixed.
func TestApplyAllGroups(t *testing.T) {
	g := loadGolden(t)
	img := g.image()
	ks, err := Resolve("blur,box:5,sharpen,top_sobel", "1,2;3,-4", "edge,gaussian")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{}, {Gray: true}, {MixChannels: true, Abs: true}, {Stride: 2, Padding: "VALID"}} {
		for _, band := range []int{bandValues, 7} {
			t.Run(fmt.Sprintf("%+v/band%d", o, band), func(t *testing.T) {
				defer func(v int) { bandValues = v }(bandValues)
				bandValues = band
				all, err := ApplyAll(img, ks, o)
				if err != nil {
					t.Fatal(err)
				}
				for i, k := range ks {
					one, err := Apply(img, k, o)
					if err != nil {
						t.Fatal(err)
					}
					if !sameImage(all[i], one) {
						t.Errorf("ApplyAll result %d (%s) differs from Apply", i, k.Name)
					}
				}
			})
		}
	}
}

// sameImage reports whether a and b have the same type, bounds and pixels
// (within one step, for a different summation order in a grouped call).
func sameImage(a, b image.Image) bool {
	if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) || a.Bounds() != b.Bounds() {
		return false
	}
	var pa, pb []uint8
	switch a := a.(type) {
	case *image.Gray:
		pa, pb = a.Pix, b.(*image.Gray).Pix
	case *image.NRGBA:
		pa, pb = a.Pix, b.(*image.NRGBA).Pix
	}
	for i := range pa {
		if d := int(pa[i]) - int(pb[i]); d < -1 || d > 1 {
			return false
		}
	}
	return true
}

// refFilter is a plain-loop oracle for RGB mode: TF's SAME/VALID geometry,
// float64 sums, the same quantization.
func refFilter(m *image.NRGBA, k Kernel, stride int, padding string) *image.NRGBA {
	h, w := m.Bounds().Dy(), m.Bounds().Dx()
	kh, kw := k.Size[0], k.Size[1]
	var oh, ow, pt, pl int
	if padding == "VALID" {
		oh, ow = (h-kh)/stride+1, (w-kw)/stride+1
	} else {
		oh, ow = (h+stride-1)/stride, (w+stride-1)/stride
		pt = max((oh-1)*stride+kh-h, 0) / 2
		pl = max((ow-1)*stride+kw-w, 0) / 2
	}
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			var sum [3]float64
			for i := 0; i < kh; i++ {
				for j := 0; j < kw; j++ {
					y, x := oy*stride-pt+i, ox*stride-pl+j
					if y < 0 || y >= h || x < 0 || x >= w {
						continue
					}
					c := m.NRGBAAt(x, y)
					wt := float64(k.Values[i*kw+j])
					sum[0] += wt * float64(c.R) / 255
					sum[1] += wt * float64(c.G) / 255
					sum[2] += wt * float64(c.B) / 255
				}
			}
			ay := min(max(oy*stride-pt+(kh-1)/2, 0), h-1)
			ax := min(max(ox*stride-pl+(kw-1)/2, 0), w-1)
			q := func(v float64) uint8 { return uint8(math.Floor(math.Min(math.Max(v, 0), 1) * 255.5)) }
			out.SetNRGBA(ox, oy, color.NRGBA{q(sum[0]), q(sum[1]), q(sum[2]), m.NRGBAAt(ax, ay).A})
		}
	}
	return out
}

// TestLargeImage covers images big enough for the parallel conversions
// and many bands, against the plain-loop oracle, with translucent pixels.
func TestLargeImage(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 203, 141))
	for y := 0; y < 141; y++ {
		for x := 0; x < 203; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * y), uint8(3*x + y), uint8(x ^ y), uint8(255 - (x*7+y*13)%128)})
		}
	}
	ks, err := Resolve("emboss,sharpen", "1,2;3,-4", "gaussian:4:0.8")
	if err != nil {
		t.Fatal(err)
	}
	for _, band := range []int{bandValues, 5000} {
		for _, geo := range []struct {
			stride  int
			padding string
		}{{1, "SAME"}, {3, "SAME"}, {2, "VALID"}} {
			t.Run(fmt.Sprintf("band%d/s%d_%s", band, geo.stride, geo.padding), func(t *testing.T) {
				defer func(v int) { bandValues = v }(bandValues)
				bandValues = band
				outs, err := ApplyAll(m, ks, Options{Stride: geo.stride, Padding: geo.padding})
				if err != nil {
					t.Fatal(err)
				}
				for i, k := range ks {
					if !sameImage(outs[i], refFilter(m, k, geo.stride, geo.padding)) {
						t.Errorf("%s differs from the plain-loop oracle", k.Name)
					}
				}
			})
		}
	}
}

// TestGrayCompositesOverWhite: in gray mode a transparent pixel shows as
// white whatever colour it stores, and a half-transparent black one as
// mid gray, for each source type's path.
func TestGrayCompositesOverWhite(t *testing.T) {
	id, err := Builtin("identity")
	if err != nil {
		t.Fatal(err)
	}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	copy(nrgba.Pix, []uint8{200, 10, 30, 0, 0, 0, 0, 128, 0, 0, 0, 255})
	rgba := image.NewRGBA(image.Rect(0, 0, 3, 1))
	copy(rgba.Pix, []uint8{0, 0, 0, 0, 0, 0, 0, 128, 0, 0, 0, 255})
	nrgba64 := image.NewNRGBA64(image.Rect(0, 0, 3, 1))
	nrgba64.SetNRGBA64(0, 0, color.NRGBA64{R: 0xc000, G: 0x1000, A: 0})
	nrgba64.SetNRGBA64(1, 0, color.NRGBA64{A: 0x8080})
	nrgba64.SetNRGBA64(2, 0, color.NRGBA64{A: 0xffff})
	for _, tc := range []struct {
		name string
		img  image.Image
	}{{"NRGBA", nrgba}, {"RGBA", rgba}, {"NRGBA64", nrgba64}} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Apply(tc.img, id, Options{Gray: true})
			if err != nil {
				t.Fatal(err)
			}
			got := out.(*image.Gray).Pix
			if got[0] != 255 || got[1] < 126 || got[1] > 128 || got[2] != 0 {
				t.Errorf("gray %v; want [255 ~127 0]", got)
			}
		})
	}
}
