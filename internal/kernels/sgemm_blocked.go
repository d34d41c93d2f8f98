package kernels

import (
	"fmt"
	"sync"

	"github.com/convnet-go/convnet/internal/parallel"
)

// The blocked Sgemm (the loop nest of Goto & van de Geijn, "Anatomy of
// high-performance matrix multiplication", 2008):
//
//	for jc over n in steps of NC:           C[:, jc:jc+NC]
//	  for pc over k in steps of KC:         pack B[pc:pc+KC, jc:jc+NC] → Bp  (KC×NC, L3)
//	    for ic over m in steps of MC:       pack A[ic:ic+MC, pc:pc+KC] → Ap  (MC×KC, L2)
//	      for jr over NC in steps of NR:    Bp micro-panel KC×NR (L1)
//	        for ir over MC in steps of MR:  kernel: C[ir:ir+MR, jr:jr+NR] = alpha·Ap·Bp + beta'·C
//
// beta' is the caller's beta on the first K-panel and 1 afterwards, so
// every element of C sees the same sequence of operations whatever the
// partition across workers: results repeat bit for bit.
//
// Packed layouts: an A micro-panel holds MR rows, stored p-major
// (Ap[p·MR+i] = op(A)[ic+ir+i, pc+p]); a B micro-panel holds NR columns,
// stored p-major (Bp[p·NR+j] = op(B)[pc+p, jc+jr+j]). Rows past m and
// columns past n are zero; their results land in a scratch tile and are
// dropped.

// microKernel computes one MR×NR tile over a K-panel of length k:
// c[i·ldc+j] = alpha·Σ_p a[p·MR+i]·b[p·NR+j] + beta·c[i·ldc+j], with
// beta == 0 meaning c is written without being read.
type microKernel func(k int, a, b, c []float32, ldc int, alpha, beta float32)

// engine is one Sgemm implementation: a micro-kernel and its blocking.
type engine struct {
	name       string
	mr, nr     int // register tile
	kc, mc, nc int // cache blocks; mc is a multiple of mr, nc of nr
	kernel     microKernel
}

// serialFlops is the m·n·k below which Sgemm stays on the caller's
// goroutine: spawning workers costs a few microseconds.
const serialFlops = 1 << 18

func (e *engine) sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkSgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	workers := parallel.Workers()
	if m*n*k < serialFlops {
		workers = 1
	}
	forRange := func(count int, fn func(lo, hi int)) {
		if workers == 1 {
			fn(0, count)
			return
		}
		parallel.For(count, 1, fn)
	}

	mr, nr := e.mr, e.nr
	ncMax := min(e.nc, roundUp(n, nr))
	kcMax := min(e.kc, k)
	bp := getBuf(kcMax * ncMax)
	defer putBuf(bp)

	mTiles := ceilDiv(m, mr)
	for jc := 0; jc < n; jc += e.nc {
		nc := min(e.nc, n-jc)
		nPanels := ceilDiv(nc, nr)
		for pc := 0; pc < k; pc += e.kc {
			kc := min(e.kc, k-pc)
			betaK := beta
			if pc > 0 {
				betaK = 1
			}
			forRange(nPanels, func(lo, hi int) {
				for q := lo; q < hi; q++ {
					packB(transB, b, ldb, pc, kc, jc+q*nr, min(nr, nc-q*nr), nr, bp[q*nr*kc:(q+1)*nr*kc])
				}
			})
			if mTiles >= workers || nPanels < workers {
				// Each worker owns a range of MR-row tiles of C and packs its own A.
				forRange(mTiles, func(lo, hi int) {
					ap := getBuf(e.mc * kc)
					defer putBuf(ap)
					e.rows(transA, lo*mr, min(hi*mr, m), pc, kc, jc, nc, 0, nPanels, alpha, a, lda, bp, betaK, c, ldc, ap)
				})
			} else {
				// Few rows, many columns: each worker owns a range of B panels
				// and packs all of A's rows itself.
				forRange(nPanels, func(lo, hi int) {
					ap := getBuf(e.mc * kc)
					defer putBuf(ap)
					e.rows(transA, 0, m, pc, kc, jc, nc, lo, hi, alpha, a, lda, bp, betaK, c, ldc, ap)
				})
			}
		}
	}
}

