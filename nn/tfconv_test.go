package nn

import (
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func seqTensor(shape ...int) *tensor.Tensor {
	x := tensor.Zeros(shape...)
	for i := range x.Data() {
		x.Data()[i] = float32(i%13)*0.25 - 1.5
	}
	return x
}

// TestConv1DLeadingBatchDims: tf.nn.conv1d takes [B1, …, Bk, W, C]; each
// example's block of the result must be that example convolved alone.
func TestConv1DLeadingBatchDims(t *testing.T) {
	w := seqTensor(3, 2, 4)
	for _, tc := range []struct {
		name  string
		shape []int
		o     ConvOptions
		want  []int
	}{
		{"two batch dims", []int{2, 3, 7, 2}, ConvOptions{Padding: "SAME"}, []int{2, 3, 7, 4}},
		{"three batch dims, stride 2", []int{2, 1, 2, 9, 2}, ConvOptions{Padding: "VALID", Strides: []int{2}}, []int{2, 1, 2, 4, 4}},
		{"channels first", []int{3, 2, 2, 6}, ConvOptions{Padding: "VALID", DataFormat: "NCW"}, []int{3, 2, 4, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := seqTensor(tc.shape...)
			y, err := Conv1D(x, w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), tc.want) {
				t.Fatalf("shape %v, want %v", y.Shape(), tc.want)
			}
			// Each example on its own, as a batch of one: its result is
			// the example's block of y.
			r := len(tc.shape)
			in := tc.shape[r-2] * tc.shape[r-1]
			out := tc.want[r-2] * tc.want[r-1]
			for b := range tensor.Size(tc.shape[:r-2]) {
				one := tensor.Must(tensor.New([]int{1, tc.shape[r-2], tc.shape[r-1]}, x.Data()[b*in:(b+1)*in]))
				ref, err := Conv1D(one, w, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range ref.Data() {
					if got := y.Data()[b*out+i]; got != v {
						t.Fatalf("example %d value %d = %v, the example alone gives %v", b, i, got, v)
					}
				}
			}
		})
	}
	if _, err := Conv1D(seqTensor(2, 2), w, ConvOptions{}); err == nil {
		t.Error("a rank-2 input was accepted")
	}
}

// TestBackpropInputSpatialSizes: input_sizes given as the spatial [H, W]
// (TF accepts this form) give the same gradient as the full shape.
func TestBackpropInputSpatialSizes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		full    []int
		spatial []int
		o       ConvOptions
	}{
		{"NHWC", []int{2, 5, 6, 3}, []int{5, 6}, ConvOptions{Padding: "SAME", Strides: []int{2}}},
		{"NCHW", []int{2, 3, 5, 6}, []int{5, 6}, ConvOptions{Padding: "VALID", DataFormat: "NCHW"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := seqTensor(3, 3, 3, 4)
			y, err := Conv2D(seqTensor(tc.full...), w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			dy := seqTensor(y.Shape()...)
			want, err := Conv2DBackpropInput(tc.full, w, dy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Conv2DBackpropInput(tc.spatial, w, dy, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(got.Shape(), tc.full) {
				t.Fatalf("shape %v, want %v", got.Shape(), tc.full)
			}
			for i, v := range want.Data() {
				if got.Data()[i] != v {
					t.Fatalf("value %d = %v, want %v", i, got.Data()[i], v)
				}
			}
		})
	}
	// Depthwise takes the same form: C from the filter [KH, KW, C, M].
	w := seqTensor(3, 3, 2, 2)
	dy := seqTensor(1, 4, 4, 4)
	got, err := DepthwiseConv2DBackpropInput([]int{4, 4}, w, dy, ConvOptions{Padding: "SAME"})
	if err != nil || !tensor.SameShape(got.Shape(), []int{1, 4, 4, 2}) {
		t.Fatalf("depthwise: %v, %v", got, err)
	}
}
