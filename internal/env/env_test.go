package env

import (
	"maps"
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
