//go:build !purego

package kernels

import (
	"math"
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
