package nn

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestBroadcastShape(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b    []int
		want    []int
		wantErr string
	}{
		{"same", []int{2, 3}, []int{2, 3}, []int{2, 3}, ""},
		{"scalar", []int{}, []int{4, 5}, []int{4, 5}, ""},
		{"missing leading dims", []int{2, 3, 4}, []int{4}, []int{2, 3, 4}, ""},
		{"ones both sides", []int{2, 1, 4}, []int{3, 1}, []int{2, 3, 4}, ""},
		{"zero dim", []int{0, 3}, []int{1, 3}, []int{0, 3}, ""},
		{"zero against one", []int{1}, []int{0}, []int{0}, ""},
		{"mismatch", []int{2, 3}, []int{4}, nil, "[2 3] and [4] do not broadcast"},
		{"mismatch inner", []int{2, 3, 4}, []int{3, 3, 4}, nil, "dim 3 from the end is 2 and 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BroadcastShape(tc.a, tc.b)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tensor.SameShape(got, tc.want) {
				t.Fatalf("BroadcastShape(%v, %v) = %v, %v; want %v", tc.a, tc.b, got, err, tc.want)
			}
		})
	}
}

// TestBinaryByHand works small broadcasts out by hand.
func TestBinaryByHand(t *testing.T) {
	m := opsT([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	row := opsT([]int{3}, 10, 20, 30)
	col := opsT([]int{2, 1}, 2, -1)
	s := opsT(nil, 2)
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		f    func(a, b *tensor.Tensor) (*tensor.Tensor, error)
		a, b *tensor.Tensor
		want *tensor.Tensor
	}{
		{"Add row", Add, m, row, opsT([]int{2, 3}, 11, 22, 33, 14, 25, 36)},
		{"Add row first", Add, row, m, opsT([]int{2, 3}, 11, 22, 33, 14, 25, 36)},
		{"Sub col", Sub, m, col, opsT([]int{2, 3}, -1, 0, 1, 5, 6, 7)},
		{"Mul scalar", Mul, s, m, opsT([]int{2, 3}, 2, 4, 6, 8, 10, 12)},
		{"Mul outer", Mul, col, row, opsT([]int{2, 3}, 20, 40, 60, -10, -20, -30)},
		{"Div scalar", Div, m, s, opsT([]int{2, 3}, 0.5, 1, 1.5, 2, 2.5, 3)},
		{"Div by zero", Div, opsT([]int{3}, 1, -1, 0), opsT(nil, 0), opsT([]int{3}, float32(math.Inf(1)), float32(math.Inf(-1)), nan)},
		{"Maximum", Maximum, m, opsT([]int{3}, 2, 2, 7), opsT([]int{2, 3}, 2, 2, 7, 4, 5, 7)},
		{"Minimum", Minimum, m, opsT([]int{3}, 2, 2, 7), opsT([]int{2, 3}, 1, 2, 3, 2, 2, 6)},
		{"Maximum NaN", Maximum, opsT([]int{2}, nan, 1), opsT([]int{2}, 1, nan), opsT([]int{2}, nan, nan)},
		{"Minimum NaN", Minimum, opsT([]int{2}, nan, 1), opsT([]int{2}, 1, nan), opsT([]int{2}, nan, nan)},
		{"scalars", Add, s, s, opsT(nil, 4)},
		{"empty", Add, tensor.Zeros(0, 3), row, tensor.Zeros(0, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f(tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(got.Shape(), tc.want.Shape()) {
				t.Fatalf("shape %v, want %v", got.Shape(), tc.want.Shape())
			}
			opsClose(t, tc.name, got.Data(), tc.want.Data(), 0)
		})
	}
	t.Run("error quotes both shapes", func(t *testing.T) {
		_, err := Mul(m, opsT([]int{2}, 1, 2))
		if err == nil || !strings.Contains(err.Error(), "Mul") || !strings.Contains(err.Error(), "[2 3]") || !strings.Contains(err.Error(), "[2]") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestBinaryRunsMatchRef checks the run-based walk against the
// per-element reference on odd shapes that hit every merge pattern.
func TestBinaryRunsMatchRef(t *testing.T) {
	pairs := [][2][]int{
		{{7, 5}, {7, 5}}, {{7, 5}, {5}}, {{5}, {7, 5}}, {{7, 5}, {}}, {{}, {7, 5}},
		{{3, 1, 5}, {4, 1}}, {{3, 4, 5}, {3, 1, 5}}, {{1, 4, 1}, {3, 1, 5}}, {{2, 3, 4, 5}, {3, 1, 1}},
		{{6, 1, 1, 7}, {1, 5, 3, 1}}, {{1}, {9}}, {{9, 1}, {1}}, {{70000}, {1}}, {{300, 257}, {257}},
		{{257, 300}, {257, 1}}, {{2, 1, 3, 1, 5}, {1, 4, 1, 6, 1}},
	}
	for _, p := range pairs {
		for k := binAdd; k <= binLeft; k++ {
			name := fmt.Sprintf("%s %v %v", binNames[k], p[0], p[1])
			a, b := randT(1, -2, 2, p[0]...), randT(2, -2, 2, p[1]...)
			out, err := BroadcastShape(p[0], p[1])
			if err != nil {
				t.Fatal(err)
			}
			if k == binLeft { // BroadcastTo passes x twice
				b = a
			}
			got, want := make([]float32, tensor.Size(out)), make([]float32, tensor.Size(out))
			runBinary(k, got, out, a.Data(), a.Shape(), b.Data(), b.Shape())
			binaryRef(k, want, out, a.Data(), a.Shape(), b.Data(), b.Shape())
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: element %v = %v, reference %v", name, unravel(i, out), got[i], want[i])
				}
			}
		}
	}
}

func TestSumToShapeByHand(t *testing.T) {
	g := opsT([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	for _, tc := range []struct {
		name  string
		shape []int
		want  *tensor.Tensor
	}{
		{"same", []int{2, 3}, g},
		{"row vector", []int{3}, opsT([]int{3}, 5, 7, 9)},
		{"kept row", []int{1, 3}, opsT([]int{1, 3}, 5, 7, 9)},
		{"column", []int{2, 1}, opsT([]int{2, 1}, 6, 15)},
		{"scalar", []int{}, opsT(nil, 21)},
		{"one", []int{1}, opsT([]int{1}, 21)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SumToShape(g, tc.shape)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(got.Shape(), tc.want.Shape()) {
				t.Fatalf("shape %v, want %v", got.Shape(), tc.want.Shape())
			}
			opsClose(t, tc.name, got.Data(), tc.want.Data(), 0)
		})
	}
	for _, bad := range [][]int{{2}, {4, 2, 3}, {3, 3}, {2, 3, 1}} {
		if _, err := SumToShape(g, bad); err == nil || !strings.Contains(err.Error(), fmt.Sprint(bad)) {
			t.Errorf("SumToShape to %v: err = %v, want one quoting the shape", bad, err)
		}
	}
}

// TestMaxMinGradTies checks by hand that a tie sends the gradient to the
// first input, for Maximum and Minimum, also when b is broadcast.
func TestMaxMinGradTies(t *testing.T) {
	a := opsT([]int{2, 2}, 1, 3, 2, 0)
	b := opsT([]int{2}, 2, 0) // ties at (1,0) and (1,1)
	g := opsT([]int{2, 2}, 1, 10, 100, 1000)
	da, db, err := MaximumGrad(g, a, b)
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "Maximum da", da.Data(), []float32{0, 10, 100, 1000}, 0)
	opsClose(t, "Maximum db", db.Data(), []float32{1, 0}, 0)
	da, db, err = MinimumGrad(g, a, b)
	if err != nil {
		t.Fatal(err)
	}
	opsClose(t, "Minimum da", da.Data(), []float32{1, 0, 100, 1000}, 0)
	opsClose(t, "Minimum db", db.Data(), []float32{0, 10}, 0)
}

func TestBinaryGradsFD(t *testing.T) {
	shapes := [][2][]int{{{3, 4}, {3, 4}}, {{2, 3, 4}, {4}}, {{3, 1}, {1, 4}}, {{}, {2, 3}}, {{2, 1, 3}, {4, 1}}}
	type gradFn func(g, a, b *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error)
	shapeOnly := func(f func(g *tensor.Tensor, as, bs []int) (*tensor.Tensor, *tensor.Tensor, error)) gradFn {
		return func(g, a, b *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor, error) {
			return f(g, a.Shape(), b.Shape())
		}
	}
	for _, op := range []struct {
		name string
		fwd  func(a, b *tensor.Tensor) (*tensor.Tensor, error)
		grad gradFn
	}{
		{"Add", Add, shapeOnly(AddGrad)},
		{"Sub", Sub, shapeOnly(SubGrad)},
		{"Mul", Mul, MulGrad},
		{"Div", Div, DivGrad},
		{"Maximum", Maximum, MaximumGrad},
		{"Minimum", Minimum, MinimumGrad},
	} {
		for i, s := range shapes {
			t.Run(fmt.Sprintf("%s %v %v", op.name, s[0], s[1]), func(t *testing.T) {
				a := randT(uint64(10+i), -2, 2, s[0]...)
				b := randT(uint64(20+i), 0.5, 2, s[1]...) // away from 0 for Div
				if op.name == "Maximum" || op.name == "Minimum" {
					a = randT(uint64(10+i), -4, 4, s[0]...)
					// Keep a and b ≥ 0.05 apart so no step crosses a tie.
					out, _ := BroadcastShape(s[0], s[1])
					bb, _ := BroadcastTo(b, out)
					ab, _ := BroadcastTo(a, bb.Shape())
					for j, v := range ab.Data() {
						if d := v - bb.Data()[j]; d < 0.05 && d > -0.05 {
							t.Fatalf("inputs %v and %v are within 0.05 of a tie: pick other seeds", v, bb.Data()[j])
						}
					}
				}
				fdCheck(t, []*tensor.Tensor{a, b},
					func(xs []*tensor.Tensor) (*tensor.Tensor, error) { return op.fwd(xs[0], xs[1]) },
					func(xs []*tensor.Tensor, w *tensor.Tensor) ([]*tensor.Tensor, error) {
						da, db, err := op.grad(w, xs[0], xs[1])
						return []*tensor.Tensor{da, db}, err
					})
			})
		}
	}
}

func TestBinaryGradShapeErrors(t *testing.T) {
	a, b := tensor.Zeros(2, 3), tensor.Zeros(3)
	if _, _, err := MulGrad(tensor.Zeros(3), a, b); err == nil || !strings.Contains(err.Error(), "[2 3]") {
		t.Errorf("MulGrad with a wrong grad shape: err = %v", err)
	}
	if _, _, err := DivGrad(tensor.Zeros(2, 3), a, tensor.Zeros(2)); err == nil {
		t.Error("DivGrad with non-broadcasting inputs: no error")
	}
	if _, err := BroadcastTo(b, []int{2, 4}); err == nil || !strings.Contains(err.Error(), "[3] to [2 4]") {
		t.Errorf("BroadcastTo: err = %v", err)
	}
}
