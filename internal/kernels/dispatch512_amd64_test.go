//go:build !purego

package kernels

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestCalibrate512 runs the calibration where it can run: the ratio of
// two measured FMA rates must be finite and between 0.5 and 3 (widths
// differ by 2; the noise of a shared machine stays well inside).
func TestCalibrate512(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("calibrate512 NOT EXECUTED: no AVX-512F on this CPU")
	}
	r := calibrate512()
	t.Logf("AVX-512 / AVX2 FMA rate: %.2f", r)
	if math.IsNaN(r) || r < 0.5 || r > 3 {
		t.Fatalf("calibrate512() = %v, want a ratio in [0.5, 3]", r)
	}
}

// TestCPUVendorFamily: CPUID's vendor is 12 printable bytes and the
// family is nonzero.
func TestCPUVendorFamily(t *testing.T) {
	v, f := cpuVendorFamily()
	t.Logf("vendor %q family %02Xh", v, f)
	if len(v) != 12 || f == 0 {
		t.Fatalf("cpuVendorFamily() = %q, %d", v, f)
	}
	for _, c := range []byte(v) {
		if c < ' ' || c > '~' {
			t.Fatalf("vendor %q is not printable", v)
		}
	}
}

// The cache sizes read at start are plausible where CPUID tells them,
// and the AVX-512 engine's blocking follows from the L2 size.
func TestCacheSizesAndBlocking(t *testing.T) {
	l1d, ways, l2 := cacheSizes()
	t.Logf("L1d %d KiB, %d ways, L2 %d KiB; avx512 KC %d, MC %d", l1d>>10, ways, l2>>10, avx512Engine.kc, avx512Engine.mc)
	if l1d != 0 && (l1d < 8<<10 || l1d > 1<<20) || l2 != 0 && (l2 < 64<<10 || l2 > 64<<20) || ways < 0 || ways > 64 {
		t.Errorf("cache sizes L1d %d bytes, %d ways, L2 %d bytes: implausible", l1d, ways, l2)
	}
	if ways != l1Ways {
		t.Errorf("l1Ways %d, cacheSizes says %d", l1Ways, ways)
	}
	if kc, mc := blocking(l2, 14, 32); avx512Engine.kc != kc || avx512Engine.mc != mc {
		t.Errorf("avx512 engine KC %d, MC %d; blocking(%d) gives %d, %d", avx512Engine.kc, avx512Engine.mc, l2, kc, mc)
	}
}

// TestAsmRequiresCheckedFeatures: every generated routine needs only CPU
// features that dispatch checks before calling it (AVX-512 loops run
// where AVX-512F, and for the masked tails BMI2, are present; no other
// AVX-512 extension is checked). avo lists each routine's needs in a
// "// Requires:" line.
func TestAsmRequiresCheckedFeatures(t *testing.T) {
	checked := map[string]bool{"AVX": true, "AVX2": true, "FMA3": true, "AVX512F": true, "BMI2": true,
		"MMX+":  true, // PREFETCHT0, on every amd64 CPU
		"CPUID": true}
	files, err := filepath.Glob("*_amd64.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated assembly found: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fn := ""
		for _, line := range strings.Split(string(src), "\n") {
			if rest, ok := strings.CutPrefix(line, "// func "); ok {
				fn, _, _ = strings.Cut(rest, "(")
			}
			if rest, ok := strings.CutPrefix(line, "// Requires: "); ok {
				for _, feat := range strings.Split(rest, ", ") {
					if !checked[feat] {
						t.Errorf("%s: %s requires %s, which dispatch does not check", f, fn, feat)
					}
				}
			}
		}
	}
}

// TestHalfRateEngine: the 14×32 engine reads B in place for products of
// any rows exactly where 512-bit FMAs run at half rate, from K-panels
// whose packed micro-panel fills more than half the L1d.
func TestHalfRateEngine(t *testing.T) {
	if got := avx512Engine.bRowsFromKC > 0; got == full512.ok {
		t.Errorf("avx512 engine: bRowsFromKC %d with full-rate 512-bit FMAs %v (%s)", avx512Engine.bRowsFromKC, full512.ok, full512.why)
	}
	for _, tc := range []struct {
		half   bool
		l1, nr int
		want   int
	}{
		{false, 32 << 10, 32, 0},
		{true, 32 << 10, 32, 129}, // Zen 4: 128×32 floats are 16 KiB
		{true, 48 << 10, 32, 193},
		{true, 32 << 10, 16, 257},
		{true, 0, 32, 1}, // L1d unknown: any panel
	} {
		if got := withRules(engine{nr: tc.nr}, rulesFor(!tc.half), tc.l1).bRowsFromKC; got != tc.want {
			t.Errorf("withRules(NR %d, half rate %v, L1d %d): bRowsFromKC %d, want %d", tc.nr, tc.half, tc.l1, got, tc.want)
		}
	}
}
