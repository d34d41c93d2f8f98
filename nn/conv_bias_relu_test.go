package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

// TestConv2DBiasReluMatchesUnfused: the fused op gives the bits of
// Conv2D followed by BiasAddRelu on every forward path: the direct
// single-channel one, Winograd, im2col in shared and per-worker chunks,
// 1×1, and a channels-first layout.
func TestConv2DBiasReluMatchesUnfused(t *testing.T) {
	defer func(saved tuning) { tune = saved }(tune)
	cases := []struct {
		name       string
		in, filter []int
		o          ConvOptions
		chunkBytes int
	}{
		{"single channel", []int{3, 9, 8, 1}, []int{5, 5, 1, 32}, ConvOptions{Padding: "SAME"}, 0},
		{"single channel one image", []int{1, 12, 8, 1}, []int{3, 3, 1, 16}, ConvOptions{Padding: "SAME"}, 0},
		{"winograd", []int{2, 7, 9, 8}, []int{5, 5, 8, 16}, ConvOptions{Padding: "SAME"}, 0},
		{"winograd 3x3 with edges", []int{3, 10, 13, 8}, []int{3, 3, 8, 16}, ConvOptions{Padding: "SAME"}, 0},
		{"winograd 3x3 one image", []int{1, 16, 16, 16}, []int{3, 3, 16, 16}, ConvOptions{Padding: "SAME"}, 0},
		{"im2col per worker", []int{5, 6, 7, 3}, []int{3, 3, 3, 5}, ConvOptions{Padding: "VALID", Strides: []int{1, 2}}, 4 * 9 * 3 * 7},
		{"im2col one image", []int{1, 6, 7, 3}, []int{3, 3, 3, 5}, ConvOptions{Padding: "SAME"}, 0},
		{"no input channels", []int{2, 3, 3, 0}, []int{3, 3, 0, 6}, ConvOptions{Padding: "SAME"}, 0},
		{"1x1", []int{2, 4, 5, 6}, []int{1, 1, 6, 7}, ConvOptions{}, 0},
		{"channels first", []int{2, 8, 6, 7}, []int{5, 5, 8, 8}, ConvOptions{Padding: "SAME", DataFormat: "NCHW"}, 0},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tune.WorkerPatchBytes = 256 << 10
			if tc.chunkBytes > 0 {
				tune.WorkerPatchBytes = tc.chunkBytes
			}
			// One image's rows shared out however small (with two or
			// more workers), so that the split epilogues run too.
			tune.C1MinPer, tune.Im2colMinRows = 1, 1
			x, w := cvRand(uint64(10*i+1), tc.in...), cvRand(uint64(10*i+2), tc.filter...)
			b := cvRand(uint64(10*i+3), tc.filter[3])
			conv, err := Conv2D(x, w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			format := "NHWC"
			if tc.o.DataFormat != "" {
				format = tc.o.DataFormat
			}
			want, err := BiasAddRelu(conv, b, format)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Conv2DBiasRelu(x, w, b, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(got.Shape(), want.Shape()) {
				t.Fatalf("shape %v, want %v", got.Shape(), want.Shape())
			}
			zeros := 0
			for j, v := range got.Data() {
				if math.Float32bits(v) != math.Float32bits(want.Data()[j]) {
					t.Fatalf("y[%d] = %v, Conv2D then BiasAddRelu gave %v", j, v, want.Data()[j])
				}
				if v == 0 {
					zeros++
				}
			}
			if zeros == 0 || zeros == got.Len() {
				t.Fatalf("%d of %d outputs are zero: the ReLU was not exercised", zeros, got.Len())
			}

			// Without the ReLU: Conv2DBias, and both through a Packed
			// filter, against the ops run in turn.
			wantBias, err := BiasAdd(conv, b, format)
			if err != nil {
				t.Fatal(err)
			}
			p := NewPacked(w)
			// A residual join: relu((conv + b) + skip), skip of the
			// output's shape, channels last only.
			var skip, wantJoin *tensor.Tensor
			if format == "NHWC" {
				skip = cvRand(uint64(10*i+4), wantBias.Shape()...)
				sum, err := Add(wantBias, skip)
				if err != nil {
					t.Fatal(err)
				}
				wantJoin = Relu(sum)
			}
			for _, fused := range []struct {
				name string
				want *tensor.Tensor
				run  func() (*tensor.Tensor, error)
			}{
				{"Conv2DBias", wantBias, func() (*tensor.Tensor, error) { return Conv2DBias(x, w, b, tc.o) }},
				{"Conv2DBiasPacked", wantBias, func() (*tensor.Tensor, error) { return Conv2DBiasPacked(x, p, b, tc.o) }},
				{"Conv2DBiasReluPacked", want, func() (*tensor.Tensor, error) { return Conv2DBiasReluPacked(x, p, b, tc.o) }},
				{"Conv2DBiasAddRelu", wantJoin, func() (*tensor.Tensor, error) { return Conv2DBiasAddRelu(x, w, b, skip, tc.o) }},
				{"Conv2DBiasAddReluPacked", wantJoin, func() (*tensor.Tensor, error) { return Conv2DBiasAddReluPacked(x, p, b, skip, tc.o) }},
			} {
				if fused.want == nil {
					continue // channels first: no residual form
				}
				got, err := fused.run()
				if err != nil {
					t.Fatal(err)
				}
				for j, v := range got.Data() {
					if math.Float32bits(v) != math.Float32bits(fused.want.Data()[j]) {
						t.Fatalf("%s: y[%d] = %v, the ops in turn gave %v", fused.name, j, v, fused.want.Data()[j])
					}
				}
			}
		})
	}
}

