package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/gradcheck"
	"github.com/convnet-go/convnet/tensor"
)

func TestMatMulByHand(t *testing.T) {
	a := opsT([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	b := opsT([]int{3, 2}, 7, 8, 9, 10, 11, 12)
	y, err := MatMul(a, b, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(y.Shape(), []int{2, 2}) {
		t.Fatalf("shape %v, want [2 2]", y.Shape())
	}
	// [1 2 3]·[7 9 11] = 58, [1 2 3]·[8 10 12] = 64, [4 5 6]·… = 139, 154.
	opsClose(t, "a·b", y.Data(), []float32{58, 64, 139, 154}, 0)
}

// opsTranspose returns the transpose of an r×c row-major matrix.
func opsTranspose(m []float32, r, c int) []float32 {
	t := make([]float32, len(m))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			t[j*r+i] = m[i*c+j]
		}
	}
	return t
}

func opsMatMulNaive[T float](a, b []T, m, n, k int) []T {
	y := make([]T, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			y[i*n+j] = s
		}
	}
	return y
}

func TestMatMulTransposes(t *testing.T) {
	// One-row products (m = 1) take the matrix-vector path: wide enough
	// for several 64-column blocks, a tail and a split across workers.
	// With transposeB, a short a and a tall b (n ≥ 8m, k ≥ 4m) are
	// multiplied the other way round and transposed back.
	for _, d := range [][3]int{{1, 1, 1}, {5, 7, 3}, {13, 1, 11}, {2, 17, 1}, {0, 3, 2}, {3, 2, 0}, {1, 200, 300}, {1, 1030, 70}, {1, 9, 0}, {5, 70, 33}, {16, 1100, 70}, {40, 1000, 3}} {
		m, n, k := d[0], d[1], d[2]
		a := opsRandom(m*k, uint64(m*100+k))
		b := opsRandom(k*n, uint64(n*100+k))
		want := opsMatMulNaive(a, b, m, n, k)
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				t.Run(fmt.Sprintf("m%d_n%d_k%d_ta%v_tb%v", m, n, k, ta, tb), func(t *testing.T) {
					at := opsT([]int{m, k}, a...)
					if ta {
						at = opsT([]int{k, m}, opsTranspose(a, m, k)...)
					}
					bt := opsT([]int{k, n}, b...)
					if tb {
						bt = opsT([]int{n, k}, opsTranspose(b, k, n)...)
					}
					y, err := MatMul(at, bt, ta, tb)
					if err != nil {
						t.Fatal(err)
					}
					if !tensor.SameShape(y.Shape(), []int{m, n}) {
						t.Fatalf("shape %v, want [%d %d]", y.Shape(), m, n)
					}
					opsClose(t, "y", y.Data(), want, 1e-5)
				})
			}
		}
	}
}

// The documented gradients da = g·bᵀ and db = aᵀ·g, computed with MatMul's
// transpose flags, against central differences of Σ w·(a·b) in float64.
func TestMatMulGradientFormula(t *testing.T) {
	const m, n, k = 3, 4, 5
	a64, b64 := opsAwayFromZero(m*k, 1), opsAwayFromZero(k*n, 2)
	w, fa := gradcheck.Project(m*n, 3, func(a []float64) []float64 { return opsMatMulNaive(a, b64, m, n, k) })
	_, fb := gradcheck.Project(m*n, 3, func(b []float64) []float64 { return opsMatMulNaive(a64, b, m, n, k) })
	to32 := func(v []float64) []float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return f
	}
	to64 := func(v []float32) []float64 {
		f := make([]float64, len(v))
		for i, x := range v {
			f[i] = float64(x)
		}
		return f
	}
	a, b, g := opsT([]int{m, k}, to32(a64)...), opsT([]int{k, n}, to32(b64)...), opsT([]int{m, n}, to32(w)...)
	da, err := MatMul(g, b, false, true)
	if err != nil {
		t.Fatal(err)
	}
	db, err := MatMul(a, g, true, false)
	if err != nil {
		t.Fatal(err)
	}
	loose := gradcheck.Options{Atol: 1e-5, Rtol: 1e-5} // da, db are float32
	if err := gradcheck.Check(fa, a64, to64(da.Data()), loose); err != nil {
		t.Errorf("da: %v", err)
	}
	if err := gradcheck.Check(fb, b64, to64(db.Data()), loose); err != nil {
		t.Errorf("db: %v", err)
	}
}

func TestMatMulErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		a, b   *tensor.Tensor
		ta, tb bool
		quote  string
	}{
		{"rank 3", tensor.Zeros(2, 3, 1), tensor.Zeros(3, 2), false, false, "[2 3 1]"},
		{"rank 1", tensor.Zeros(2, 3), tensor.Zeros(3), false, false, "[3]"},
		{"inner", tensor.Zeros(2, 3), tensor.Zeros(2, 3), false, false, "[2 3]"},
		{"inner after transpose", tensor.Zeros(2, 3), tensor.Zeros(3, 2), true, false, "transposeA true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MatMul(tc.a, tc.b, tc.ta, tc.tb)
			if err == nil || !strings.Contains(err.Error(), tc.quote) {
				t.Errorf("error %v, want one quoting %q", err, tc.quote)
			}
		})
	}
}

// The swapped evaluation of a·bᵀ agrees with the direct one to float32
// rounding on shapes that take it, including ones with partial 32×32
// transpose blocks and splits across workers.
func TestMatMulSwapMatchesDirect(t *testing.T) {
	for _, d := range [][3]int{{1, 8, 5}, {7, 64, 29}, {33, 300, 140}, {128, 3136, 512}} {
		m, n, k := d[0], d[1], d[2]
		t.Run(fmt.Sprintf("m%d_n%d_k%d", m, n, k), func(t *testing.T) {
			a := opsT([]int{m, k}, opsRandom(m*k, 1)...)
			b := opsT([]int{n, k}, opsRandom(n*k, 2)...)
			defer func(saved tuning) { tune = saved }(tune)
			tune.SwapRatio = 8 // so that every shape here takes it
			var ys [2][]float32
			for i, sw := range []bool{false, true} {
				tune.MatmulSwap = sw
				y, err := MatMul(a, b, false, true)
				if err != nil {
					t.Fatal(err)
				}
				ys[i] = y.Data()
			}
			opsClose(t, "swapped", ys[1], ys[0], 1e-5)
		})
	}
}
