package models

import (
	"strings"
	"testing"

	"github.com/convnet-go/convnet/tensor"
)

func TestVGGShapesAndErrors(t *testing.T) {
	m, err := NewVGG(VGGConfig{Input: [3]int{28, 28, 1}, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := m.Shapes([]int{5, 28, 28, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"s1pool": {5, 14, 14, 32}, "s2pool": {5, 7, 7, 64}, "s3pool": {5, 3, 3, 128},
		"flatten": {5, 1152}, "fc": {5, 256}, "logits": {5, 10}}
	for _, s := range shapes {
		if w, ok := want[s.Name]; ok && !tensor.SameShape(s.Shape, w) {
			t.Errorf("%s: shape %v, want %v", s.Name, s.Shape, w)
		}
	}
	// Three stages of two convolutions: 6 kernels (no bias) and 6 BN γ, β,
	// then fc and logits kernels and biases.
	if n := len(m.Variables()); n != 6+2*6+4 {
		t.Errorf("%d trainable variables, want 22", n)
	}
	if n := len(m.NonTrainable()); n != 2*6 {
		t.Errorf("%d non-trainable weights, want 12 moving statistics", n)
	}
	var names []string
	for _, v := range m.Variables() {
		if strings.HasSuffix(v.Name(), "/kernel") {
			names = append(names, strings.TrimSuffix(v.Name(), "/kernel"))
		}
	}
	if got, want := strings.Join(names, " "), "s1c1 s1c2 s2c1 s2c2 s3c1 s3c2 fc logits"; got != want {
		t.Errorf("kernels %s, want %s", got, want)
	}
	for _, tc := range []struct {
		name string
		cfg  VGGConfig
		want string
	}{
		{"classes", VGGConfig{Input: [3]int{8, 8, 1}}, "at least one class"},
		{"input", VGGConfig{Input: [3]int{8, 0, 1}, Classes: 2}, "positive sizes"},
		{"no stages", VGGConfig{Input: [3]int{8, 8, 1}, Classes: 2, Stages: []int{}}, "at least one stage"},
		{"convs", VGGConfig{Input: [3]int{8, 8, 1}, Classes: 2, Convs: -1}, "must be positive"},
		{"units", VGGConfig{Input: [3]int{8, 8, 1}, Classes: 2, Units: -3}, "must be positive"},
		{"too small", VGGConfig{Input: [3]int{8, 8, 1}, Classes: 2, Stages: []int{4, 4, 4, 4}}, "too small for 4 stages"},
		{"dropout", VGGConfig{Input: [3]int{8, 8, 1}, Classes: 2, DropoutRate: 1}, "dropout rate"},
		{"filters", VGGConfig{Input: [3]int{8, 8, 1}, Classes: 2, Stages: []int{4, 0}}, "s2c1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewVGG(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
