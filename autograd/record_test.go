package autograd

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/convnet-go/convnet/nn"
)

// Recorded options equal the caller's and share no storage with them:
// the usual ones come from the shared tables, the others are copies.
func TestRecordedOptions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      nn.ConvOptions
		shared bool
	}{
		{"same stride 1", nn.ConvOptions{Strides: []int{1, 1}, Padding: "SAME"}, true},
		{"valid full-rank stride 2", nn.ConvOptions{Strides: []int{1, 2, 2, 1}, Dilations: []int{1, 1}, Padding: "VALID"}, true},
		{"stride 3", nn.ConvOptions{Strides: []int{3, 3}, Padding: "SAME"}, false},
		{"channels first", nn.ConvOptions{Strides: []int{1, 1}, Padding: "SAME", DataFormat: "NCHW"}, false},
		{"explicit", nn.ConvOptions{Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{1, 1}, {2, 2}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := recordedConv(tc.o)
			shared := false
			for _, c := range commonConv {
				shared = shared || c == r
			}
			if shared != tc.shared {
				t.Errorf("shared: %v, want %v", shared, tc.shared)
			}
			if r.Padding != tc.o.Padding || r.DataFormat != tc.o.DataFormat || !slices.Equal(r.Strides, tc.o.Strides) ||
				!slices.Equal(r.Dilations, tc.o.Dilations) || len(r.ExplicitPaddings) != len(tc.o.ExplicitPaddings) {
				t.Errorf("recorded %+v, want %+v", *r, tc.o)
			}
			if len(tc.o.Strides) > 0 && unsafe.SliceData(r.Strides) == unsafe.SliceData(tc.o.Strides) {
				t.Error("the recorded strides share the caller's array")
			}
		})
	}
	p := nn.PoolOptions{KSize: []int{2, 2}, Strides: []int{2, 2}, Padding: "VALID"}
	if r := recordedPool(p); r == nil || unsafe.SliceData(r.KSize) == unsafe.SliceData(p.KSize) || !slices.Equal(r.KSize, p.KSize) {
		t.Errorf("recordedPool(%+v) = %+v", p, r)
	}
	p = nn.PoolOptions{KSize: []int{3, 3}, Padding: "EXPLICIT", ExplicitPaddings: [][2]int{{1, 1}, {1, 1}}}
	r := recordedPool(p)
	p.ExplicitPaddings[0][0] = 2 // the caller reuses its options
	if len(r.ExplicitPaddings) != 2 || r.ExplicitPaddings[0] != [2]int{1, 1} {
		t.Errorf("recordedPool's explicit paddings follow the caller's change: %v", r.ExplicitPaddings)
	}
}

// A Var stays within the 96-byte size class (on 64-bit machines): the
// rarely used fields belong in varSide.
func TestVarSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are those of 64-bit machines")
	}
	if n := unsafe.Sizeof(Var{}); n > 96 {
		t.Errorf("a Var is %d bytes, more than the 96-byte size class", n)
	}
}
