package data

import (
	"reflect"
	"testing"
)

// FuzzParseAugment feeds --augment values to ParseAugment: it must return
// an error or an Augment within its documented ranges whose String
// parses back to it.
func FuzzParseAugment(f *testing.F) {
	for _, s := range []string{"", "none", "flip", "shift:2", "shift:2,flip,rotate:10", "rotate:180", "rotate:0.5",
		"shift:0", "shift:65", "rotate:-5", "rotate:NaN", "flip:1", "zoom:2", ",", "shift:",
		"erase:0.5", "erase:1", "erase:0", "erase:1.5", "erase:NaN", "shift:2,flip,erase:0.25"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAugment(s)
		if err != nil {
			return
		}
		if a.Shift < 0 || a.Shift > 64 || !(a.Rotate >= 0 && a.Rotate <= 180) || !(a.Erase >= 0 && a.Erase <= 1) {
			t.Fatalf("ParseAugment(%q) = %+v, outside shift 0…64, rotate [0, 180], erase [0, 1]", s, a)
		}
		back, err := ParseAugment(a.String())
		if err != nil || back != a {
			t.Fatalf("ParseAugment(%q) = %+v; its String %q parses to %+v, %v", s, a, a.String(), back, err)
		}
	})
}

// FuzzParseNormalization feeds normalisation strings (the --normalize
// flag's and the checkpoint metadata's form) to ParseNormalization: it
// must return an error or channels finite means and positive finite
// deviations whose String parses back to the same values.
func FuzzParseNormalization(f *testing.F) {
	for _, s := range []string{"0.5;0.5", "0.1307;0.3081", "0.5,0.25,0;0.5,0.25,1", "", "1,2,3", "1,2;1,2",
		"a;1", "0;0", "0;-1", "0;NaN", "Inf;1", "1e39;1", "-0;1e-45", "0x1p-3;1"} {
		f.Add(s, 1)
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, channels int) {
		n, err := ParseNormalization(s, channels)
		if err != nil {
			return
		}
		if len(n.Mean) != channels || len(n.Std) != channels {
			t.Fatalf("ParseNormalization(%q, %d) has %d means and %d deviations", s, channels, len(n.Mean), len(n.Std))
		}
		for c := range channels {
			m, sd := float64(n.Mean[c]), float64(n.Std[c])
			if m != m || m > 3.5e38 || m < -3.5e38 || !(sd > 0) || sd > 3.5e38 {
				t.Fatalf("ParseNormalization(%q, %d) = %v, want finite means and positive finite deviations", s, channels, n)
			}
		}
		back, err := ParseNormalization(n.String(), channels)
		if err != nil || !reflect.DeepEqual(back, n) {
			t.Fatalf("ParseNormalization(%q, %d) = %v; its String %q parses to %v, %v", s, channels, n, n.String(), back, err)
		}
	})
}
