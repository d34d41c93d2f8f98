package kernels

import (
	"strings"
	"testing"
)

func TestDecide512(t *testing.T) {
	for _, tc := range []struct {
		name       string
		avx512     bool
		vendor     string
		family     uint32
		ratio      float64 // calibrate's answer; 0: must not be called
		want       bool
		wantReason string
	}{
		{"no-avx512", false, "AuthenticAMD", 0x1a, 0, false, "no AVX-512F"},
		{"zen4", true, "AuthenticAMD", 0x19, 0, false, "AuthenticAMD family 19h: half-rate AVX-512 (by model)"},
		{"zen5", true, "AuthenticAMD", 0x1a, 0, true, "AuthenticAMD family 1Ah: full-rate AVX-512 (by model)"},
		{"intel-two-units", true, "GenuineIntel", 6, 1.96, true, "GenuineIntel family 06h: full-rate AVX-512 (measured 1.96× AVX2's FMA rate)"},
		{"intel-one-unit", true, "GenuineIntel", 6, 1.02, false, "GenuineIntel family 06h: half-rate AVX-512 (measured 1.02× AVX2's FMA rate)"},
		{"unknown-vendor", true, "SomeVendorXY", 7, 1.5, true, "full-rate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vf := func() (string, uint32) { return tc.vendor, tc.family }
			cal := func() float64 {
				if tc.ratio == 0 {
					t.Fatal("calibrated where the model decides")
				}
				return tc.ratio
			}
			d := decide512(tc.avx512, vf, cal)
			if d.ok != tc.want || !strings.Contains(d.why, tc.wantReason) {
				t.Fatalf("decide512 = %v, %q; want %v, %q", d.ok, d.why, tc.want, tc.wantReason)
			}
		})
	}
}

// TestPreferred: the default sgemm path is the widest available, at
// either rate of 512-bit FMAs (full512, set here both ways).
func TestPreferred(t *testing.T) {
	t.Logf("CPU: %s; available %v; paths %v", CPUModel(), Available(), Paths())
	defer func(d decision512) { full512 = d }(full512)
	avail := Available()
	for _, ok := range []bool{false, true} {
		full512.ok = ok
		if got := preferred(); got != avail[0] {
			t.Errorf("full-rate AVX-512 %v: preferred() = %q, want %q (available %v)", ok, got, avail[0], avail)
		}
	}
}

// TestRateRules: this CPU's rate rules are those of its rate, and each
// rate's are the ones its measurements chose.
func TestRateRules(t *testing.T) {
	if want := rulesFor(full512.ok); rules != want {
		t.Errorf("rules = %+v; the rate (%s) gives %+v", rules, CPUModel(), want)
	}
	for _, tc := range []struct {
		full bool
		want rateRules
	}{
		{true, rateRules{narrowMaxK: 32, gemv512: true}},
		{false, rateRules{narrowMaxK: 16, bPastHalfL1: true}},
	} {
		if got := rulesFor(tc.full); got != tc.want {
			t.Errorf("rulesFor(full rate %v) = %+v, want %+v", tc.full, got, tc.want)
		}
	}
}

// TestThrashL1: rows of A 4 KiB apart (give or take a line) read in
// place thrash an L1d of at most 8 ways when they outnumber its ways,
// and no other stride, tile or L1d does.
func TestThrashL1(t *testing.T) {
	for _, tc := range []struct {
		mr, lda, ways int
		want          bool
	}{
		{14, 1024, 8, true},  // Zen 4, the fc layer's weights
		{14, 1025, 8, true},  // 4 bytes past 4 KiB
		{14, 2048, 8, true},  // 8 KiB
		{28, 1024, 8, true},  // the 28×16 tile
		{14, 1040, 8, false}, // a line past 4 KiB
		{14, 1536, 8, false}, // 6 KiB
		{6, 1024, 8, false},  // the AVX2 tile fits the ways
		{8, 1024, 8, false},
		{14, 1024, 12, false}, // Zen 5: measured faster in place
		{14, 1024, 4, true},
		{14, 1024, 0, false}, // ways unknown
		{14, 15, 8, false},   // rows 60 bytes apart: contiguous
		{14, 16, 8, false},
	} {
		if got := thrashL1(tc.mr, tc.lda, tc.ways); got != tc.want {
			t.Errorf("thrashL1(%d, %d, %d) = %v, want %v", tc.mr, tc.lda, tc.ways, got, tc.want)
		}
	}
}

func TestBlocking(t *testing.T) {
	for _, tc := range []struct {
		name           string
		l2, mr, nr     int
		wantKC, wantMC int
	}{
		{"zen5 1MiB", 1 << 20, 14, 32, 512, 252},
		{"unknown", 0, 14, 32, 512, 252},
		{"512KiB", 512 << 10, 14, 32, 256, 252},
		{"2MiB", 2 << 20, 14, 32, 1024, 252},
		{"tiny", 64 << 10, 14, 32, 128, 56},
		{"huge", 64 << 20, 14, 32, 1024, 8190},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kc, mc := blocking(tc.l2, tc.mr, tc.nr)
			if kc != tc.wantKC || mc != tc.wantMC {
				t.Fatalf("blocking(%d, %d, %d) = %d, %d; want %d, %d", tc.l2, tc.mr, tc.nr, kc, mc, tc.wantKC, tc.wantMC)
			}
			if kc%16 != 0 || mc%tc.mr != 0 {
				t.Fatalf("KC %d not a multiple of 16 or MC %d not of %d", kc, mc, tc.mr)
			}
		})
	}
}

// TestSgemmReadsAInPlace: nn's MatMul swaps a dense layer's input
// gradient into W·gᵀ only where Sgemm then reads W's rows in place: not
// under "ref" nor on the packed-only pure-Go engine, and not where the
// rows alias in an L1d of few ways (thrashL1).
func TestSgemmReadsAInPlace(t *testing.T) {
	defer restoreImpl(t)()
	defer func(w int) { l1Ways = w }(l1Ways)
	for _, name := range Available() {
		if err := SetImpl(name); err != nil {
			t.Fatal(err)
		}
		for _, ways := range []int{0, 8, 12} {
			l1Ways = ways
			for _, lda := range []int{1024, 1040} {
				want := curEngine != nil && curEngine.kernels[aRows][bPacked] != nil && !thrashL1(curEngine.mr, lda, ways)
				switch {
				case name == "avx512" && ways == 8 && lda == 1024 && want,
					name == "avx2" && !want,
					(name == "purego" || name == "ref") && want:
					t.Fatalf("%s, %d ways, lda %d: the rule itself says %v", name, ways, lda, want)
				}
				// W [3136, lda] · gᵀ: 3136 rows, 128 columns, K = 1024.
				if got := SgemmReadsAInPlace(3136, 128, 1024, lda); got != want {
					t.Errorf("%s, %d ways, lda %d: %v, want %v", name, ways, lda, got, want)
				}
			}
		}
		// 4096 columns are more NR-column panels than directMaxPanels on
		// every engine, and 3136 rows more than MC: a wide product packs
		// A whatever its stride.
		if SgemmReadsAInPlace(3136, 4096, 1024, 1040) {
			t.Errorf("%s: A of 3136 rows in place for 4096 columns", name)
		}
	}
}
