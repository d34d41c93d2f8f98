package nn

import (
	"math"
	"testing"
)

// A Packed filter keeps the spec and plan of its last geometry: the same
// call reuses them, and a call with another input shape, other options
// or another tuning plans afresh. Every call gives Conv2D's bits.
func TestPackedConvMemo(t *testing.T) {
	defer func(saved tuning) { tune = saved }(tune)
	w := randT(1, -1, 1, 5, 5, 8, 16)
	p := NewPacked(w)
	same := ConvOptions{Strides: []int{1, 1}, Padding: "SAME"}
	for _, tc := range []struct {
		name   string
		in     []int
		o      ConvOptions
		retune bool
		fresh  bool // a new memo is expected
	}{
		{"first call", []int{1, 12, 12, 8}, same, false, true},
		{"same geometry", []int{1, 12, 12, 8}, same, false, false},
		{"equal options, new slices", []int{1, 12, 12, 8}, ConvOptions{Strides: []int{1, 1}, Padding: "SAME"}, false, false},
		{"another batch", []int{2, 12, 12, 8}, same, false, true},
		{"another padding", []int{2, 12, 12, 8}, ConvOptions{Strides: []int{1, 1}, Padding: "VALID"}, false, true},
		{"another stride", []int{2, 12, 12, 8}, ConvOptions{Strides: []int{2, 2}, Padding: "VALID"}, false, true},
		{"another tuning", []int{2, 12, 12, 8}, ConvOptions{Strides: []int{2, 2}, Padding: "VALID"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.retune {
				tune.Winograd = !tune.Winograd
			}
			before := p.memo.Load()
			x := randT(2, -1, 1, tc.in...)
			got, err := Conv2DPacked(x, p, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			after := p.memo.Load()
			if fresh := after != before; fresh != tc.fresh {
				t.Errorf("new memo: %v, want %v", fresh, tc.fresh)
			}
			if !after.matches("nn.Conv2D", tc.in, tc.o) {
				t.Error("the memo does not match the call that made it")
			}
			want, err := Conv2D(x, w, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range want.Data() {
				if math.Float32bits(v) != math.Float32bits(got.Data()[i]) {
					t.Fatalf("element %d: %v, want Conv2D's %v", i, got.Data()[i], v)
				}
			}
		})
	}
	if _, err := Conv2DPacked(randT(3, -1, 1, 1, 12, 12, 3), p, same); err == nil {
		t.Error("a memo let a 3-channel input through an 8-channel filter")
	}
}
