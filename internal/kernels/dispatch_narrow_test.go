package kernels

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// hasEngines reports whether this CPU and build run both assembly
// engines (the narrow-N rule needs both).
func hasEngines() bool {
	a := Available()
	return slices.Contains(a, "avx512") && slices.Contains(a, "avx2")
}

// TestNarrowRule: which engine runs a product of n columns, for the
// default and for pinned implementations.
func TestNarrowRule(t *testing.T) {
	defer restoreImpl(t)()
	if !hasEngines() {
		t.Skip("needs the avx512 and avx2 engines")
	}
	defer func(r rateRules) { rules = r }(rules)
	for _, full := range []bool{true, false} {
		rules = rulesFor(full)
		mk := rules.narrowMaxK
		for _, tc := range []struct {
			name, set string
			transA    bool
			k, n      int
			want      string // engine name
		}{
			{"default/n=1", "", false, 9, 1, "avx512-28x16"},
			{"default/n=10-dense/k=max", "", false, mk, 10, "avx512-28x16"},
			{"default/n=15/k=max", "", false, mk, 15, "avx512-28x16"},
			{"default/n=16/k=max+1", "", false, mk + 1, 16, "avx2"},
			{"default/n=10/k=32", "", false, 32, 10, map[bool]string{true: "avx512-28x16", false: "avx2"}[full]},
			{"default/n=16/k=144/transA", "", true, 144, 16, "avx512-28x16"},
			{"default/n=17", "", false, 9, 17, "avx512"},
			{"default/n=32", "", true, 9, 32, "avx512"},
			{"default/n=1024", "", false, 3136, 1024, "avx512"},
			{"pinned-avx512/n=16", "avx512", false, 9, 16, "avx512"},
			{"pinned-avx512/n=32", "avx512", false, 9, 32, "avx512"},
			{"pinned-avx2/n=16", "avx2", false, 9, 16, "avx2"},
			{"pinned-avx2/n=32", "avx2", false, 9, 32, "avx2"},
		} {
			t.Run(fmt.Sprintf("full=%v/%s", full, tc.name), func(t *testing.T) {
				if err := SetImpl(tc.set); err != nil {
					t.Fatal(err)
				}
				if tc.set == "" && Impl() != "avx512" {
					t.Skipf("default is %s here: no narrow-N rule", Impl())
				}
				if got := engineFor(tc.transA, tc.k, tc.n).name; got != tc.want {
					t.Fatalf("engineFor(%v, %d, %d) = %s, want %s", tc.transA, tc.k, tc.n, got, tc.want)
				}
				if !tc.transA {
					mr := map[string]int{"avx512": 14, "avx2": 6, "avx512-28x16": 28}[tc.want]
					if got := TileRowsFor(tc.k, tc.n); got != mr {
						t.Fatalf("TileRowsFor(%d, %d) = %d, want %d", tc.k, tc.n, got, mr)
					}
				}
				wideFamily := fmt.Sprintf("sgemm-n≤16,k≤%d|Aᵀ", mk)
				for _, family := range []string{"sgemm-n≤16", wideFamily, "sgemm-m,n≤32"} {
					_, listed := pathOf(family)
					if wantListed := tc.set == ""; listed != wantListed {
						t.Fatalf("Paths() = %v: %s listed %v, want %v", Paths(), family, listed, wantListed)
					}
				}
			})
		}
	}
}

// TestSmallRule: products of 16 or 32 rows and at most 32 columns run
// the 16×16 tile at either rate; the others keep their engines.
func TestSmallRule(t *testing.T) {
	defer defaultRules(t)()
	defer func(r rateRules) { rules = r }(rules)
	for _, full := range []bool{true, false} {
		rules = rulesFor(full)
		for _, tc := range []struct {
			transA  bool
			m, k, n int
			want    string
		}{
			{true, 16, 196, 16, "avx512-16x16"},
			{true, 32, 196, 32, "avx512-16x16"},
			{false, 16, 9, 10, "avx512-16x16"},
			{false, 32, 288, 32, "avx512-16x16"},
			{false, 16, 32, 17, "avx512-16x16"},
			{true, 17, 196, 16, "avx512-28x16"},
			{false, 10, 1024, 10, "avx2"},
			{true, 48, 196, 16, "avx512-28x16"},
			{true, 32, 196, 33, "avx512"},
		} {
			if got := engineForShape(tc.transA, tc.m, tc.k, tc.n).name; got != tc.want {
				t.Errorf("full rate %v: engineForShape(%v, %d, %d, %d) = %s, want %s", full, tc.transA, tc.m, tc.k, tc.n, got, tc.want)
			}
		}
		if impl, _ := pathOf("sgemm-m,n≤32"); impl != "avx512-16x16" {
			t.Errorf("full rate %v: Paths() = %v: want sgemm-m,n≤32 on avx512-16x16", full, Paths())
		}
	}
}

// defaultRules selects the default implementation, or skips the test
// when it has no narrow and small rules here; the returned func restores
// the implementation in use before.
func defaultRules(t *testing.T) (restore func()) {
	t.Helper()
	if !hasEngines() {
		t.Skip("needs the avx512 and avx2 engines")
	}
	restore = restoreImpl(t)
	if err := SetImpl(""); err != nil {
		restore()
		t.Fatal(err)
	}
	if narrow == nil {
		restore()
		t.Skipf("default is %s here (no full-rate AVX-512): no narrow-N rule", Impl())
	}
	return restore
}

// pathOf returns the Impl of family in Paths.
func pathOf(family string) (string, bool) {
	for _, p := range Paths() {
		if p.Family == family {
			return p.Impl, true
		}
	}
	return "", false
}

// TestNarrowSgemm: under the default rule, Sgemm, SgemmSerial and the
// packed-B products agree with SgemmRef on odd shapes on both sides of
// n = 16 and of k = 32, and give exactly the bits of the engine the rule
// names (so the same shape always runs the same kernel).
func TestNarrowSgemm(t *testing.T) {
	defer defaultRules(t)()
	i := 0
	for _, m := range []int{1, 7, 13, 15, 16, 29, 32, 200} {
		for _, n := range []int{1, 3, 10, 15, 16, 17, 31} {
			for _, k := range []int{1, 9, 32, 33, 300} {
				s := scalars[i%len(scalars)]
				g := gemmCase{transA: i%2 == 1, transB: i/2%2 == 1, m: m, n: n, k: k, alpha: s[0], beta: s[1], pad: i % 3}
				i++
				t.Run(g.String(), func(t *testing.T) {
					g.check(t, uint64(i), Sgemm)
					g.check(t, uint64(i), SgemmSerial)
					if !g.transA {
						g.check(t, uint64(i), packedBVia(t, PackB, SgemmPackedB))
					}
					want := engineForShape(g.transA, m, k, n)
					sameBits(t, g, uint64(i), Sgemm, want.sgemm)
				})
			}
		}
	}
}

// sameBits runs got and want on the same operands and compares C bit
// for bit.
func sameBits(t *testing.T, g gemmCase, seed uint64, got, want func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) {
	t.Helper()
	var outs [2][]float32
	for h, fn := range [2]func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int){got, want} {
		g.check(t, seed, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			fn(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			outs[h] = slices.Clone(c)
		})
	}
	for j := range outs[0] {
		x, y := outs[0][j], outs[1][j]
		if math.Float32bits(x) != math.Float32bits(y) && !(math.IsNaN(float64(x)) && math.IsNaN(float64(y))) {
			t.Fatalf("C[%d] = %v, the %s engine gives %v", j, x, engineForShape(g.transA, g.m, g.k, g.n).name, y)
		}
	}
}
