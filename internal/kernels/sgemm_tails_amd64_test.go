//go:build !purego

package kernels

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// tailEngines returns the assembly engines with tails that this CPU
// runs (skipping the test when there are none).
func tailEngines(t *testing.T) []*engine {
	t.Helper()
	var es []*engine
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		es = append(es, &avx2Engine)
	}
	if cpu.X86.HasAVX512F {
		es = append(es, &avx512Engine, &avx512NarrowEngine, &avx512SmallEngine)
	}
	if len(es) == 0 {
		t.Skip("tail kernels NOT EXECUTED: this CPU runs neither AVX2+FMA nor AVX-512F")
	}
	return es
}

// TestTailsCover: every engine with kernels that read A in place has
// tails (rows and wholeTiles read the last rows of such an A through
// them); an engine's tails are powers of two, widest first, each
// narrower than MR, and tailRows's greedy walk adds them up to every row
// count below MR.
func TestTailsCover(t *testing.T) {
	for _, e := range append(tailEngines(t), &pureGoEngine) {
		inPlace := false
		for _, row := range e.kernels[aRows:] {
			for _, k := range row {
				inPlace = inPlace || k != nil
			}
		}
		if inPlace != (len(e.tails) > 0) {
			t.Fatalf("%s: in-place kernels %v, %d tails", e.name, inPlace, len(e.tails))
		}
		if !inPlace {
			continue
		}
		for i, tl := range e.tails {
			if bits.OnesCount(uint(tl.rows)) != 1 || tl.rows >= e.mr || i > 0 && tl.rows >= e.tails[i-1].rows {
				t.Fatalf("%s: tail %d has %d rows (MR %d, tails %v)", e.name, i, tl.rows, e.mr, e.tails)
			}
		}
		for rows := 1; rows < e.mr; rows++ {
			left := rows
			for _, tl := range e.tails {
				if left >= tl.rows {
					left -= tl.rows
				}
			}
			if left != 0 {
				t.Errorf("%s: %d rows leave %d after the tails", e.name, rows, left)
			}
		}
	}
}

// TestTailRowsBits holds tailRows to the bits of the full tile's kernel:
// every row count below MR, A packed (its micro-panel, lda = MR), in
// place by rows and by columns, B packed and in place, K around the
// kernels' four-step unroll, and scaling that multiplies, accumulates
// or overwrites. The tail must give the full tile's first rows exactly,
// and leave C's other rows and the gaps of its stride untouched.
func TestTailRowsBits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 14))
	fill := func(n int) []float32 { return vecRand(r, n) }
	scales := []struct{ alpha, beta float32 }{{1, 0}, {1, 1}, {0.5, -2}}
	for _, e := range tailEngines(t) {
		mr, nr := e.mr, e.nr
		for _, k := range []int{1, 3, 4, 5, 9, 17} {
			const gap = 3
			lda := k + gap // A by rows: MR rows of k, stride lda
			ldaT := mr + gap
			ldb, ldc := nr+gap, nr+gap
			aRowsData := fill(mr * lda)
			aColsData := fill(k * ldaT)
			packed := make([]float32, mr*k)
			for p := range k {
				for i := range mr {
					packed[p*mr+i] = aRowsData[i*lda+p]
				}
			}
			bRowsData := fill(k * ldb)
			bPackedData := make([]float32, k*nr)
			for p := range k {
				copy(bPackedData[p*nr:(p+1)*nr], bRowsData[p*ldb:])
			}
			c0 := fill(mr * ldc)
			for am := range 3 {
				a, ld := packed, mr
				switch am {
				case aRows:
					a, ld = aRowsData, lda
				case aCols:
					a, ld = aColsData, ldaT
				}
				for bm := range 2 {
					b, bld := bPackedData, nr
					if bm == bRows {
						b, bld = bRowsData, ldb
					}
					for _, sc := range scales {
						want := append([]float32(nil), c0...)
						e.kernels[am][bm](k, a, ld, b, bld, want, ldc, sc.alpha, sc.beta)
						for rows := 1; rows < mr; rows++ {
							name := fmt.Sprintf("%s/am=%d/bm=%d/k=%d/alpha=%g,beta=%g/rows=%d", e.name, am, bm, k, sc.alpha, sc.beta, rows)
							got := append([]float32(nil), c0...)
							e.tailRows(rows, k, am, a, ld, bm, b, bld, got, ldc, sc.alpha, sc.beta)
							for i := range mr {
								for j := range ldc {
									w := want[i*ldc+j]
									if i >= rows || j >= nr {
										w = c0[i*ldc+j]
									}
									if g := got[i*ldc+j]; math.Float32bits(g) != math.Float32bits(w) {
										t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, g, w)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}
