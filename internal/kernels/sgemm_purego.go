package kernels

// Pure-Go micro-kernel: the twin of the assembly kernels, used under the
// purego build tag, on other architectures and on CPUs without AVX2+FMA.
// Its 4×4 tile keeps the 16 accumulators in registers.

// pureGoEngine shares the packing and blocking of the assembly engines.
var pureGoEngine = engine{
	name: "purego",
	mr:   4, nr: 4,
	kc: 256, mc: 128, nc: 4096, kChunk: 2048,
	kernels: [3][2]microKernel{aPacked: {bPacked: kernelGo4x4}},
}

// kernelGo4x4 is the microKernel contract for a 4×4 tile.
func kernelGo4x4(k int, a []float32, _ int, b []float32, _ int, c []float32, ldc int, alpha, beta float32) {
	a = a[:4*k]
	b = b[:4*k]
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	for ; len(a) >= 4 && len(b) >= 4; a, b = a[4:], b[4:] {
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		a0 := a[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := a[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := a[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := a[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	storeRow4(c[0*ldc:0*ldc+4], c00, c01, c02, c03, alpha, beta)
	storeRow4(c[1*ldc:1*ldc+4], c10, c11, c12, c13, alpha, beta)
	storeRow4(c[2*ldc:2*ldc+4], c20, c21, c22, c23, alpha, beta)
	storeRow4(c[3*ldc:3*ldc+4], c30, c31, c32, c33, alpha, beta)
}

// storeRow4 writes row = alpha·(v0..v3) + beta·row (beta 0: row not read).
func storeRow4(row []float32, v0, v1, v2, v3, alpha, beta float32) {
	row = row[:4]
	if beta == 0 {
		row[0], row[1], row[2], row[3] = alpha*v0, alpha*v1, alpha*v2, alpha*v3
		return
	}
	row[0] = alpha*v0 + beta*row[0]
	row[1] = alpha*v1 + beta*row[1]
	row[2] = alpha*v2 + beta*row[2]
	row[3] = alpha*v3 + beta*row[3]
}
