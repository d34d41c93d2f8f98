package tensor

import "testing"

func TestNewChecksLength(t *testing.T) {
	if _, err := New([]int{2, 3}, make([]float32, 5)); err == nil {
		t.Fatal("New accepted 5 values for shape [2 3]")
	}
	if _, err := New([]int{2, -1}, nil); err == nil {
		t.Fatal("New accepted a negative dimension")
	}
	x, err := New([]int{2, 3}, nil)
	if err != nil || x.Len() != 6 {
		t.Fatalf("New([2 3], nil) = %v, %v", x, err)
	}
}

func TestReshape(t *testing.T) {
	x := Zeros(2, 3, 4)
	for _, tc := range []struct {
		shape []int
		want  []int
		ok    bool
	}{
		{[]int{6, 4}, []int{6, 4}, true},
		{[]int{-1, 4}, []int{6, 4}, true},
		{[]int{2, -1}, []int{2, 12}, true},
		{[]int{5, -1}, nil, false},
		{[]int{-1, -1}, nil, false},
		{[]int{25}, nil, false},
	} {
		y, err := x.Reshape(tc.shape...)
		if (err == nil) != tc.ok {
			t.Errorf("Reshape(%v) err = %v, want ok=%v", tc.shape, err, tc.ok)
			continue
		}
		if tc.ok && !SameShape(y.Shape(), tc.want) {
			t.Errorf("Reshape(%v) shape = %v, want %v", tc.shape, y.Shape(), tc.want)
		}
	}
	y, _ := x.Reshape(24)
	y.Data()[5] = 7
	if x.Data()[5] != 7 {
		t.Error("Reshape does not share data")
	}
}

func TestTruncatedNormalStaysWithinTwoSigma(t *testing.T) {
	x := Zeros(10000)
	x.RandTruncatedNormal(NewRand(1), 0.5, 0.1)
	var sum float64
	for _, v := range x.Data() {
		if v < 0.3-1e-6 || v > 0.7+1e-6 {
			t.Fatalf("value %g outside mean±2σ = [0.3, 0.7]", v)
		}
		sum += float64(v)
	}
	if m := sum / 10000; m < 0.49 || m > 0.51 {
		t.Errorf("mean = %g, want ≈ 0.5", m)
	}
}

func TestRandIsSeeded(t *testing.T) {
	a, b := Zeros(16), Zeros(16)
	a.RandNormal(NewRand(42), 0, 1)
	b.RandNormal(NewRand(42), 0, 1)
	for i := range a.Data() {
		if a.Data()[i] != b.Data()[i] {
			t.Fatal("same seed gave different values")
		}
	}
}

func TestVersion(t *testing.T) {
	r := NewRand(1)
	for _, tc := range []struct {
		name  string
		write func(x *Tensor)
	}{
		{"MarkChanged", func(x *Tensor) { x.MarkChanged() }},
		{"Fill", func(x *Tensor) { x.Fill(2) }},
		{"RandNormal", func(x *Tensor) { x.RandNormal(r, 0, 1) }},
		{"RandUniform", func(x *Tensor) { x.RandUniform(r, 0, 1) }},
		{"RandTruncatedNormal", func(x *Tensor) { x.RandTruncatedNormal(r, 0, 1) }},
		{"MarkChangedOnView", func(x *Tensor) { Must(x.Reshape(-1)).MarkChanged() }},
		{"MarkChangedOnViewOfView", func(x *Tensor) { Must(Must(x.Reshape(3, 2)).Reshape(6)).MarkChanged() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := Zeros(2, 3)
			view := Must(x.Reshape(6))
			if x.Version() != 0 || view.Version() != 0 {
				t.Fatalf("fresh tensor at version %d, view at %d; want 0", x.Version(), view.Version())
			}
			tc.write(x)
			if x.Version() != 1 || view.Version() != 1 {
				t.Fatalf("after one write: version %d, view's %d; want 1", x.Version(), view.Version())
			}
			if c := x.Clone(); c.Version() != 0 {
				t.Fatalf("clone at version %d, want a count of its own from 0", c.Version())
			}
		})
	}
}
