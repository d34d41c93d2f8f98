// Package kernels holds convnet's hot loops behind plain-function seams.
// Every exported routine has a plain-loop reference twin (suffix Ref)
// that the tests use as the oracle for the fast paths.
package kernels

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices:
// op(A) is m×k (A is m×k with row stride lda, or k×m when transA), op(B)
// is k×n (B is k×n with row stride ldb, or n×k when transB), C is m×n
// with row stride ldc. With beta == 0, C is overwritten and its previous
// contents (even NaN) are ignored, as in BLAS; with alpha == 0 or k == 0
// the fast implementations do not read A and B (C = beta·C).
//
// Sgemm runs the implementation reported by Impl (AVX-512 or AVX2
// assembly, pure Go, or SgemmRef; see SetImpl and CONVNET_KERNELS), in
// parallel over GOMAXPROCS for large products; the fast implementations
// give bit-identical results for the same inputs whatever GOMAXPROCS is
// (a small C with a long K, m·n ≤ 64² and k ≥ 4096, is summed over
// K-chunks whose bounds depend only on k, in chunk order).
// Results of different implementations agree to float32 rounding. The
// fast implementations panic with a description on a negative dimension,
// a stride smaller than its row, or a slice too short for the dimensions
// and strides (a caller bug; the assembly must not run past a slice).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSerial is Sgemm on the caller's goroutine only, with the same
// results: for callers that already split their work across the workers
// (conv chunks, one per worker, each in that worker's cache).
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmSerial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmReadsAInPlace reports whether Sgemm, on a product of A (m×k, not
// transposed, row stride lda) and a transposed B of n columns, reads
// A's rows in place rather than packing them (false for "ref"): gemm's
// own choice (modesFor). Packing
// a large A costs a pass over it; a caller that can put its larger
// operand on either side asks this to choose.
func SgemmReadsAInPlace(m, n, k, lda int) bool {
	e := engineForShape(false, m, k, n)
	return e != nil && e.modesFor(false, true, m, n, k, lda).a == aRows
}

// sgemmSerial is the implementation SgemmSerial dispatches to.
var sgemmSerial = SgemmRef

// sgemm is the implementation Sgemm dispatches to, chosen at start-up
// and by SetImpl (dispatch.go).
var sgemm = SgemmRef

// SgemmRef is the plain-loop reference of Sgemm, accumulating each dot
// product in float64.
func SgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			r := alpha * float32(s)
			if beta != 0 {
				r += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = r
		}
	}
}
