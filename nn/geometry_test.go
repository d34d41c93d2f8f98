package nn

import (
	"strings"
	"testing"
)

// The lecture's size examples and TF's SAME/VALID rule.
func TestOutputSize(t *testing.T) {
	for _, tc := range []struct {
		name               string
		in, k, stride, dil int
		padding            string
		want               int
	}{
		{"lecture 7x7 3x3 s1 p0", 7, 3, 1, 1, "0", 5},
		{"lecture 7x7 3x3 s2 p0", 7, 3, 2, 1, "0", 3},
		{"lecture 28 5x5 SAME", 28, 5, 1, 1, "SAME", 28},
		{"lecture 28 pool 2/2", 28, 2, 2, 1, "VALID", 14},
		{"pad 1 keeps size", 7, 3, 1, 1, "1", 7},
		{"SAME stride 3", 10, 3, 3, 1, "SAME", 4},
		{"VALID stride 3", 10, 3, 3, 1, "VALID", 3},
		{"VALID dilation 2", 10, 3, 1, 2, "VALID", 6},
		{"VALID exact fit", 5, 5, 2, 1, "VALID", 1},
		// TF's (in − F + s)/s, truncated: empty outputs where the window
		// overhangs by less than the stride.
		{"VALID empty, stride 2", 2, 3, 2, 1, "VALID", 0},
		{"VALID empty, stride 1", 2, 3, 1, 1, "VALID", 0},
		{"VALID empty, stride 3", 1, 3, 3, 1, "VALID", 0},
		{"VALID empty, dilated", 4, 3, 1, 2, "VALID", 0},
		{"VALID overhang 1 stride 2", 4, 5, 2, 1, "VALID", 0},
		{"VALID in 0", 0, 1, 1, 1, "VALID", 0},
		{"padded empty", 0, 3, 2, 1, "1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OutputSize(tc.in, tc.k, tc.stride, tc.dil, tc.padding)
			if err != nil || got != tc.want {
				t.Fatalf("OutputSize(%d, %d, %d, %d, %q) = %d, %v; want %d", tc.in, tc.k, tc.stride, tc.dil, tc.padding, got, err, tc.want)
			}
		})
	}
	for _, bad := range []struct {
		in, k, s, d int
		p           string
	}{{3, 5, 1, 1, "VALID"}, {3, 3, 0, 1, "SAME"}, {3, 3, 1, 1, "FULL"}, {3, 3, 1, 1, "-1"}, {2, 3, 1, 2, "VALID"},
		{1, 5, 2, 1, "VALID"}, {0, 3, 1, 1, "VALID"}, {0, 4, 1, 1, "1"}} {
		if _, err := OutputSize(bad.in, bad.k, bad.s, bad.d, bad.p); err == nil {
			t.Errorf("OutputSize(%d, %d, %d, %d, %q) succeeded, want an error", bad.in, bad.k, bad.s, bad.d, bad.p)
		}
	}
}

func TestWindowAxesSamePutsOddCellAfter(t *testing.T) {
	// in 6, k 4, s 1: out 6, pad 3 → 1 before, 2 after.
	ax, err := windowAxes(new([3]axis), []int{6}, []int{4}, []int{1}, []int{1}, "SAME", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if a := ax[0]; a.Out != 6 || a.PadBefore != 1 || a.PadAfter != 2 {
		t.Fatalf("got %+v, want out 6, pad 1/2", a)
	}
	// stride larger than window: TF clamps the padding at zero.
	ax, _ = windowAxes(new([3]axis), []int{5}, []int{1}, []int{3}, []int{1}, "SAME", nil, true)
	if a := ax[0]; a.Out != 2 || a.PadBefore != 0 || a.PadAfter != 0 {
		t.Fatalf("got %+v, want out 2, no padding", a)
	}
}

func TestSpatialParamForms(t *testing.T) {
	for _, tc := range []struct {
		v      []int
		chLast bool
		want   []int
		ok     bool
	}{
		{nil, true, []int{1, 1}, true},
		{[]int{2}, true, []int{2, 2}, true},
		{[]int{2, 3}, true, []int{2, 3}, true},
		{[]int{1, 2, 3, 1}, true, []int{2, 3}, true},
		{[]int{1, 1, 2, 3}, false, []int{2, 3}, true},
		{[]int{2, 2, 3, 1}, true, nil, false},
		{[]int{1, 2, 3, 2}, true, nil, false},
		{[]int{1, 2, 3}, true, nil, false},
		{[]int{0}, true, nil, false},
	} {
		got, err := spatialParam(new([3]int), "strides", tc.v, 2, tc.chLast)
		if (err == nil) != tc.ok {
			t.Errorf("spatialParam(%v) err = %v, want ok=%v", tc.v, err, tc.ok)
			continue
		}
		if tc.ok && (got[0] != tc.want[0] || got[1] != tc.want[1]) {
			t.Errorf("spatialParam(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestValidErrorQuotesDilatedWindow(t *testing.T) {
	// 5 cells cannot hold a 3-tap window at dilation 3, which spans 7
	// (6 cells would give TF's empty output).
	_, err := windowAxes(new([3]axis), []int{5, 5}, []int{3, 3}, []int{1, 1}, []int{3, 3}, "VALID", nil, true)
	if err == nil || !strings.Contains(err.Error(), "7 cells") {
		t.Fatalf("err = %v, want it to name the 7-cell dilated window", err)
	}
}
