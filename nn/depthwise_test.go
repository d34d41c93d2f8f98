package nn

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestDepthwiseByHand(t *testing.T) {
	cases := []struct {
		name       string
		in, filter *tensor.Tensor
		o          ConvOptions
		wantShape  []int
		want       []float32
	}{
		{
			// 1x1 window, C = 2, M = 2: pixel (1, 10) → (1·1, 1·2, 10·3, 10·4).
			name:      "channel multiplier order c·M+m",
			in:        cvT([]int{1, 1, 2, 2}, 1, 10, 2, 20),
			filter:    cvT([]int{1, 1, 2, 2}, 1, 2, 3, 4),
			o:         ConvOptions{Padding: "VALID"},
			wantShape: []int{1, 1, 2, 4},
			want:      []float32{1, 2, 30, 40, 2, 4, 60, 80},
		},
		{
			// Channel 0 holds 1..9 and is summed over 2x2 blocks; channel 1
			// holds ones and its filter keeps only the top-left tap.
			name: "channels filtered separately",
			in: cvT([]int{1, 3, 3, 2},
				1, 1, 2, 1, 3, 1,
				4, 1, 5, 1, 6, 1,
				7, 1, 8, 1, 9, 1),
			filter:    cvT([]int{2, 2, 2, 1}, 1, 1, 1, 0, 1, 0, 1, 0),
			o:         ConvOptions{Padding: "VALID"},
			wantShape: []int{1, 2, 2, 2},
			want:      []float32{12, 1, 16, 1, 24, 1, 28, 1},
		},
		{
			// Strides 1 (H) and 2 (W), one channel: 1x2 window [1, 10] over
			// rows of 1..4; SAME pads W by 0 before and 0 after (out 2).
			name:      "unequal strides",
			in:        cvT([]int{1, 2, 4, 1}, 1, 2, 3, 4, 5, 6, 7, 8),
			filter:    cvT([]int{1, 2, 1, 1}, 1, 10),
			o:         ConvOptions{Padding: "SAME", Strides: []int{1, 2}},
			wantShape: []int{1, 2, 2, 1},
			want:      []float32{21, 43, 65, 87},
		},
		{
			// Dilations 1 (H) and 2 (W): taps (0, 0) and (0, 2), VALID.
			name:      "unequal dilations",
			in:        cvT([]int{1, 1, 4, 1}, 1, 2, 3, 4),
			filter:    cvT([]int{1, 2, 1, 1}, 1, 10),
			o:         ConvOptions{Padding: "VALID", Dilations: []int{1, 2}},
			wantShape: []int{1, 1, 2, 1},
			want:      []float32{31, 42},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y, err := DepthwiseConv2D(tc.in, tc.filter, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), tc.wantShape) {
				t.Fatalf("shape %v, want %v", y.Shape(), tc.wantShape)
			}
			cvClose(t, "output", y.Data(), tc.want, 0)
		})
	}
}

var depthwiseCases = []convGeomCase{
	{name: "same 3x3 M=1", nsp: 2, in: []int{2, 5, 6, 3}, filter: []int{3, 3, 3, 1}, o: ConvOptions{Padding: "SAME"}, seed: 21},
	{name: "valid M=2 stride 2x3", nsp: 2, in: []int{1, 7, 11, 2}, filter: []int{3, 2, 2, 2}, o: ConvOptions{Padding: "VALID", Strides: []int{2, 3}}, seed: 22},
	{name: "same even kernel M=3", nsp: 2, in: []int{2, 4, 5, 2}, filter: []int{2, 4, 2, 3}, o: ConvOptions{Padding: "SAME"}, seed: 23},
	{name: "dilation 2x3", nsp: 2, in: []int{1, 7, 8, 2}, filter: []int{2, 3, 2, 2}, o: ConvOptions{Padding: "SAME", Dilations: []int{2, 3}}, seed: 24},
	{name: "explicit", nsp: 2, in: []int{1, 3, 5, 3}, filter: []int{3, 2, 3, 1}, o: ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{0, 2}, {3, 1}}}, seed: 25},
	{name: "kernel larger than input", nsp: 2, in: []int{1, 2, 2, 1}, filter: []int{3, 5, 1, 2}, o: ConvOptions{Padding: "SAME"}, seed: 26},
	{name: "odd wide", nsp: 2, in: []int{3, 13, 11, 7}, filter: []int{5, 3, 7, 3}, o: ConvOptions{Padding: "SAME", Strides: []int{2, 1}}, seed: 27, noGrad: true},
}

