package nn

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestSeparableConv2D compares with the float64 depthwise reference
// followed by the pointwise sum written out.
func TestSeparableConv2D(t *testing.T) {
	cases := []struct {
		name   string
		in, dw []int
		k      int
		o      ConvOptions
	}{
		{"SAME M=2", []int{2, 5, 6, 3}, []int{3, 3, 3, 2}, 4, ConvOptions{Padding: "SAME"}},
		{"VALID stride 2 M=1", []int{1, 7, 7, 2}, []int{2, 3, 2, 1}, 3, ConvOptions{Padding: "VALID", Strides: []int{2}}},
		{"NCHW rate 2", []int{1, 4, 6, 5}, []int{2, 2, 4, 1}, 2, ConvOptions{Padding: "SAME", Dilations: []int{2}, DataFormat: "NCHW"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seed := uint64(60 + 10*i)
			x, dw := cvRand(seed, tc.in...), cvRand(seed+1, tc.dw...)
			cm := tc.dw[2] * tc.dw[3]
			pw := cvRand(seed+2, 1, 1, cm, tc.k)
			y, err := SeparableConv2D(x, dw, pw, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			xl := x
			if tc.o.DataFormat == "NCHW" {
				xl = cvPermute(x, 0, 2, 3, 1)
			}
			lo := tc.o
			lo.DataFormat = ""
			s, err := newConvSpec("test", 2, xl.Shape(), tc.dw, lo, true)
			if err != nil {
				t.Fatal(err)
			}
			d := make([]float64, tensor.Size(s.out))
			depthwiseRef(&s.g, s.f, cvF64(xl.Data()), cvF64(dw.Data()), d)
			want := make([]float32, len(d)/cm*tc.k)
			for p := 0; p < len(d)/cm; p++ {
				for k := 0; k < tc.k; k++ {
					var sum float64
					for j := 0; j < cm; j++ {
						sum += d[p*cm+j] * float64(pw.Data()[j*tc.k+k])
					}
					want[p*tc.k+k] = float32(sum)
				}
			}
			got := y
			if tc.o.DataFormat == "NCHW" {
				got = cvPermute(y, 0, 2, 3, 1)
			}
			cvClose(t, "output", got.Data(), want, 1e-5)
		})
	}
}

func TestSeparableConv2DErrors(t *testing.T) {
	x := tensor.Zeros(1, 5, 5, 3)
	dw := tensor.Zeros(3, 3, 3, 2)
	cases := []struct {
		name  string
		x, dw *tensor.Tensor
		pw    *tensor.Tensor
		want  []string
	}{
		{"pointwise not 1x1", x, dw, tensor.Zeros(3, 3, 6, 4), []string{"[1, 1, 6, F]", "[3 3 6 4]"}},
		{"pointwise channels", x, dw, tensor.Zeros(1, 1, 3, 4), []string{"[1 1 3 4]"}},
		{"depthwise rank", x, tensor.Zeros(3, 3, 3), tensor.Zeros(1, 1, 6, 4), []string{"[3 3 3]"}},
		{"input channels", tensor.Zeros(1, 5, 5, 2), dw, tensor.Zeros(1, 1, 6, 4), []string{"2 channels"}},
		{"nil", x, dw, nil, []string{"pointwiseFilter is nil"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SeparableConv2D(tc.x, tc.dw, tc.pw, ConvOptions{Padding: "SAME"})
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
