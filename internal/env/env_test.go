package env

import (
	"maps"
	"strings"
	"testing"
)

func TestDebugSwitches(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        map[string]bool
	}{
		{"unset", "", map[string]bool{}},
		{"one", "plan", map[string]bool{"plan": true}},
		{"several with spaces", " plan , other,,", map[string]bool{"plan": true, "other": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := debugSwitches(tc.value); !maps.Equal(got, tc.want) {
				t.Errorf("debugSwitches(%q) = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

// FuzzDebugSwitches: any CONVNET_DEBUG value splits into trimmed,
// non-empty switch names, each of which the value contains.
func FuzzDebugSwitches(f *testing.F) {
	for _, s := range []string{"", "plan", " plan , other,,", ",,,", "plan\x00,\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for name := range debugSwitches(v) {
			if name == "" || strings.TrimSpace(name) != name || strings.Contains(name, ",") || !strings.Contains(v, name) {
				t.Fatalf("debugSwitches(%q) has switch %q", v, name)
			}
		}
	})
}
