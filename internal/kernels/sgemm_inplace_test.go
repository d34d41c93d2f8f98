package kernels

import "testing"

// TestReadAInPlace: the two cases of readAInPlace on the AVX-512
// engine's blocking (14×32 tile, MC = 252), from the lecture model's
// products and their neighbours on each side of the rule.
func TestReadAInPlace(t *testing.T) {
	e := &engine{name: "14x32", mr: 14, nr: 32, kc: 512, mc: 252, nc: 4096}
	for _, c := range []struct {
		name            string
		transA          bool
		m, n, lda       int
		inPlace, wholeK bool
	}{
		{"conv2 forward: 2 panels", false, 128 * 14 * 14, 64, 800, true, true},
		{"conv2 filter gradient: Aᵀ, 2 panels", true, 800, 64, 800, true, true},
		{"8 panels", false, 5000, 256, 3000, true, true},
		{"9 panels, many rows", false, 5000, 257, 3000, false, false},
		{"fc x·W: 128 rows, 32 panels", false, 128, 1024, 3136, true, false},
		{"fc g·Wᵀ: rows 4 KiB apart", false, 128, 3136, 1024, false, false},
		{"rows 8 KiB apart", false, 128, 3136, 2048, false, false},
		{"rows 4 KiB + 4 bytes apart", false, 128, 3136, 1025, false, false},
		{"rows 4 KiB − 60 bytes apart", false, 128, 3136, 1009, false, false},
		{"rows 4 KiB + 64 bytes apart", false, 128, 3136, 1040, true, false},
		{"rows 4 KiB − 64 bytes apart", false, 128, 3136, 1008, true, false},
		{"rows 2 KiB apart", false, 128, 3136, 512, true, false},
		{"MC rows", false, 252, 1024, 3136, true, false},
		{"MC+1 rows", false, 253, 1024, 3136, false, false},
		{"Aᵀ, 128 rows", true, 128, 1024, 128, false, false},
		{"fc xᵀ·g: Aᵀ, 3136 rows", true, 3136, 1024, 3136, false, false},
		{"1024³", false, 1024, 1024, 1024, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			inPlace, wholeK := e.readAInPlace(c.transA, c.m, c.n, c.lda)
			if inPlace != c.inPlace || wholeK != c.wholeK {
				t.Errorf("readAInPlace(transA=%t, m=%d, n=%d, lda=%d) = %t, %t; want %t, %t",
					c.transA, c.m, c.n, c.lda, inPlace, wholeK, c.inPlace, c.wholeK)
			}
		})
	}
}

// TestRowsAlias: strides within 64 bytes of a multiple of 4 KiB alias,
// others do not.
func TestRowsAlias(t *testing.T) {
	for _, c := range []struct {
		mr, lda int
		want    bool
	}{
		{14, 1024, true}, {14, 2048, true}, {14, 1025, true}, {14, 1039, true}, {14, 1009, true},
		{14, 1040, false}, {14, 1008, false}, {14, 3136, false}, {14, 512, false}, {14, 16, false},
		{1, 1024, false}, // one row per tile cannot conflict with itself
		{6, 4096, true},
	} {
		if got := rowsAlias(c.mr, c.lda); got != c.want {
			t.Errorf("rowsAlias(%d, %d) = %t, want %t", c.mr, c.lda, got, c.want)
		}
	}
}