func TestConv2DBiasReluErrors(t *testing.T) {
	x, w := tensor.Zeros(1, 5, 5, 3), tensor.Zeros(3, 3, 3, 4)
	for _, tc := range []struct {
		name string
		bias *tensor.Tensor
		want []string
	}{
		{"nil bias", nil, []string{"bias is nil"}},
		{"wrong length", tensor.Zeros(3), []string{"[4]", "[3]"}},
		{"rank 2", tensor.Zeros(1, 4), []string{"[4]", "[1 4]"}},
	} {
		_, err := Conv2DBiasRelu(x, w, tc.bias, ConvOptions{Padding: "SAME"})
		_, errBias := Conv2DBias(x, w, tc.bias, ConvOptions{Padding: "SAME"})
		for _, err := range []error{err, errBias} {
			if err == nil {
				t.Errorf("%s: no error", tc.name)
				continue
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s: error %q does not mention %q", tc.name, err, s)
				}
			}
		}
	}
	for _, skip := range []*tensor.Tensor{nil, tensor.Zeros(1, 5, 5, 3), tensor.Zeros(1, 3, 3, 4)} {
		if _, err := Conv2DBiasAddRelu(x, w, tensor.Zeros(4), skip, ConvOptions{Padding: "SAME"}); err == nil || !strings.Contains(err.Error(), "skip") {
			t.Errorf("Conv2DBiasAddRelu with skip %v: %v", skip, err)
		}
	}
	if _, err := Conv2DBiasAddRelu(tensor.Zeros(1, 3, 5, 5), w, tensor.Zeros(4), tensor.Zeros(1, 4, 5, 5), ConvOptions{Padding: "SAME", DataFormat: "NCHW"}); err == nil || !strings.Contains(err.Error(), "channels last") {
		t.Errorf("Conv2DBiasAddRelu channels first: %v", err)
	}
	if _, err := Conv2DBiasPacked(x, nil, tensor.Zeros(4), ConvOptions{}); err == nil || !strings.Contains(err.Error(), "nil Packed") {
		t.Errorf("Conv2DBiasPacked of a nil Packed: %v", err)
	}
	if _, err := Conv2DBiasRelu(tensor.Zeros(1, 5, 5, 2), w, tensor.Zeros(4), ConvOptions{}); err == nil || !strings.Contains(err.Error(), "channels") {
		t.Errorf("channel mismatch: %v", err)
	}
}
