package nn

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/tensor"
)

func TestConv2DTransposeByHand(t *testing.T) {
	cases := []struct {
		name        string
		in, filter  *tensor.Tensor
		outputShape []int
		o           ConvOptions
		want        []float32
	}{
		{
			// Stride 2, 2x2 ones: each input cell fills its own 2x2 block.
			name:        "stride 2 upsampling",
			in:          cvT([]int{1, 2, 2, 1}, 1, 2, 3, 4),
			filter:      tensor.Ones(2, 2, 1, 1),
			outputShape: []int{1, 4, 4, 1},
			o:           ConvOptions{Padding: "VALID", Strides: []int{2}},
			want:        []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4},
		},
		{
			// Stride 1 VALID, 1-row filter [1, 10]: x[j] spreads to out[j] and out[j+1]·10.
			name:        "stride 1 VALID spreads",
			in:          cvT([]int{1, 1, 2, 1}, 1, 2),
			filter:      cvT([]int{1, 2, 1, 1}, 1, 10),
			outputShape: []int{1, 1, 3, 1},
			o:           ConvOptions{Padding: "VALID"},
			want:        []float32{1, 12, 20},
		},
		{
			// Two input channels into one output channel: filter [.., outC=1, inC=2] = (1, 100).
			name:        "channels sum",
			in:          cvT([]int{1, 1, 1, 2}, 3, 4),
			filter:      cvT([]int{1, 1, 1, 2}, 1, 100),
			outputShape: []int{1, 1, 1, 1},
			o:           ConvOptions{Padding: "SAME"},
			want:        []float32{403},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y, err := Conv2DTranspose(tc.in, tc.filter, tc.outputShape, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), tc.outputShape) {
				t.Fatalf("shape %v, want %v", y.Shape(), tc.outputShape)
			}
			cvClose(t, "output", y.Data(), tc.want, 0)
		})
	}
}

// TestConv2DTransposeGradients checks the gradient formulas in its doc
// comment (the ones autograd uses), computed with the exported float32
// ops, against float64 finite differences of the reference.
func TestConv2DTransposeGradients(t *testing.T) {
	cases := []struct {
		name        string
		in, filter  []int // input [N, H, W, inC]; filter [KH, KW, outC, inC]
		outputShape []int
		o           ConvOptions
	}{
		{"SAME stride 2", []int{2, 3, 2, 3}, []int{3, 3, 2, 3}, []int{2, 6, 4, 2}, ConvOptions{Padding: "SAME", Strides: []int{2}}},
		{"SAME stride 2 odd output", []int{1, 3, 3, 2}, []int{4, 2, 3, 2}, []int{1, 5, 6, 3}, ConvOptions{Padding: "SAME", Strides: []int{2}}},
		{"VALID stride 3x2", []int{1, 2, 3, 1}, []int{3, 2, 2, 1}, []int{1, 6, 6, 2}, ConvOptions{Padding: "VALID", Strides: []int{3, 2}}},
		{"VALID dilation 2", []int{1, 3, 2, 2}, []int{2, 3, 1, 2}, []int{1, 5, 6, 1}, ConvOptions{Padding: "VALID", Dilations: []int{2}}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seed := uint64(40 + 10*i)
			x, w := cvRand(seed, tc.in...), cvRand(seed+1, tc.filter...)
			y, err := Conv2DTranspose(x, w, tc.outputShape, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			s, err := newConvSpec("test", 2, tc.outputShape, tc.filter, tc.o, false)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, y.Len())
			convBackpropInputRef(&s.g, s.f, w.Data(), x.Data(), want)
			cvClose(t, "forward", y.Data(), want, 1e-5)

			x64, w64 := cvF64(x.Data()), cvF64(w.Data())
			ny := y.Len()
			tol := gradcheck.Options{Atol: 1e-4, Rtol: 1e-4}
			// d/dinput = Conv2D(grad, filter, o).
			p, f := gradcheck.Project(ny, seed+2, func(x []float64) []float64 {
				y := make([]float64, ny)
				convBackpropInputRef(&s.g, s.f, w64, x, y)
				return y
			})
			g := cvT(tc.outputShape, f32s(p)...)
			dx, err := Conv2D(g, w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if err := gradcheck.Check(f, x64, cvF64(dx.Data()), tol); err != nil {
				t.Errorf("d/dinput: %v", err)
			}
			// d/dfilter = Conv2DBackpropFilter(grad, filter.Shape(), input, o).
			p, f = gradcheck.Project(ny, seed+3, func(w []float64) []float64 {
				y := make([]float64, ny)
				convBackpropInputRef(&s.g, s.f, w, x64, y)
				return y
			})
			g = cvT(tc.outputShape, f32s(p)...)
			dw, err := Conv2DBackpropFilter(g, tc.filter, x, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if err := gradcheck.Check(f, w64, cvF64(dw.Data()), tol); err != nil {
				t.Errorf("d/dfilter: %v", err)
			}
		})
	}
}

func f32s(a []float64) []float32 {
	out := make([]float32, len(a))
	for i, v := range a {
		out[i] = float32(v)
	}
	return out
}

func TestConv2DTransposeErrors(t *testing.T) {
	x := tensor.Zeros(1, 3, 3, 2)
	w := tensor.Zeros(3, 3, 4, 2)
	cases := []struct {
		name        string
		x, w        *tensor.Tensor
		outputShape []int
		o           ConvOptions
		want        []string
	}{
		{"output shape does not fit", x, w, []int{1, 7, 6, 4}, ConvOptions{Padding: "SAME", Strides: []int{2}}, []string{"[1 7 6 4]", "[1 4 3 2]"}},
		{"output shape rank", x, w, []int{1, 6, 6}, ConvOptions{}, []string{"[1 6 6]"}},
		{"input channels", x, tensor.Zeros(3, 3, 4, 3), []int{1, 5, 5, 4}, ConvOptions{}, []string{"2 channels", "[3 3 4 3]"}},
		{"output channels", x, w, []int{1, 5, 5, 3}, ConvOptions{}, []string{"[1 5 5 3]", "gives 4"}},
		{"input rank", tensor.Zeros(3, 3, 2), w, []int{1, 5, 5, 4}, ConvOptions{}, []string{"[3 3 2]"}},
		{"strides with dilations", x, w, []int{1, 6, 6, 4}, ConvOptions{Padding: "SAME", Strides: []int{2}, Dilations: []int{2}}, []string{"dilations"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Conv2DTranspose(tc.x, tc.w, tc.outputShape, tc.o)
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
