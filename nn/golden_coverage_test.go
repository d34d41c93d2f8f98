package nn

import (
	"fmt"
	"testing"
)

// TestGoldenCoverage guards the golden files against shrinking when they
// are regenerated: each convolution and pooling file must still hold every
// geometry the golden tests are meant to cover.
func TestGoldenCoverage(t *testing.T) {
	type geom struct {
		in, k, s, d     []int
		padding, format string
		batch, channels int
		wide            int // the most channels on either side of the op
		explicit        bool
	}
	fromConv := func(c goldConv) geom {
		n := len(c.Input.Shape) - 2
		g := geom{k: c.Filter.Shape[:n], s: c.Strides, d: c.Dilations, padding: c.Padding, format: c.DataFormat, batch: c.Input.Shape[0], explicit: c.ExplicitPaddings != nil}
		if isChannelsFirst(c.DataFormat) {
			g.in, g.channels = c.Input.Shape[2:], c.Input.Shape[1]
		} else {
			g.in, g.channels = c.Input.Shape[1:n+1], c.Input.Shape[n+1]
		}
		outC := c.Output.Shape[n+1]
		if isChannelsFirst(c.DataFormat) {
			outC = c.Output.Shape[1]
		}
		g.wide = max(g.channels, outC)
		return g
	}
	fromPool := func(c goldPool) geom {
		n := len(c.Input.Shape) - 2
		g := geom{k: c.KSize, s: c.Strides, d: make([]int, n), padding: c.Padding, format: c.DataFormat, batch: c.Input.Shape[0]}
		for i := range g.d {
			g.d[i] = 1
		}
		if isChannelsFirst(c.DataFormat) {
			g.in, g.channels = c.Input.Shape[2:], c.Input.Shape[1]
		} else {
			g.in, g.channels = c.Input.Shape[1:n+1], c.Input.Shape[n+1]
		}
		g.wide = g.channels
		return g
	}
	maxOf := func(v []int) int {
		m := 0
		for _, x := range v {
			m = max(m, x)
		}
		return m
	}
	unequal := func(v []int) bool {
		for _, x := range v {
			if x != v[0] {
				return true
			}
		}
		return false
	}
	// Properties every file must have, each a predicate on one case.
	props := []struct {
		name string
		has  func(g geom) bool
	}{
		{"SAME", func(g geom) bool { return g.padding == "SAME" }},
		{"VALID", func(g geom) bool { return g.padding == "VALID" }},
		{"stride 2", func(g geom) bool { return maxOf(g.s) == 2 }},
		{"stride 3", func(g geom) bool { return maxOf(g.s) == 3 }},
		{"unequal strides (or 1-D)", func(g geom) bool { return len(g.s) == 1 || unequal(g.s) }},
		{"odd kernel > 1", func(g geom) bool { return maxOf(g.k) > 1 && maxOf(g.k)%2 == 1 }},
		{"even kernel", func(g geom) bool { return maxOf(g.k)%2 == 0 }},
		{"window larger than input (SAME)", func(g geom) bool {
			for i := range g.in {
				if (g.k[i]-1)*g.d[i]+1 > g.in[i] && g.padding == "SAME" {
					return true
				}
			}
			return false
		}},
		{"asymmetric SAME padding", func(g geom) bool {
			if g.padding != "SAME" {
				return false
			}
			for i := range g.in {
				out := ceilDiv(g.in[i], g.s[i])
				if pad := (out-1)*g.s[i] + (g.k[i]-1)*g.d[i] + 1 - g.in[i]; pad > 0 && pad%2 == 1 {
					return true
				}
			}
			return false
		}},
		{"stride larger than window (SAME)", func(g geom) bool {
			for i := range g.in {
				if g.s[i] > (g.k[i]-1)*g.d[i]+1 && g.padding == "SAME" {
					return true
				}
			}
			return false
		}},
		{"batch > 1", func(g geom) bool { return g.batch > 1 }},
		{"channels > 1", func(g geom) bool { return g.channels > 1 }},
		{"more than 8 channels (past one AVX2 vector)", func(g geom) bool { return g.wide > 8 }},
		{"channels first", func(g geom) bool { return isChannelsFirst(g.format) }},
	}
	convOnly := []struct {
		name string
		has  func(g geom) bool
	}{
		{"dilation 2", func(g geom) bool { return maxOf(g.d) == 2 }},
		{"dilation 3", func(g geom) bool { return maxOf(g.d) == 3 }},
		{"explicit padding", func(g geom) bool { return g.explicit }},
	}
	check := func(t *testing.T, file string, gs []geom, conv bool) {
		all := props
		if conv {
			all = append(all[:len(all):len(all)], convOnly...)
		}
		for _, p := range all {
			found := false
			for _, g := range gs {
				if p.has(g) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s has no case with %s", file, p.name)
			}
		}
	}
	for _, file := range []string{"conv1d.json", "conv2d.json", "conv3d.json", "depthwise.json"} {
		t.Run(file, func(t *testing.T) {
			var gs []geom
			for _, c := range loadGolden[goldConv](t, file) {
				gs = append(gs, fromConv(c))
			}
			check(t, file, gs, true)
		})
	}
	for _, file := range []string{"max_pool.json", "avg_pool.json"} {
		t.Run(file, func(t *testing.T) {
			byRank := map[int][]geom{}
			for _, c := range loadGolden[goldPool](t, file) {
				byRank[len(c.Input.Shape)] = append(byRank[len(c.Input.Shape)], fromPool(c))
			}
			for rank := 3; rank <= 5; rank++ {
				check(t, fmt.Sprintf("%s (rank %d)", file, rank), byRank[rank], false)
			}
		})
	}
}
