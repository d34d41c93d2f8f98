//go:build !purego

package kernels

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestWinoAVX512YMMInVEXRange: the AVX-512 Winograd routines' YMM code
// (the group of eight channels before the masked rest) uses Y0–Y15
// only. Those instructions are AVX2's; on Y16–Y31 the assembler would
// encode them with EVEX, which needs AVX-512VL, a feature dispatch does
// not check. The generator leaves room (at most seven constants and
// nine registers of a pass), and this checks that the allocation kept
// to it.
func TestWinoAVX512YMMInVEXRange(t *testing.T) {
	src, err := os.ReadFile("vec_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	high := regexp.MustCompile(`\bY(1[6-9]|2[0-9]|3[01])\b`)
	fn, seen := "", 0
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "TEXT ·"); ok {
			fn, _, _ = strings.Cut(rest, "(")
			if strings.HasPrefix(fn, "wino") && strings.HasSuffix(fn, "AVX512") {
				seen++
			}
		}
		if strings.HasPrefix(fn, "wino") && strings.HasSuffix(fn, "AVX512") && high.MatchString(line) {
			t.Errorf("%s: %q uses a YMM register above Y15", fn, strings.TrimSpace(line))
		}
	}
	// Per scheme: input (F(4×4, 3×3) shares F(2×2, 5×5)'s), output-gradient,
	// and five output routines (plain and four epilogues), stored and
	// streamed: 2 + 3 + 3·2·5.
	if seen != 35 {
		t.Fatalf("found %d AVX-512 Winograd routines in vec_amd64.s, want 35", seen)
	}
}
