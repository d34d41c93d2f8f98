package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestTransposeByHand(t *testing.T) {
	x := opsT([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	y, err := Transpose(x, []int{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "2-D", y.Data(), []float32{1, 4, 2, 5, 3, 6}, 0)
	z := opsT([]int{2, 2, 2}, 0, 1, 2, 3, 4, 5, 6, 7)
	for _, tc := range []struct {
		perm []int
		want []float32
	}{
		{nil, []float32{0, 4, 2, 6, 1, 5, 3, 7}},
		{[]int{0, 2, 1}, []float32{0, 2, 1, 3, 4, 6, 5, 7}},
		{[]int{1, 0, 2}, []float32{0, 1, 4, 5, 2, 3, 6, 7}},
		{[]int{0, 1, 2}, []float32{0, 1, 2, 3, 4, 5, 6, 7}},
	} {
		y, err := Transpose(z, tc.perm)
		if err != nil {
			t.Fatal(err)
		}
		opsClose(t, fmt.Sprint(tc.perm), y.Data(), tc.want, 0)
	}
	for _, bad := range [][]int{{0}, {0, 0}, {1, 2}, {0, 1, 2}, {}} {
		if _, err := Transpose(x, bad); err == nil || !strings.Contains(err.Error(), "[2 3]") {
			t.Errorf("perm %v: err = %v", bad, err)
		}
	}
}

// permutations returns every permutation of 0 … n−1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestTransposeMatchesRef(t *testing.T) {
	for _, s := range [][]int{{7}, {3, 5}, {2, 1, 5}, {2, 3, 4, 5}, {3, 1, 4, 1, 2}, {129, 257}} {
		x := randT(11, -1, 1, s...)
		for _, p := range permutations(len(s)) {
			out := make([]int, len(s))
			for i, q := range p {
				out[i] = s[q]
			}
			got, want := make([]float32, x.Len()), make([]float32, x.Len())
			transposeInto(got, x.Data(), s, p)
			transposeRef(want, x.Data(), s, p)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%v perm %v: element %v = %v, reference %v", s, p, unravel(i, out), got[i], want[i])
				}
			}
		}
	}
}