// rows computes C[r0:r1, jc+q0·NR : jc+min(q1·NR, nc)] for one K-panel,
// packing A in blocks of about MC rows (r1−r0 split into equal blocks so
// that no small trailing block reloads all of Bp for a few rows).
func (e *engine) rows(transA bool, r0, r1, pc, kc, jc, nc, q0, q1 int, alpha float32, a []float32, lda int, bp []float32, beta float32, c []float32, ldc int, ap []float32) {
	mr, nr := e.mr, e.nr
	blocks := ceilDiv(r1-r0, e.mc)
	step := roundUp(ceilDiv(r1-r0, blocks), mr)
	var tile []float32
	for ic := r0; ic < r1; ic += step {
		mc := min(step, r1-ic)
		tiles := ceilDiv(mc, mr)
		for t := 0; t < tiles; t++ {
			packA(transA, a, lda, ic+t*mr, min(mr, mc-t*mr), pc, kc, mr, ap[t*mr*kc:(t+1)*mr*kc])
		}
		for q := q0; q < q1; q++ {
			j := jc + q*nr
			nrCur := min(nr, jc+nc-j)
			bq := bp[q*nr*kc : (q+1)*nr*kc]
			for t := 0; t < tiles; t++ {
				i := ic + t*mr
				mrCur := min(mr, mc-t*mr)
				at := ap[t*mr*kc : (t+1)*mr*kc]
				if mrCur == mr && nrCur == nr {
					e.kernel(kc, at, bq, c[i*ldc+j:], ldc, alpha, beta)
					continue
				}
				if tile == nil {
					tile = make([]float32, mr*nr)
				}
				e.kernel(kc, at, bq, tile, nr, 1, 0)
				for ii := 0; ii < mrCur; ii++ {
					crow := c[(i+ii)*ldc+j : (i+ii)*ldc+j+nrCur]
					trow := tile[ii*nr : ii*nr+nrCur]
					if beta == 0 {
						for jj, v := range trow {
							crow[jj] = alpha * v
						}
					} else {
						for jj, v := range trow {
							crow[jj] = alpha*v + beta*crow[jj]
						}
					}
				}
			}
		}
	}
}

// packA packs rows [i0, i0+rows) of op(A), columns [pc, pc+kc), into an
// MR-row micro-panel dst (len mr·kc): dst[p·mr+i] = op(A)[i0+i, pc+p];
// rows ≥ rows are zero.
func packA(transA bool, a []float32, lda, i0, rows, pc, kc, mr int, dst []float32) {
	if rows < mr {
		clear(dst)
	}
	if transA {
		// A is k×m: row pc+p holds op(A)[:, pc+p]; copy MR contiguous values.
		for p := 0; p < kc; p++ {
			src := a[(pc+p)*lda+i0 : (pc+p)*lda+i0+rows]
			copy(dst[p*mr:p*mr+rows], src)
		}
		return
	}
	for i := 0; i < rows; i++ {
		src := a[(i0+i)*lda+pc : (i0+i)*lda+pc+kc]
		d := dst[i:]
		for p, v := range src {
			d[p*mr] = v
		}
	}
}

// packB packs columns [j0, j0+cols) of op(B), rows [pc, pc+kc), into an
// NR-column micro-panel dst (len nr·kc): dst[p·nr+j] = op(B)[pc+p, j0+j];
// columns ≥ cols are zero.
func packB(transB bool, b []float32, ldb, pc, kc, j0, cols, nr int, dst []float32) {
	if cols < nr {
		clear(dst)
	}
	if !transB {
		for p := 0; p < kc; p++ {
			src := b[(pc+p)*ldb+j0 : (pc+p)*ldb+j0+cols]
			copy(dst[p*nr:p*nr+cols], src)
		}
		return
	}
	// B is n×k: row j0+j holds op(B)[:, j0+j].
	for j := 0; j < cols; j++ {
		src := b[(j0+j)*ldb+pc : (j0+j)*ldb+pc+kc]
		d := dst[j:]
		for p, v := range src {
			d[p*nr] = v
		}
	}
}

// scaleC sets C = beta·C (C = 0 when beta == 0, ignoring NaN in C).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// checkSgemm panics with a description when the dimensions, strides or
// slice lengths cannot describe the product: the assembly kernels would
// otherwise read or write outside the slices.
func checkSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels.Sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	need := func(name string, rows, cols, ld int, s []float32) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("kernels.Sgemm: ld%s=%d is less than the %d columns of %s", name, ld, cols, name))
		}
		if want := (rows-1)*ld + cols; len(s) < want {
			panic(fmt.Sprintf("kernels.Sgemm: len(%s)=%d, want at least %d for %d×%d with ld%s=%d", name, len(s), want, rows, cols, name, ld))
		}
	}
	if transA {
		need("a", k, m, lda, a)
	} else {
		need("a", m, k, lda, a)
	}
	if transB {
		need("b", n, k, ldb, b)
	} else {
		need("b", k, n, ldb, b)
	}
	need("c", m, n, ldc, c)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// Packing buffers are recycled through a small free list rather than
// sync.Pool: the pool empties at every other GC, and fresh multi-MiB
// slices cost page faults on each Sgemm call.
var bufs struct {
	sync.Mutex
	free [][]float32
}

const maxFreeBufs = 16

func getBuf(n int) []float32 {
	bufs.Lock()
	best := -1
	for i, s := range bufs.free {
		if cap(s) >= n && (best < 0 || cap(s) < cap(bufs.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		s := bufs.free[best]
		last := len(bufs.free) - 1
		bufs.free[best] = bufs.free[last]
		bufs.free[last] = nil
		bufs.free = bufs.free[:last]
		bufs.Unlock()
		return s[:n]
	}
	bufs.Unlock()
	return make([]float32, n)
}

func putBuf(s []float32) {
	bufs.Lock()
	defer bufs.Unlock()
	if len(bufs.free) < maxFreeBufs {
		bufs.free = append(bufs.free, s[:cap(s)])
		return
	}
	// Keep the largest buffers: replace the smallest one if s is larger.
	small := 0
	for i, f := range bufs.free {
		if cap(f) < cap(bufs.free[small]) {
			small = i
		}
	}
	if cap(s) > cap(bufs.free[small]) {
		bufs.free[small] = s[:cap(s)]
	}
}
