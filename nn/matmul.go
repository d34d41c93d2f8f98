package nn

import (
	"fmt"

	"github.com/convnet-go/convnet/internal/kernels"
	"github.com/convnet-go/convnet/internal/parallel"
	"github.com/convnet-go/convnet/tensor"
)

// gemvMinPer is the number of multiply-adds worth a goroutine in a
// one-row MatMul.
const gemvMinPer = 1 << 16

// MatMul returns op(a)·op(b) for rank-2 tensors, like tf.linalg.matmul:
// op(a) is a, or aᵀ when transposeA, and must be [M, K]; op(b) is b, or bᵀ
// when transposeB, and must be [K, N]; the result is [M, N] with
// y[i, j] = Σ_k op(a)[i, k]·op(b)[k, j]. It runs on kernels.Sgemm.
//
// Its gradients are MatMuls too: for y = a·b, da = MatMul(g, b, false,
// true) and db = MatMul(a, g, true, false).
func MatMul(a, b *tensor.Tensor, transposeA, transposeB bool) (*tensor.Tensor, error) {
	if a == nil || b == nil {
		return nil, fmt.Errorf("nn: MatMul: a or b is nil")
	}
	if a.Rank() != 2 || b.Rank() != 2 {
		return nil, fmt.Errorf("nn: MatMul wants rank-2 a and b, got shapes %v and %v", a.Shape(), b.Shape())
	}
	m, k := a.Dim(0), a.Dim(1)
	if transposeA {
		m, k = k, m
	}
	kb, n := b.Dim(0), b.Dim(1)
	if transposeB {
		kb, n = n, kb
	}
	if k != kb {
		return nil, fmt.Errorf("nn: MatMul: inner dimensions differ: op(a) is [%d %d] (a %v, transposeA %v) but op(b) is [%d %d] (b %v, transposeB %v)",
			m, k, a.Shape(), transposeA, kb, n, b.Shape(), transposeB)
	}
	if m == 0 || n == 0 || k == 0 {
		return tensor.Zeros(m, n), nil
	}
	y := newResult(m, n) // Sgemm with beta 0 overwrites it
	if m == 1 && !transposeB {
		// One row (a is [1,K] or [K,1], K contiguous values either way):
		// a matrix-vector product that streams b once, its columns split
		// across the workers.
		yd, ad, bd := y.Data(), a.Data(), b.Data()
		const cols = 64
		parallel.For(ceilDiv(n, cols), max(1, gemvMinPer/(k*cols)), func(lo, hi int) {
			kernels.Gemv(yd[lo*cols:min(hi*cols, n)], ad, bd[lo*cols:], k, n)
		})
		return y, nil
	}
	if !transposeA && transposeB && tune.MatmulSwap && m <= tune.SwapMaxRows && m*tune.SwapRatio <= n && k >= 4*m &&
		kernels.SgemmReadsAInPlace(n, m, k, b.Dim(1)) {
		// a·bᵀ with b much taller than a (a dense layer's input gradient
		// g·Wᵀ): computing (a·bᵀ)ᵀ = b·aᵀ lets Sgemm read the big b in
		// place as the rows of its A operand instead of packing it, and
		// the transpose of the small result costs less than the packing.
		// Where Sgemm would pack b anyway (its rows would thrash L1),
		// the swap saves nothing and the transpose is lost.
		t := getScratch(m * n)
		kernels.Sgemm(false, true, n, m, k, 1, b.Data(), b.Dim(1), a.Data(), a.Dim(1), 0, *t, m)
		transpose(y.Data(), *t, n, m)
		putScratch(t)
		return y, nil
	}
	kernels.Sgemm(transposeA, transposeB, m, n, k, 1, a.Data(), a.Dim(1), b.Data(), b.Dim(1), 0, y.Data(), n)
	return y, nil
}

// transpose writes dst [cols, rows] = srcᵀ for src [rows, cols], in
// 32×32 blocks so that both sides are walked in cache-sized pieces.
func transpose(dst, src []float32, rows, cols int) {
	const blk = 32
	parallel.For(ceilDiv(rows, blk), max(1, (1<<16)/(blk*max(cols, 1))), func(lo, hi int) {
		for r0 := lo * blk; r0 < min(hi*blk, rows); r0 += blk {
			r1 := min(r0+blk, rows)
			for c0 := 0; c0 < cols; c0 += blk {
				c1 := min(c0+blk, cols)
				for r := r0; r < r1; r++ {
					row := src[r*cols : r*cols+c1]
					for c := c0; c < c1; c++ {
						dst[c*rows+r] = row[c]
					}
				}
			}
		}
	})
}