func TestConcatSplitSliceByHand(t *testing.T) {
	a := opsT([]int{2, 2}, 1, 2, 3, 4)
	b := opsT([]int{2, 1}, 5, 6)
	c, err := Concat([]*tensor.Tensor{a, b}, -1)
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "Concat axis -1", c.Data(), []float32{1, 2, 5, 3, 4, 6}, 0)
	if !tensor.SameShape(c.Shape(), []int{2, 3}) {
		t.Fatalf("Concat shape %v", c.Shape())
	}
	r, err := Concat([]*tensor.Tensor{a, opsT([]int{1, 2}, 7, 8)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "Concat axis 0", r.Data(), []float32{1, 2, 3, 4, 7, 8}, 0)
	parts, err := Split(c, []int{1, -1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "Split 0", parts[0].Data(), []float32{1, 3}, 0)
	opsClose(t, "Split 1", parts[1].Data(), []float32{2, 5, 4, 6}, 0)
	s, err := Slice(opsT([]int{3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9), []int{1, 1}, []int{-1, 1})
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "Slice", s.Data(), []float32{5, 8}, 0)
	g, err := SliceGrad(opsT([]int{2, 1}, 10, 20), []int{3, 3}, []int{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "SliceGrad", g.Data(), []float32{0, 0, 0, 0, 10, 0, 0, 20, 0}, 0)

	for _, tc := range []struct {
		name, want string
		err        error
	}{
		{"Concat mismatch", "tensor 1 has shape [2 1]", errOf(Concat([]*tensor.Tensor{a, b}, 0))},
		{"Concat axis", "axis 2 out of range", errOf(Concat([]*tensor.Tensor{a, b}, 2))},
		{"Concat none", "no tensors", errOf(Concat(nil, 0))},
		{"Concat rank", "tensor 1 has shape [2]", errOf(Concat([]*tensor.Tensor{a, opsT([]int{2}, 1, 2)}, 0))},
		{"Split sum", "do not add up", errOf2(Split(a, []int{1, 2}, 0))},
		{"Split two -1", "bad size", errOf2(Split(a, []int{-1, -1}, 0))},
		{"Slice past end", "want 0 ≤ begin", errOf(Slice(a, []int{1, 0}, []int{2, 1}))},
		{"Slice rank", "need 2 entries", errOf(Slice(a, []int{0}, []int{1}))},
		{"SliceGrad", "does not fit", errOf(SliceGrad(a, []int{2, 2}, []int{1, 0}))},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
}

func errOf(_ *tensor.Tensor, err error) error    { return err }
func errOf2(_ []*tensor.Tensor, err error) error { return err }

// TestPadByHand uses the example of tf.pad's documentation.
func TestPadByHand(t *testing.T) {
	x := opsT([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	p := [][2]int{{1, 1}, {2, 2}}
	for _, tc := range []struct {
		mode string
		want []float32
	}{
		{"CONSTANT", []float32{
			9, 9, 9, 9, 9, 9, 9,
			9, 9, 1, 2, 3, 9, 9,
			9, 9, 4, 5, 6, 9, 9,
			9, 9, 9, 9, 9, 9, 9}},
		{"REFLECT", []float32{
			6, 5, 4, 5, 6, 5, 4,
			3, 2, 1, 2, 3, 2, 1,
			6, 5, 4, 5, 6, 5, 4,
			3, 2, 1, 2, 3, 2, 1}},
		{"symmetric", []float32{
			2, 1, 1, 2, 3, 3, 2,
			2, 1, 1, 2, 3, 3, 2,
			5, 4, 4, 5, 6, 6, 5,
			5, 4, 4, 5, 6, 6, 5}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			y, err := Pad(x, p, tc.mode, 9)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(y.Shape(), []int{4, 7}) {
				t.Fatalf("shape %v", y.Shape())
			}
			opsClose(t, tc.mode, y.Data(), tc.want, 0)
			// The gradient of Σ Pad(x) counts the copies of each element.
			g, err := PadGrad(tensor.Full(1, 4, 7), x.Shape(), p, tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			count := make([]float32, 6)
			for _, v := range y.Data() {
				if v != 9 {
					count[int(v)-1]++
				}
			}
			opsClose(t, "PadGrad counts", g.Data(), count, 0)
		})
	}
	for _, tc := range []struct {
		name, mode, want string
		p                [][2]int
	}{
		{"reflect too wide", "REFLECT", "≤ 1 for REFLECT", [][2]int{{0, 0}, {2, 0}}},
		{"symmetric too wide", "SYMMETRIC", "≤ 2 for SYMMETRIC", [][2]int{{3, 0}, {0, 0}}},
		{"negative", "CONSTANT", "want ≥ 0", [][2]int{{-1, 0}, {0, 0}}},
		{"rank", "CONSTANT", "1 paddings for shape [2 3]", [][2]int{{1, 1}}},
		{"mode", "WRAP", `mode "WRAP"`, p},
	} {
		x := x
		if tc.name == "reflect too wide" {
			x = opsT([]int{1, 2}, 1, 2)
		}
		if _, err := Pad(x, tc.p, tc.mode, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestShapeOpsGradsFD(t *testing.T) {
	x := randT(21, -1, 1, 2, 3, 4)
	one := func(f func(*tensor.Tensor) (*tensor.Tensor, error), g func(w *tensor.Tensor) (*tensor.Tensor, error)) (func([]*tensor.Tensor) (*tensor.Tensor, error), func([]*tensor.Tensor, *tensor.Tensor) ([]*tensor.Tensor, error)) {
		return func(xs []*tensor.Tensor) (*tensor.Tensor, error) { return f(xs[0]) },
			func(_ []*tensor.Tensor, w *tensor.Tensor) ([]*tensor.Tensor, error) {
				d, err := g(w)
				return []*tensor.Tensor{d}, err
			}
	}
	perm := []int{2, 0, 1}
	inv, _ := InvertPermutation(perm)
	cases := []struct {
		name string
		fwd  func(*tensor.Tensor) (*tensor.Tensor, error)
		back func(w *tensor.Tensor) (*tensor.Tensor, error)
	}{
		{"Transpose", func(x *tensor.Tensor) (*tensor.Tensor, error) { return Transpose(x, perm) },
			func(w *tensor.Tensor) (*tensor.Tensor, error) { return Transpose(w, inv) }},
		{"Slice", func(x *tensor.Tensor) (*tensor.Tensor, error) { return Slice(x, []int{1, 0, 1}, []int{1, -1, 2}) },
			func(w *tensor.Tensor) (*tensor.Tensor, error) { return SliceGrad(w, x.Shape(), []int{1, 0, 1}) }},
	}
	for _, mode := range []string{"CONSTANT", "REFLECT", "SYMMETRIC"} {
		p := [][2]int{{1, 0}, {2, 1}, {0, 3}}
		cases = append(cases, struct {
			name string
			fwd  func(*tensor.Tensor) (*tensor.Tensor, error)
			back func(w *tensor.Tensor) (*tensor.Tensor, error)
		}{"Pad " + mode, func(x *tensor.Tensor) (*tensor.Tensor, error) { return Pad(x, p, mode, 0.5) },
			func(w *tensor.Tensor) (*tensor.Tensor, error) { return PadGrad(w, x.Shape(), p, mode) }})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, b := one(tc.fwd, tc.back)
			fdCheck(t, []*tensor.Tensor{x}, f, b)
		})
	}
	t.Run("Concat and Split", func(t *testing.T) {
		y := randT(22, -1, 1, 2, 5, 4)
		fdCheck(t, []*tensor.Tensor{x, y}, func(xs []*tensor.Tensor) (*tensor.Tensor, error) {
			c, err := Concat(xs, 1)
			if err != nil {
				return nil, err
			}
			parts, err := Split(c, []int{4, 4}, 1) // a different cut: exercises both directions
			if err != nil {
				return nil, err
			}
			return Concat([]*tensor.Tensor{parts[1], parts[0]}, -1)
		}, func(xs []*tensor.Tensor, w *tensor.Tensor) ([]*tensor.Tensor, error) {
			gp, err := Split(w, []int{4, 4}, -1)
			if err != nil {
				return nil, err
			}
			gc, err := Concat([]*tensor.Tensor{gp[1], gp[0]}, 1)
			if err != nil {
				return nil, err
			}
			return Split(gc, []int{3, 5}, 1)
		})
	})
}