func (c convGeomCase) depthwiseGeom(t *testing.T) *convSpec {
	t.Helper()
	s, err := newConvSpec("test", 2, c.in, c.filter, c.o, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDepthwiseGradcheck(t *testing.T) {
	for _, tc := range depthwiseCases {
		if tc.noGrad {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			s := tc.depthwiseGeom(t)
			checkBackprops(t, tc, tensor.Size(s.out),
				func(x, w, y []float64) { depthwiseRef(&s.g, s.f, x, w, y) },
				func(w, dy, dx []float64) { depthwiseBackpropInputRef(&s.g, s.f, w, dy, dx) },
				func(x, dy, dw []float64) { depthwiseBackpropFilterRef(&s.g, s.f, x, dy, dw) })
		})
	}
}

func TestDepthwiseMatchesReference(t *testing.T) {
	for _, tc := range depthwiseCases {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.depthwiseGeom(t)
			x, w := cvRand(tc.seed, tc.in...), cvRand(tc.seed+100, tc.filter...)
			dy := cvRand(tc.seed+200, s.out...)
			y, err := DepthwiseConv2D(x, w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, tensor.Size(s.out))
			depthwiseRef(&s.g, s.f, x.Data(), w.Data(), want)
			cvClose(t, "forward", y.Data(), want, 1e-5)

			dx, err := DepthwiseConv2DBackpropInput(tc.in, w, dy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			want = make([]float32, x.Len())
			depthwiseBackpropInputRef(&s.g, s.f, w.Data(), dy.Data(), want)
			cvClose(t, "backprop input", dx.Data(), want, 1e-5)

			dw, err := DepthwiseConv2DBackpropFilter(x, tc.filter, dy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			want = make([]float32, w.Len())
			depthwiseBackpropFilterRef(&s.g, s.f, x.Data(), dy.Data(), want)
			cvClose(t, "backprop filter", dw.Data(), want, 1e-4)

			// Channels-first gives the same numbers, transposed.
			of := tc.o
			of.DataFormat = "NCHW"
			if of.Padding == "EXPLICIT" {
				of.ExplicitPaddings = append([][2]int{{0, 0}, {0, 0}}, tc.o.ExplicitPaddings...)
			}
			xf, dyf := cvPermute(x, 0, 3, 1, 2), cvPermute(dy, 0, 3, 1, 2)
			yf, err := DepthwiseConv2D(xf, w, of)
			if err != nil {
				t.Fatal(err)
			}
			cvClose(t, "NCHW forward", cvPermute(yf, 0, 2, 3, 1).Data(), y.Data(), 0)
			dxf, err := DepthwiseConv2DBackpropInput(xf.Shape(), w, dyf, of)
			if err != nil {
				t.Fatal(err)
			}
			cvClose(t, "NCHW backprop input", cvPermute(dxf, 0, 2, 3, 1).Data(), dx.Data(), 0)
			dwf, err := DepthwiseConv2DBackpropFilter(xf, tc.filter, dyf, of)
			if err != nil {
				t.Fatal(err)
			}
			cvClose(t, "NCHW backprop filter", dwf.Data(), dw.Data(), 0)
		})
	}
}

// TestDepthwiseIsPerChannelConv2D checks depthwise output channels c·M..c·M+M−1
// against Conv2D of channel c alone with the filters w[:, :, c, :].
func TestDepthwiseIsPerChannelConv2D(t *testing.T) {
	const n, h, w, c, m = 2, 6, 5, 3, 2
	x, f := cvRand(31, n, h, w, c), cvRand(32, 3, 2, c, m)
	o := ConvOptions{Padding: "SAME", Strides: []int{2, 1}}
	y, err := DepthwiseConv2D(x, f, o)
	if err != nil {
		t.Fatal(err)
	}
	oh, ow := y.Dim(1), y.Dim(2)
	for ch := 0; ch < c; ch++ {
		xc := tensor.Zeros(n, h, w, 1)
		for i := range xc.Data() {
			xc.Data()[i] = x.Data()[i*c+ch]
		}
		fc := tensor.Zeros(3, 2, 1, m)
		for i := range fc.Data() {
			fc.Data()[i] = f.Data()[(i/m*c+ch)*m+i%m]
		}
		yc, err := Conv2D(xc, fc, o)
		if err != nil {
			t.Fatal(err)
		}
		for p := 0; p < n*oh*ow; p++ {
			for j := 0; j < m; j++ {
				got, want := y.Data()[(p*c+ch)*m+j], yc.Data()[p*m+j]
				if d := got - want; d > 1e-5 || d < -1e-5 {
					t.Fatalf("channel %d, position %d, multiplier %d: %v, Conv2D gives %v", ch, p, j, got, want)
				}
			}
		}
	}
}

func TestDepthwiseErrors(t *testing.T) {
	x := tensor.Zeros(1, 5, 5, 3)
	w := tensor.Zeros(3, 3, 3, 2)
	cases := []struct {
		name string
		run  func() error
		want []string
	}{
		{"input rank", func() error { _, err := DepthwiseConv2D(tensor.Zeros(5, 5, 3), w, ConvOptions{}); return err }, []string{"[5 5 3]"}},
		{"filter rank", func() error { _, err := DepthwiseConv2D(x, tensor.Zeros(3, 3, 3), ConvOptions{}); return err }, []string{"[KH, KW, C, M]", "[3 3 3]"}},
		{"channels", func() error { _, err := DepthwiseConv2D(x, tensor.Zeros(3, 3, 4, 2), ConvOptions{}); return err }, []string{"3 channels", "[3 3 4 2]"}},
		{"strides with rate", func() error {
			_, err := DepthwiseConv2D(x, w, ConvOptions{Padding: "SAME", Strides: []int{2}, Dilations: []int{2}})
			return err
		}, []string{"strides [2 2]", "dilations [2 2]"}},
		{"VALID negative", func() error { _, err := DepthwiseConv2D(tensor.Zeros(1, 5, 1, 3), w, ConvOptions{}); return err }, []string{"negative"}},
		{"backprop input grad shape", func() error {
			_, err := DepthwiseConv2DBackpropInput([]int{1, 5, 5, 3}, w, tensor.Zeros(1, 5, 5, 3), ConvOptions{Padding: "SAME"})
			return err
		}, []string{"[1 5 5 3]", "[1 5 5 6]"}},
		{"backprop filter shape", func() error {
			_, err := DepthwiseConv2DBackpropFilter(x, []int{3, 3, 2, 2}, tensor.Zeros(1, 5, 5, 6), ConvOptions{Padding: "SAME"})
			return err
		}, []string{"[3 3 2 2]"}},
		{"backprop filter grad shape", func() error {
			_, err := DepthwiseConv2DBackpropFilter(x, []int{3, 3, 3, 2}, tensor.Zeros(1, 3, 3, 6), ConvOptions{Padding: "SAME"})
			return err
		}, []string{"[1 3 3 6]", "[1 5 5 6]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
